"""Where a batch of SEC payloads comes from: EDGAR live, or a replayed folder.

Each source hands the ingest step payload files (with `kind` and `cik` in their metadata), the
companies the batch answers for, those it could not fetch, and notes worth a log line;
everything after that is one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import pandas as pd

from pipeline.payloads.raw_zone import PayloadFile, list_payloads, store
from pipeline.payloads.sec_payloads import archive_names, identify
from pipeline.runtime.errors import MissingData, SourceError
from pipeline.runtime.rate_limit import RateLimit
from pipeline.runtime.retry import retrying
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.sec import (
    KINDS,
    SEC_RATE,
    SecClient,
    archive_url,
    companyfacts_url,
    padded_cik,
    submissions_url,
)
from warehouse.files import sha256_bytes

# url -> {"etag", "last_modified", "sha256"} of the last payload loaded from it (meta.sec_http).
Validators = Mapping[str, Mapping[str, str | None]]


class Company(NamedTuple):
    ticker: str
    cik: int


@dataclass
class SecBatch:
    payloads: list[PayloadFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The CIKs the batch answers for: each company fetched (changed or not), or replayed.
    asked: set[int] = field(default_factory=set)
    # CIK -> why SEC delivered nothing for the company (a 404: no such filer, or no XBRL facts).
    failed: dict[int, SourceError] = field(default_factory=dict)


@runtime_checkable
class FilingSource(Protocol):
    @property
    def mode(self) -> str: ...  # read-only: a frozen dataclass's field satisfies it

    def payloads(
        self, settings: Settings, companies: pd.DataFrame, known: Validators, steps: Steps = DIRECT
    ) -> SecBatch:
        """Payload files for this batch, stored in (or already part of) a raw zone."""
        ...


def fetch_company(client: SecClient, settings: Settings, known: Validators, company: Company) -> SecBatch:
    """One company's submissions (and the archive files they list) and companyfacts, each stored
    in the raw zone unless SEC reports it unchanged (304) or its bytes hash to what was last loaded
    from the same URL. A listed archive file SEC does not serve is a note, as in a replay; a
    submissions or companyfacts SEC does not have fails the company alone, like an unknown ticker.
    Any other failure (throttling, the network) fails the run: it would fail every company."""
    batch = SecBatch(asked={company.cik})
    cik = padded_cik(company.cik)
    subject = f"{company.ticker} (CIK {cik})"

    def keep(url: str, what: str, kind: str) -> PayloadFile | None:
        before = known.get(url)
        fetched = retrying(
            lambda: client.get(url, f"{what} for {subject}", before),
            settings.fetch_retries,
            settings.retry_backoff_seconds,
            f"SEC ({what} for {subject})",
            retry_throttled=False,
        )
        if fetched is None or (before and before.get("sha256") == sha256_bytes(fetched.body)):
            batch.notes.append(f"{what} for {subject}: unchanged since the last load")
            return None
        received_at = settings.clock.stamp()
        meta = {
            "source": "sec",
            "kind": kind,
            "cik": company.cik,
            "ticker": company.ticker,
            "url": url,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "received_at": received_at.isoformat(),
        }
        stem = f"{url.rsplit('/', 1)[-1].removesuffix('.json')}.{received_at:%Y%m%dT%H%M%SZ}"
        folder = "companyfacts" if kind == "companyfacts" else "submissions"
        payload = store(settings.paths.raw / "sec" / folder, stem, ".json", fetched.body, meta)
        batch.payloads.append(payload)
        return payload

    try:
        submissions = keep(submissions_url(cik), "submissions", "submissions")
        for name in archive_names(submissions) if submissions else ():
            try:
                keep(archive_url(name), name, "submissions_archive")
            except MissingData:  # SEC lists the file but does not serve it: the CIK is right, the rest still loads
                batch.notes.append(
                    f"the submissions for {subject} list {name}, which SEC answered with 404 at "
                    f"{archive_url(name)}; its older filings are not loaded"
                )
        keep(companyfacts_url(cik), "companyfacts", "companyfacts")
    except MissingData as exc:
        batch.failed[company.cik] = exc
    return batch


@dataclass(frozen=True)
class SecFilings:
    """Fetch every company's payloads from EDGAR (see fetch_company)."""

    client: SecClient
    mode: str = "live"

    def payloads(
        self, settings: Settings, companies: pd.DataFrame, known: Validators, steps: Steps = DIRECT
    ) -> SecBatch:
        rows = [Company(str(c.ticker), int(c.cik)) for c in companies.itertuples()]
        client = self.client.rate_limited(steps.limiter(RateLimit(SEC_RATE, settings.sec_requests_per_second)))
        batches = steps.map(partial(fetch_company, client, settings, known), rows)
        return SecBatch(
            [p for b in batches for p in b.payloads],
            [n for b in batches for n in b.notes],
            {cik for b in batches for cik in b.asked},
            {cik: error for b in batches for cik, error in b.failed.items()},
        )


@dataclass(frozen=True)
class ReplaySecFilings:
    """Every SEC payload under DIR/sec/companyfacts and DIR/sec/submissions (the raw-zone layout)."""

    directory: Path
    mode: str = "replay"

    def payloads(
        self, settings: Settings, companies: pd.DataFrame, known: Validators, steps: Steps = DIRECT
    ) -> SecBatch:
        folder = self.directory / "sec"
        if not folder.is_dir():
            return SecBatch(notes=[f"{self.directory} has no sec/ folder: no SEC filings to replay"])
        batch = SecBatch()
        for kind in KINDS:
            if (folder / kind).is_dir():
                batch.payloads += [
                    PayloadFile(p.path, p.sha256, {**p.meta, **identify(p.path, kind)})
                    for p in list_payloads(folder / kind, (".json",))
                ]
        batch.asked = {int(p.meta["cik"]) for p in batch.payloads}
        present = {p.path.name.split(".", 1)[0] for p in batch.payloads if p.meta["kind"] == "submissions_archive"}
        for payload in batch.payloads:
            if payload.meta["kind"] == "submissions":
                batch.notes += [
                    f"{payload.path.name} lists {name}, which is not in {folder / 'submissions'}; "
                    "its older filings are not loaded"
                    for name in archive_names(payload)
                    if name.removesuffix(".json") not in present
                ]
        return batch
