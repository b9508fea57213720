"""The daily run: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.build import BuildResult, build, publish_version
from pipeline.ingest_bulk import BulkResult, ingest_sec_bulk
from pipeline.ingest_filings import FilingsResult, ingest_filings, live_filings
from pipeline.ingest_prices import IngestResult, ingest_prices, live_prices
from pipeline.runs import recorded_run
from pipeline.settings import SAMPLE_DIR, Settings
from pipeline.sources.bulk import BulkSource, ReplaySecBulk, live_bulk
from pipeline.sources.filings import FilingSource, ReplaySecFilings
from pipeline.sources.prices import PriceSource, ReplayPrices
from pipeline.steps import DIRECT, Steps
from pipeline.summary import named


@dataclass(frozen=True)
class DailyResult:
    run_id: str
    prices: IngestResult
    filings: FilingsResult | BulkResult
    build: BuildResult

    @property
    def failed(self) -> Mapping[str, str]:
        """What the run loaded without (tickers, SEC companies or bulk members; the rest loaded and
        built), each with why."""
        return {**self.prices.failed, **self.filings.failed}


def replay_sources(directory: Path, mode: str = "replay") -> tuple[ReplayPrices, ReplaySecFilings]:
    """Every source replayed from one folder: its prices/ and sec/ (a raw zone, or exports)."""
    return ReplayPrices(directory, mode=mode), ReplaySecFilings(directory, mode=mode)


def replay_mode(directory: Path) -> str:
    """How a replay is labelled: the bundled sample says so wherever it shows."""
    return "sample" if directory.resolve() == SAMPLE_DIR else "replay"


def price_source(settings: Settings, replay_from: Path | None) -> PriceSource:
    return live_prices(settings) if replay_from is None else ReplayPrices(replay_from, replay_mode(replay_from))


def filing_source(settings: Settings, replay_from: Path | None) -> FilingSource | BulkSource:
    """Live when `replay_from` is None: a missing SEC User-Agent stops here, before any request.
    With `sec_bulk`, SEC's bulk archives (every filer) instead of the company list's payloads."""
    if settings.sec_bulk:
        return live_bulk(settings) if replay_from is None else ReplaySecBulk(replay_from, replay_mode(replay_from))
    return live_filings(settings) if replay_from is None else ReplaySecFilings(replay_from, replay_mode(replay_from))


def ingest_sec(
    settings: Settings, source: FilingSource | BulkSource, run_id: str | None = None, steps: Steps = DIRECT
) -> FilingsResult | BulkResult:
    """SEC filings from `source`: the company list's payloads, or every filer's bulk archive members."""
    if isinstance(source, BulkSource):
        return ingest_sec_bulk(settings, source, run_id, steps)
    return ingest_filings(settings, source, run_id, steps)


def sources(settings: Settings, replay_from: Path | None) -> tuple[PriceSource, FilingSource | BulkSource]:
    """Live when `replay_from` is None, else every source replayed from that folder."""
    filings = filing_source(settings, replay_from)  # first: nothing is written before the User-Agent is known
    return price_source(settings, replay_from), filings


def daily(
    settings: Settings, prices: PriceSource, filings: FilingSource | BulkSource, steps: Steps = DIRECT
) -> DailyResult:
    with recorded_run(settings, "daily", prices.mode, None) as run:
        ingested = ingest_prices(settings, prices, run.run_id, steps)
        run.failed = dict(ingested.failed)
        filed = ingest_sec(settings, filings, run.run_id, steps)
        run.failed |= filed.failed
        built = build(settings, run.run_id, steps, excused=tuple(ingested.failed))
        run.message = (
            f"{ingested.rows} bars, {filed.facts} XBRL facts and {built.seeds['capex_guidance']} "
            f"guidance statements loaded; built {', '.join(built.built)}"
            + (f"; {len(run.failed)} not loaded: {named(run.failed)}" if run.failed else "")
        )
        steps.run(publish_version, settings, run.run_id, run.message, run.failed)
    return DailyResult(run.run_id, ingested, filed, built)
