"""Where a batch of SEC payloads comes from: EDGAR live, or a replayed folder.

Each source hands the ingest flow payload files (with `kind` and `cik` in their metadata) and
notes worth a log line; everything after that is one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from pipeline.errors import Throttled, TransientSourceError
from pipeline.raw_zone import PayloadFile, list_payloads, sha256_bytes, store, utc_now
from pipeline.settings import Settings
from pipeline.sources.sec import (
    KINDS,
    Fetched,
    SecClient,
    archive_url,
    companyfacts_url,
    padded_cik,
    submissions_url,
)
from pipeline.parsers.sec_payloads import archive_names, identify

# url -> {"etag", "last_modified", "sha256"} of the last payload loaded from it (meta.sec_http).
Validators = Mapping[str, Mapping[str, str | None]]


@dataclass
class SecBatch:
    payloads: list[PayloadFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class FilingSource(Protocol):
    mode: str

    def payloads(self, settings: Settings, companies: pd.DataFrame, known: Validators) -> SecBatch:
        """Payload files for this batch, stored in (or already part of) a raw zone."""
        ...


def _retry_transient(task, task_run, state) -> bool:
    # Throttling is waited out inside the client; retrying it again would only extend SEC's block.
    error = state.result(raise_on_failure=False)
    return isinstance(error, TransientSourceError) and not isinstance(error, Throttled)


@task(cache_policy=NO_CACHE)
def fetch(client: SecClient, url: str, subject: str, validators: Mapping[str, str | None] | None) -> Fetched | None:
    return client.get(url, subject, validators)


@dataclass(frozen=True)
class SecFilings:
    """Fetch each company's submissions (and the archive files they list) and companyfacts.

    A payload SEC reports unchanged (304), or whose bytes hash to what was last loaded from the
    same URL, is neither stored nor loaded again.
    """

    client: SecClient
    mode: str = "live"

    def payloads(self, settings: Settings, companies: pd.DataFrame, known: Validators) -> SecBatch:
        get = fetch.with_options(
            retries=settings.fetch_retries,
            retry_delay_seconds=exponential_backoff(settings.retry_backoff_seconds),
            retry_condition_fn=_retry_transient,
        )
        batch = SecBatch()
        for company in companies.itertuples():
            cik = padded_cik(company.cik)
            subject = f"{company.ticker} (CIK {cik})"
            submissions = self.keep(get, settings, batch, known, submissions_url(cik),
                                    f"submissions for {subject}", "submissions", company)
            for name in archive_names(submissions) if submissions else ():
                self.keep(get, settings, batch, known, archive_url(name), f"{name} for {subject}",
                          "submissions_archive", company)
            self.keep(get, settings, batch, known, companyfacts_url(cik), f"companyfacts for {subject}",
                      "companyfacts", company)
        return batch

    def keep(self, get, settings: Settings, batch: SecBatch, known: Validators, url: str, subject: str,
             kind: str, company) -> PayloadFile | None:
        before = known.get(url)
        try:
            fetched = get(self.client, url, subject, before)
        except TransientSourceError as exc:
            raise type(exc)(f"{exc}; gave up after {settings.fetch_retries + 1} attempts") from None
        if fetched is None or (before and before.get("sha256") == sha256_bytes(fetched.body)):
            batch.notes.append(f"{subject}: unchanged since the last load")
            return None
        received_at = utc_now()
        folder = "companyfacts" if kind == "companyfacts" else "submissions"
        meta = {"source": "sec", "kind": kind, "cik": int(company.cik), "ticker": company.ticker, "url": url,
                "etag": fetched.etag, "last_modified": fetched.last_modified,
                "received_at": received_at.isoformat()}
        stem = f"{url.rsplit('/', 1)[-1].removesuffix('.json')}.{received_at:%Y%m%dT%H%M%SZ}"
        payload = store(settings.raw_dir / "sec" / folder, stem, ".json", fetched.body, meta)
        batch.payloads.append(payload)
        return payload


@dataclass(frozen=True)
class ReplaySecFilings:
    """Every SEC payload under DIR/sec/companyfacts and DIR/sec/submissions (the raw-zone layout)."""

    directory: Path
    mode: str = "replay"

    def payloads(self, settings: Settings, companies: pd.DataFrame, known: Validators) -> SecBatch:
        folder = self.directory / "sec"
        if not folder.is_dir():
            return SecBatch(notes=[f"{self.directory} has no sec/ folder: no SEC filings to replay"])
        batch = SecBatch()
        for kind in KINDS:
            if (folder / kind).is_dir():
                batch.payloads += [PayloadFile(p.path, p.sha256, {**p.meta, **identify(p.path, kind)})
                                   for p in list_payloads(folder / kind, (".json",))]
        present = {p.path.name.split(".", 1)[0] for p in batch.payloads if p.meta["kind"] == "submissions_archive"}
        for payload in batch.payloads:
            if payload.meta["kind"] == "submissions":
                batch.notes += [f"{payload.path.name} lists {name}, which is not in {folder / 'submissions'}; "
                                "its older filings are not loaded" for name in archive_names(payload)
                                if name.removesuffix(".json") not in present]
        return batch
