"""Flow `ingest_guidance`: the guidance ledger -> validation -> raw.capex_guidance, replaced whole.

The ledger is a committed file (`Settings.guidance_ledger`, by default seeds/capex_guidance.csv),
not a network source: every run loads it. To add a statement, append a row to the ledger (see
flows/sources/guidance_ledger.py) and run `thesis run`; a bad row stops the run with its line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
from prefect import flow, get_run_logger

from expectations import capex_guidance
from pipeline.errors import ValidationFailed
from pipeline.runs import check, record, recorded_run
from pipeline.settings import Settings
from pipeline.parsers.guidance_ledger import display, read_ledger
from warehouse.connection import connect, transaction
from warehouse.load import upsert


@dataclass(frozen=True)
class GuidanceResult:
    run_id: str
    rows: int
    tickers: tuple[str, ...]


@flow(name="ingest_guidance", validate_parameters=False)
def ingest_guidance(settings: Settings | None = None, run_id: str | None = None) -> GuidanceResult:
    settings = settings or Settings.from_env()
    with recorded_run(settings, "ingest_guidance", "ledger", run_id) as run:
        ledger = read_ledger(settings.guidance_ledger)
        known = {*settings.hyperscalers, *settings.tickers}
        with connect(settings.warehouse_path) as con:
            outcome = check(settings, run.run_id, capex_guidance, capex_guidance.prepare(ledger, known))
            record(con, run.run_id, outcome)
            if not outcome.success:
                raise ValidationFailed(f"{display(settings.guidance_ledger)}: {outcome.summary}",
                                       outcome.report_path)
            load(con, ledger, run.run_id)
        tickers = tuple(sorted(ledger["ticker"].unique()))
        run.message = f"loaded {len(ledger)} guidance statements for {', '.join(tickers)}"
        get_run_logger().info(run.message)
        return GuidanceResult(run.run_id, len(ledger), tickers)


def load(con: duckdb.DuckDBPyConnection, ledger: pd.DataFrame, run_id: str) -> None:
    """One transaction: the ledger's rows replace every row loaded before, so a statement
    removed from the ledger leaves the warehouse too."""
    rows = ledger.assign(run_id=run_id, loaded_at=dt.datetime.now(dt.UTC))
    with transaction(con):
        con.execute("delete from raw.capex_guidance")
        upsert(con, "raw.capex_guidance", rows)
