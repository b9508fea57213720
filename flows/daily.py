"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from flows.build import BuildResult, build, publish_copy
from flows.ingest_guidance import GuidanceResult, ingest_guidance
from flows.ingest_prices import IngestResult, ingest_prices, live_prices
from flows.price_sources import PriceSource
from flows.runs import recorded_run
from flows.settings import Settings


@dataclass(frozen=True)
class DailyResult:
    run_id: str
    prices: IngestResult
    guidance: GuidanceResult
    build: BuildResult


@flow(name="daily", validate_parameters=False)
def daily(settings: Settings | None = None, prices: PriceSource | None = None) -> DailyResult:
    settings = settings or Settings.from_env()
    prices = prices or live_prices(settings)
    with recorded_run(settings, "daily", prices.mode, None) as run:
        ingested = ingest_prices(settings, prices, run.run_id)
        guidance = ingest_guidance(settings, run.run_id)
        built = build(settings, run.run_id)
        run.message = f"{ingested.rows} bars loaded; built {', '.join(built.built)}"
    publish_copy(settings)
    return DailyResult(run.run_id, ingested, guidance, built)
