"""Ingesting SEC filings: payloads -> one validated batch -> raw.xbrl_facts and raw.filings.

A payload whose hash was loaded before is skipped: an unchanged replay or fetch loads nothing
again. The company list says whose filings are fetched; the build loads it into raw.companies.

A company loads whole or not at all. One whose payload does not read or holds a fact failing a
critical expectation, or that SEC has no payload for, is named in the run with why
(meta.runs.failed, `CIK########## TICKER`), its refused payloads of this run's raw zone
quarantined (pipeline/payloads/raw_zone.py), and the other companies load. When no company the batch
answers for loads, the run fails, as it does when no ticker brings prices. A fact failing a
warning loads, flagged in raw.xbrl_facts.flags.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from expectations import raw_xbrl_facts
from expectations.validate import WARNING, critical_summary, findings, flagged
from pipeline.payloads import seeds
from pipeline.payloads.raw_zone import (
    Loaded,
    PayloadFile,
    loaded_payloads,
    note_quarantined,
    quarantine,
    quarantine_failing,
    quarantine_note,
)
from pipeline.payloads.sec_payloads import read_companyfacts, read_submissions
from pipeline.runtime.errors import PayloadError, PipelineError, ValidationFailed, every_one_failed
from pipeline.runtime.run_status import named
from pipeline.runtime.runs import Outcome, check, log_warnings, record, recorded_run
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.filings import FilingSource, ReplaySecFilings, SecFilings, Validators
from pipeline.sources.sec import live_client
from warehouse.connection import connect, transaction
from warehouse.load import upsert


@dataclass(frozen=True)
class FilingsResult:
    run_id: str
    payloads: int
    facts: int
    filings: int
    notes: tuple[str, ...]
    # The companies that did not load (`CIK########## TICKER`), each with why; the others loaded.
    failed: Mapping[str, str] = field(default_factory=dict)


log = logging.getLogger(__name__)


def live_filings(settings: Settings) -> SecFilings:
    """The live source; fails at once, with no request made, when the User-Agent is not set."""
    return SecFilings(live_client(settings))


def ingest_filings(
    settings: Settings, source: FilingSource, run_id: str | None = None, steps: Steps = DIRECT
) -> FilingsResult:
    with recorded_run(settings, "ingest_filings", source.mode, run_id) as run:
        outcomes: list = []
        companies = seeds.validated(seeds.COMPANIES, settings, run.run_id, outcomes)
        with connect(settings.paths.warehouse) as con:
            known, loaded = validators(con), loaded_hashes(con)
            for outcome in outcomes:
                record(con, run.run_id, outcome)
        batch = source.payloads(settings, companies, known, steps)
        if isinstance(source, ReplaySecFilings) and (quarantined := note_quarantined(source.directory, "sec")):
            batch.notes.append(quarantined)
        for note in batch.notes:
            log.info(note)
        fresh = [p for p in batch.payloads if not skipped_again(loaded, p)]
        # One connection checks and loads what was fetched (the fetch above holds none).
        with connect(settings.paths.warehouse) as con:
            facts, filings, refused = accepted(con, settings, run.run_id, fresh, batch.failed)
            names = {**dict(zip(companies["cik"], companies["ticker"], strict=True)), **tickers_of(batch.payloads)}
            refusals = {company_item(cik, names.get(cik)): error for cik, error in sorted(refused.items())}
            run.failed = {item: str(error) for item, error in refusals.items()}
            for item, why in run.failed.items():
                log.warning("not loaded: %s: %s", item, why)
            if refused and set(refused) >= batch.asked:
                raise every_one_failed(refusals, "nothing was loaded")
            kept = [p for p in fresh if company(p) not in refused]
            load(con, facts, filings, kept, companies, run.run_id, settings.clock.recorded())
        skipped = len(batch.payloads) - len(fresh)
        run.message = (
            f"loaded {len(facts)} XBRL facts and {len(filings)} filings from {len(kept)} SEC payload(s)"
            + (f"; {skipped} unchanged payload(s) skipped" if skipped else "")
            + "".join(f"; {note}" for note in batch.notes if "not loaded" in note)
            + (f"; {len(run.failed)} company(ies) not loaded: {named(run.failed)}" if run.failed else "")
        )
        log.info(run.message)
        return FilingsResult(run.run_id, len(kept), len(facts), len(filings), tuple(batch.notes), run.failed)


def validators(con: duckdb.DuckDBPyConnection) -> Validators:
    rows = con.execute("select url, etag, last_modified, sha256 from meta.sec_http").fetchall()
    return {url: {"etag": etag, "last_modified": modified, "sha256": sha} for url, etag, modified, sha in rows}


def known_units(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The units raw.xbrl_facts holds: a fact in any other is new to the warehouse, and flagged."""
    return {row[0] for row in con.execute("select distinct unit from raw.xbrl_facts").fetchall()}


def fact_limits(settings: Settings) -> raw_xbrl_facts.Limits:
    return raw_xbrl_facts.Limits(settings.max_money, settings.earliest_date, settings.fact_lookahead_days)


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, Loaded]:
    """Every SEC payload loaded before (sha256 -> Loaded), about its company and kind."""
    rows = con.execute("select sha256, path, received_at from meta.payloads where source = 'sec'").fetchall()
    return loaded_payloads((sha, subject(Path(path)), received) for sha, path, received in rows)


def subject(path: Path) -> str:
    """What an SEC payload is about: its kind (its folder) and company (its name up to the first
    dot), the same for every fetch of one URL."""
    return f"{path.parent.name}/{path.name.split('.')[0]}"


def skipped_again(loaded: dict[str, Loaded], payload: PayloadFile) -> bool:
    before = loaded.get(payload.sha256)
    return before is not None and before.skips(payload, subject(payload.path))


def company(payload: PayloadFile) -> int:
    """The CIK a payload is filed under (its name's, or its fetch's)."""
    return int(payload.meta["cik"])


def company_item(cik: int, ticker: str | None) -> str:
    """How a company that did not load is named in meta.runs.failed: `CIK0001045810 NVDA`."""
    return f"CIK{cik:010d}" + (f" {ticker}" if ticker else "")


def tickers_of(payloads: list[PayloadFile]) -> dict[int, str]:
    """CIK -> the ticker a fetched payload was asked for under (a replayed one may state none)."""
    return {company(p): p.ticker for p in payloads if p.ticker}


def accepted(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    payloads: list[PayloadFile],
    refused: Mapping[int, PipelineError],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, PipelineError]]:
    """The facts and filings of the companies that pass (every payload of theirs reads, no fact of
    theirs fails a critical expectation), and every company refused, CIK -> why: those in
    `refused`, and those refused here."""
    facts, filings, unread = read_batch(payloads, settings, run_id)
    refused = {**unread, **refused}
    facts = without(facts, refused)
    if len(facts):
        run_date = settings.clock.today()  # no fact may be filed after it
        checked = raw_xbrl_facts.prepare(facts, run_date, known_units(con), fact_limits(settings))
        outcome = check(settings, run_id, raw_xbrl_facts, checked)
        record(con, run_id, outcome)
        refused |= refuse_failing(settings, run_id, outcome, facts, payloads)
        found = findings(outcome.report_path)
        facts = flagged(facts, found, raw_xbrl_facts.ID_COLUMNS)
        log_warnings(found, outcome.report_path)
    return without(facts, refused), without(filings, refused), refused


def read_batch(
    payloads: list[PayloadFile], settings: Settings, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, PipelineError]]:
    """Facts and filings of every payload, tagged with the payload's hash; and the companies
    refused because a payload of theirs does not read (CIK -> why), each such payload quarantined
    if it is in this run's raw zone."""
    facts: list[pd.DataFrame] = []
    filings: list[pd.DataFrame] = []
    refused: dict[int, PipelineError] = {}
    for payload in payloads:
        try:
            if payload.meta["kind"] == "companyfacts":
                facts.append(read_companyfacts(payload).assign(payload_sha256=payload.sha256))
            else:
                filings.append(read_submissions(payload).assign(payload_sha256=payload.sha256))
        except PayloadError as exc:
            moved = quarantine(settings.paths.raw, [payload], str(exc), run_id, settings.clock.stamp())
            refused.setdefault(company(payload), PayloadError(f"{exc}{quarantine_note(moved)}"))
    return (
        combine(facts, ["cik", "taxonomy", "concept", "unit", "period", "accn", "val"]),
        combine(filings, ["cik", "accession_number"]),
        refused,
    )


def without(frame: pd.DataFrame, refused: Mapping[int, object]) -> pd.DataFrame:
    """The rows of the companies not refused."""
    return frame[~frame["cik"].isin(list(refused))].reset_index(drop=True) if len(frame) else frame


def refuse_failing(
    settings: Settings, run_id: str, outcome: Outcome, facts: pd.DataFrame, payloads: list[PayloadFile]
) -> dict[int, PipelineError]:
    """The companies holding a fact that failed a critical expectation, each with its failing rows;
    the payloads holding one are quarantined (those in this run's raw zone). None when no critical
    expectation failed. A critical failure that names no row (an expectation that could not run)
    cannot be put down to a company: the batch fails."""
    if outcome.success:
        return {}
    found = [f for f in findings(outcome.report_path) if f.severity != WARNING]
    if not all(f.rows for f in found):
        raise ValidationFailed(f"validation of {outcome.suite} failed: {outcome.summary}", outcome.report_path)
    columns = raw_xbrl_facts.ID_COLUMNS
    refused: dict[int, PipelineError] = {}
    for cik in sorted({int(r["cik"]) for f in found for r in f.rows}):

        def theirs(row: Mapping[str, str], cik: int = cik) -> bool:
            return row["cik"] == str(cik)

        reason = f"validation of {outcome.suite} failed: " + critical_summary(found, columns, theirs)
        failing = [r for f in found for r in f.rows if theirs(r)]
        refused[cik] = quarantine_failing(
            settings, run_id, reason, outcome.report_path, failing, facts, columns, payloads
        )
    return refused


def combine(frames: list[pd.DataFrame], key: list[str]) -> pd.DataFrame:
    """One frame; a row repeated by a later payload (a newer download of the same data) kept once."""
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).drop_duplicates(key, keep="last").reset_index(drop=True)


def load(
    con: duckdb.DuckDBPyConnection,
    facts: pd.DataFrame,
    filings: pd.DataFrame,
    payloads: list[PayloadFile],
    companies: pd.DataFrame,
    run_id: str,
    loaded_at: dt.datetime,
) -> None:
    """One transaction: facts, filings, and the payload and HTTP-validator records."""
    provenance = {"run_id": run_id, "loaded_at": loaded_at}
    rows = pd.concat(
        [facts.get("payload_sha256", pd.Series(dtype=str)), filings.get("payload_sha256", pd.Series(dtype=str))]
    ).value_counts()
    tickers = dict(zip(companies["cik"], companies["ticker"], strict=True))
    payload_rows = pd.DataFrame(
        [
            {
                "sha256": p.sha256,
                "path": str(p.path),
                "source": "sec",
                "ticker": p.ticker or tickers.get(p.meta["cik"]),
                "rows": int(rows.get(p.sha256, 0)),
                "received_at": p.received_at,
                **provenance,
            }
            for p in payloads
        ]
    )
    http_rows = pd.DataFrame(
        [
            {
                "url": p.meta["url"],
                "etag": p.meta.get("etag"),
                "last_modified": p.meta.get("last_modified"),
                "sha256": p.sha256,
                **provenance,
            }
            for p in payloads
            if p.meta.get("url")
        ]
    )
    with transaction(con):
        for table, frame in (
            ("raw.xbrl_facts", facts),
            ("raw.filings", filings),
            ("meta.payloads", payload_rows),
            ("meta.sec_http", http_rows),
        ):
            if len(frame):
                upsert(con, table, frame.assign(**provenance) if table.startswith("raw.") else frame)
