"""The daily run: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.build.run import BuildResult, build, publish_version
from pipeline.build.standing import inputs_of, replayed_before, told, unchanged
from pipeline.ingest.bulk import BulkResult, ingest_sec_bulk
from pipeline.ingest.filings import FilingsResult, ingest_filings, live_filings
from pipeline.ingest.prices import IngestResult, ingest_prices, live_prices
from pipeline.payloads import seeds
from pipeline.runtime import edgar_calendar
from pipeline.runtime.run_status import FINISHED, named
from pipeline.runtime.runs import recorded_run
from pipeline.runtime.settings import SAMPLE_DIR, Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.bulk import BulkSource, ReplaySecBulk, live_bulk
from pipeline.sources.filings import FilingSource, ReplaySecFilings
from pipeline.sources.prices import PriceSource, ReplayPrices
from pipeline.sources.sec import companyfacts_url, padded_cik
from warehouse.connection import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyResult:
    run_id: str
    prices: IngestResult
    filings: FilingsResult | BulkResult
    build: BuildResult | None  # None: nothing new, the current version stands (`message` says so)
    message: str = ""

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


def edgar_quiet(settings: Settings, source: FilingSource | BulkSource) -> str | None:
    """Why a live run need not ask SEC for the company list's payloads: EDGAR has accepted no
    filing since the last live run that loaded them, and each listed company was loaded then.
    None when SEC is to be asked (bulk mode asks: SEC says itself whether its archives changed)."""
    if source.mode != "live" or isinstance(source, BulkSource):
        return None
    with connect(settings.paths.warehouse) as con:
        [[last]] = con.execute(
            "select max(worked_for) from meta.runs where flow = 'daily' and mode = 'live' and list_contains(?, status)",
            [list(FINISHED)],
        ).fetchall()
        fetched = {url for (url,) in con.execute("select url from meta.sec_http").fetchall()}
    now = settings.clock.now()
    if last is None or edgar_calendar.open_between(last, now):
        return None
    listed = seeds.read(seeds.COMPANIES, settings)["cik"]
    if any(companyfacts_url(padded_cik(int(cik))) not in fetched for cik in listed):
        return None
    closed = edgar_calendar.closure(settings.clock.today())
    return (
        f"SEC: EDGAR has accepted no filing since the last live run ({last:%Y-%m-%d %H:%M} UTC)"
        + (f"; it is closed today ({closed})" if closed else "")
        + ": nothing new to fetch"
    )


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


def replayed_inputs(prices: PriceSource, filings: FilingSource | BulkSource) -> str | None:
    """What a replay reads, as meta.runs.inputs holds it: how SEC is read (the company list's
    payloads, or bulk archives), then the digest of the folder both sources replay. None for a live
    run (or sources of two folders)."""
    if not isinstance(prices, ReplayPrices) or getattr(filings, "directory", None) != prices.directory:
        return None
    return inputs_of(prices.directory, bulk=isinstance(filings, BulkSource))


def daily(
    settings: Settings, prices: PriceSource, filings: FilingSource | BulkSource, steps: Steps = DIRECT
) -> DailyResult:
    inputs = replayed_inputs(prices, filings)
    if inputs is not None and (stands := replayed_before(settings, inputs)):
        # A replay of bytes loaded before: nothing is read but them, nothing written but the log.
        return DailyResult("", IngestResult("", 0, 0, ()), FilingsResult("", 0, 0, 0, ()), None, told(stands))
    with recorded_run(settings, "daily", prices.mode, None, inputs) as run:
        ingested = ingest_prices(settings, prices, run.run_id, steps)
        run.failed = dict(ingested.failed)
        if quiet := edgar_quiet(settings, filings):
            log.info(quiet)
            filed: FilingsResult | BulkResult = FilingsResult(run.run_id, 0, 0, 0, (quiet,))
        else:
            filed = ingest_sec(settings, filings, run.run_id, steps)
        run.failed |= filed.failed
        # What the sources said (a session already held, EDGAR quiet) and what failed: on either path.
        said = "".join(f"; {note}" for note in (*ingested.notes, *([quiet] if quiet else [])))
        said += f"; {len(run.failed)} not loaded: {named(run.failed)}" if run.failed else ""
        if stands := unchanged(settings):
            # Nothing is built or published: not a byte of the current version is rewritten.
            log.info(stands)
            run.message = stands + said
            return DailyResult(run.run_id, ingested, filed, None, run.message)
        built = build(settings, run.run_id, steps, excused=tuple(ingested.failed))
        run.message = (
            f"{ingested.rows} bars, {filed.facts} XBRL facts and {built.seeds['capex_guidance']} "
            f"guidance statements loaded; built {', '.join(built.built)}{said}"
        )
        steps.run(publish_version, settings, run.run_id, run.message, run.failed)
        run.finished = True
    return DailyResult(run.run_id, ingested, filed, built, run.message)
