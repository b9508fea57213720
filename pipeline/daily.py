"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow

from pipeline.build import BuildResult, build, publish_copy
from pipeline.sources.filings import FilingSource, ReplaySecFilings
from pipeline.ingest_filings import FilingsResult, ingest_filings, live_filings
from pipeline.ingest_guidance import GuidanceResult, ingest_guidance
from pipeline.ingest_prices import IngestResult, ingest_prices, live_prices
from pipeline.sources.prices import PriceSource, ReplayPrices
from pipeline.runs import recorded_run
from pipeline.settings import Settings


@dataclass(frozen=True)
class DailyResult:
    run_id: str
    prices: IngestResult
    filings: FilingsResult
    guidance: GuidanceResult
    build: BuildResult


def replay_sources(directory: Path, mode: str = "replay") -> tuple[ReplayPrices, ReplaySecFilings]:
    """Every source replayed from one folder: its prices/ and sec/ (a raw zone, or exports)."""
    return ReplayPrices(directory, mode=mode), ReplaySecFilings(directory, mode=mode)


@flow(name="daily", validate_parameters=False)
def daily(settings: Settings | None = None, prices: PriceSource | None = None,
          filings: FilingSource | None = None) -> DailyResult:
    settings = settings or Settings.from_env()
    prices = prices or live_prices(settings)
    filings = filings or live_filings(settings)  # before anything runs: a missing User-Agent stops here
    with recorded_run(settings, "daily", prices.mode, None) as run:
        ingested = ingest_prices(settings, prices, run.run_id)
        filed = ingest_filings(settings, filings, run.run_id)
        guidance = ingest_guidance(settings, run.run_id)
        built = build(settings, run.run_id)
        run.message = (f"{ingested.rows} bars, {filed.facts} XBRL facts and {guidance.rows} guidance statements "
                       f"loaded; built {', '.join(built.built)}")
    publish_copy(settings)
    return DailyResult(run.run_id, ingested, filed, guidance, built)
