"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from flows.build import BuildResult, build
from flows.filing_sources import FilingSource
from flows.ingest_filings import FilingsResult, ingest_filings, live_filings
from flows.ingest_prices import IngestResult, ingest_prices, live_prices
from flows.price_sources import PriceSource
from flows.runs import recorded_run
from flows.settings import Settings


@dataclass(frozen=True)
class DailyResult:
    run_id: str
    prices: IngestResult
    filings: FilingsResult
    build: BuildResult


@flow(name="daily", validate_parameters=False)
def daily(settings: Settings | None = None, prices: PriceSource | None = None,
          filings: FilingSource | None = None) -> DailyResult:
    settings = settings or Settings.from_env()
    prices = prices or live_prices(settings)
    filings = filings or live_filings(settings)  # before anything runs: a missing User-Agent stops here
    with recorded_run(settings, "daily", prices.mode, None) as run:
        ingested = ingest_prices(settings, prices, run.run_id)
        filed = ingest_filings(settings, filings, run.run_id)
        built = build(settings, run.run_id)
        run.message = (f"{ingested.rows} bars and {filed.facts} XBRL facts loaded; "
                       f"built {', '.join(built.built)}")
        return DailyResult(run.run_id, ingested, filed, built)
