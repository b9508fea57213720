"""A mart that fails its suite: the payloads behind the failing rows taken out, so the next run repairs.

Raw checks judge each payload alone; a mart suite judges what the payloads make together (a negative
capex passes raw_xbrl_facts and fails capex_slope). Left in raw.*, such a payload would fail every
later build, and a good payload for the same keys would be skipped as loaded before. So when a mart
suite fails, the payloads loaded since the last published run that hold rows of the failing rows'
tickers (or their companies) are quarantined: moved out of this raw zone (pipeline/payloads/raw_zone.py),
their rows deleted from raw.*, their records from meta.payloads and meta.sec_http. The records of
every other payload of those tickers and companies are forgotten too, so the next replay or fetch
loads them again and restores the keys the bad payload overwrote.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from expectations.validate import WARNING, findings
from pipeline.payloads.raw_zone import PayloadFile, quarantine, quarantine_note
from pipeline.runtime.run_status import FINISHED
from pipeline.runtime.runs import PUBLISHING, Outcome
from pipeline.runtime.settings import Settings
from warehouse.connection import transaction

PRICE_TABLES = ("raw.prices", "raw.price_events")
SEC_TABLES = ("raw.xbrl_facts", "raw.filings")
# Every payload of the tickers $tickers or of the companies $ciks: holding a row of theirs, or
# recorded as theirs (one whose rows a later payload replaced holds none).
HOLDING = " union ".join(
    [f"select payload_sha256 from {t} where list_contains($tickers, ticker)" for t in PRICE_TABLES]
    + [f"select payload_sha256 from {t} where list_contains($ciks, cik)" for t in SEC_TABLES]
    + ["select sha256 from meta.payloads where list_contains($tickers, ticker)"]
)
log = logging.getLogger(__name__)


def failing_tickers(outcome: Outcome) -> list[str]:
    """The tickers of the rows that failed a critical expectation (suites whose rows name none, such
    as the guidance mart's, whose rows come from a seed, name nothing to quarantine)."""
    rows = [r for f in findings(outcome.report_path) if f.severity != WARNING for r in f.rows]
    return sorted({r["ticker"] for r in rows if r.get("ticker")})


def quarantine_failing(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, outcome: Outcome) -> str:
    """Quarantine the payloads behind `outcome`'s failing rows, in a transaction of its own (the
    build's has rolled back); returns what the run's one line adds, or "" when there was none."""
    tickers = failing_tickers(outcome)
    if not tickers:
        return ""
    with transaction(con):
        companies = con.execute("select cik from raw.companies where list_contains(?, ticker)", [tickers])
        ciks = [cik for (cik,) in companies.fetchall()]
        rows = con.execute(HOLDING, {"tickers": tickers, "ciks": ciks}).fetchall()
        holding = [sha for (sha,) in rows]
        # Loaded since the last published run: what that run published did not hold them.
        bad = con.execute(
            """
            select p.sha256, p.path from meta.payloads as p join meta.runs as r on r.run_id = p.run_id
            where list_contains($holding, p.sha256) and r.started_at > coalesce(
                (select max(started_at) from meta.runs
                 where list_contains($publishing, flow) and list_contains($finished, status)),
                '-infinity'::timestamptz)
            order by p.path
            """,
            {"holding": holding, "publishing": list(PUBLISHING), "finished": list(FINISHED)},
        ).fetchall()
        if not bad:
            return ""
        shas = [sha for sha, _ in bad]
        for table in (*PRICE_TABLES, *SEC_TABLES):
            con.execute(f"delete from {table} where list_contains(?, payload_sha256)", [shas])
        con.execute("delete from meta.sec_http where list_contains(?, sha256)", [holding])
        con.execute("delete from meta.payloads where list_contains(?, sha256)", [holding])
    reason = f"{outcome.suite} failed on rows of {', '.join(tickers)}: {outcome.summary}"
    present = [PayloadFile(Path(path), sha) for sha, path in bad if Path(path).is_file()]
    moved = quarantine(settings.paths.raw, present, reason, run_id, settings.clock.stamp())
    names = ", ".join(Path(path).name for _, path in bad)
    return (
        f"; the payload(s) loaded since the last published run holding rows of {', '.join(tickers)} are "
        f"taken out of the warehouse: {names}{quarantine_note(moved)}; the next run loads without them"
    )
