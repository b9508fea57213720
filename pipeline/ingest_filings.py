"""Ingesting SEC filings: payloads -> one validated batch -> raw.xbrl_facts and raw.filings.

A payload whose hash was loaded before is skipped: an unchanged replay or fetch loads nothing
again. The company list says whose filings are fetched; the build loads it into raw.companies.
A payload of this run's raw zone that does not read, or holds a fact failing a critical
expectation, is quarantined (pipeline/raw_zone.py) and the batch loads nothing. A fact failing a
warning loads, flagged in raw.xbrl_facts.flags.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

from expectations import raw_xbrl_facts
from expectations.validate import WARNING, Finding, findings, flagged
from pipeline import seeds
from pipeline.errors import PayloadError, ValidationFailed
from pipeline.parsers.sec_payloads import read_companyfacts, read_submissions
from pipeline.raw_zone import PayloadFile, note_quarantined, quarantine, quarantine_note
from pipeline.runs import Outcome, check, log_warnings, record, recorded_run
from pipeline.settings import Settings
from pipeline.sources.filings import FilingSource, ReplaySecFilings, SecFilings, Validators
from pipeline.sources.sec import LiveSecClient
from pipeline.steps import DIRECT, Steps
from warehouse.connection import connect, transaction
from warehouse.load import upsert


@dataclass(frozen=True)
class FilingsResult:
    run_id: str
    payloads: int
    facts: int
    filings: int
    notes: tuple[str, ...]


log = logging.getLogger(__name__)


def live_filings(settings: Settings) -> SecFilings:
    """The live source; fails at once, with no request made, when the User-Agent is not set."""
    return SecFilings(
        LiveSecClient(
            settings.user_agent,
            settings.sec_requests_per_second,
            settings.sec_timeout_seconds,
            settings.sec_max_wait_seconds,
        )
    )


def ingest_filings(
    settings: Settings, source: FilingSource, run_id: str | None = None, steps: Steps = DIRECT
) -> FilingsResult:
    with recorded_run(settings, "ingest_filings", source.mode, run_id) as run:
        outcomes: list = []
        companies = seeds.validated(seeds.COMPANIES, settings, run.run_id, outcomes)
        with connect(settings.warehouse_path) as con:
            known, loaded = validators(con), loaded_hashes(con)
            for outcome in outcomes:
                record(con, run.run_id, outcome)
        batch = source.payloads(settings, companies, known, steps)
        if isinstance(source, ReplaySecFilings) and (skipped := note_quarantined(source.directory, "sec")):
            batch.notes.append(skipped)
        for note in batch.notes:
            log.info(note)
        fresh = [p for p in batch.payloads if p.sha256 not in loaded]
        facts, filings = read_batch(fresh, settings, run.run_id)
        with connect(settings.warehouse_path) as con:
            if len(facts):
                run_date = settings.clock.today()  # no fact may be filed after it
                checked = raw_xbrl_facts.prepare(facts, run_date, known_units(con))
                outcome = check(settings, run.run_id, raw_xbrl_facts, checked)
                record(con, run.run_id, outcome)
                found = findings(outcome.report_path)
                require_or_quarantine(settings, run.run_id, outcome, found, facts, fresh)
                facts = flagged(facts, found, raw_xbrl_facts.ID_COLUMNS)
            load(con, facts, filings, fresh, companies, run.run_id, settings.clock.recorded())
        if len(facts):
            log_warnings(found, outcome.report_path)
        skipped = len(batch.payloads) - len(fresh)
        run.message = (
            f"loaded {len(facts)} XBRL facts and {len(filings)} filings from {len(fresh)} SEC payload(s)"
            + (f"; {skipped} unchanged payload(s) skipped" if skipped else "")
            + "".join(f"; {note}" for note in batch.notes if "not loaded" in note)
        )
        log.info(run.message)
        return FilingsResult(run.run_id, len(fresh), len(facts), len(filings), tuple(batch.notes))


def validators(con: duckdb.DuckDBPyConnection) -> Validators:
    rows = con.execute("select url, etag, last_modified, sha256 from meta.sec_http").fetchall()
    return {url: {"etag": etag, "last_modified": modified, "sha256": sha} for url, etag, modified, sha in rows}


def known_units(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The units raw.xbrl_facts holds: a fact in any other is new to the warehouse, and flagged."""
    return {row[0] for row in con.execute("select distinct unit from raw.xbrl_facts").fetchall()}


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select sha256 from meta.payloads where source = 'sec'").fetchall()}


def read_batch(payloads: list[PayloadFile], settings: Settings, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Facts and filings of every payload, tagged with the payload's hash. Any unreadable payload
    fails the whole batch, quarantined if it is in this run's raw zone."""
    facts, filings = [], []
    for payload in payloads:
        try:
            if payload.meta["kind"] == "companyfacts":
                facts.append(read_companyfacts(payload).assign(payload_sha256=payload.sha256))
            else:
                filings.append(read_submissions(payload).assign(payload_sha256=payload.sha256))
        except PayloadError as exc:
            moved = quarantine(settings.raw_dir, [payload], str(exc), run_id, settings.clock.stamp())
            raise PayloadError(f"{exc}; nothing was loaded{quarantine_note(moved)}") from None
    return combine(facts, ["cik", "taxonomy", "concept", "unit", "period", "accn", "val"]), combine(
        filings, ["cik", "accession_number"]
    )


def require_or_quarantine(
    settings: Settings,
    run_id: str,
    outcome: Outcome,
    found: list[Finding],
    facts: pd.DataFrame,
    payloads: list[PayloadFile],
) -> None:
    """Nothing when no critical expectation failed. Otherwise the payloads holding a failing fact
    are quarantined (those in this run's raw zone) and the batch fails."""
    if outcome.success:
        return
    columns = raw_xbrl_facts.ID_COLUMNS
    failing = {tuple(r[c] for c in columns) for f in found if f.severity != WARNING for r in f.rows}
    keys = zip(*(facts[c].astype(str) for c in columns), strict=True)
    holding = {sha for sha, key in zip(facts["payload_sha256"], keys, strict=True) if key in failing}
    reason = f"validation of {outcome.suite} failed: {outcome.summary}"
    moved = quarantine(
        settings.raw_dir, [p for p in payloads if p.sha256 in holding], reason, run_id, settings.clock.stamp()
    )
    raise ValidationFailed(reason + quarantine_note(moved), outcome.report_path)


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
