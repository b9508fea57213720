"""Where a batch of prices comes from: Yahoo live, a replayed folder, or imported files.

Each source hands the ingest step payload files; everything after that is one code path.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

from pipeline.errors import MissingData, PayloadError
from pipeline.parsers.price_files import TickerNames, check_ticker
from pipeline.raw_zone import PayloadFile, list_payloads, note_quarantined, replay_parts, store_copy, store_frame
from pipeline.retry import retrying
from pipeline.settings import Settings
from pipeline.sources.yahoo import HISTORY_PARAMS, YahooClient
from pipeline.steps import DIRECT, Steps

PRICE_SUFFIXES = (".csv", ".parquet")
log = logging.getLogger(__name__)


@runtime_checkable
class PriceSource(Protocol):
    mode: str

    def payloads(
        self, settings: Settings, last_dates: Mapping[str, dt.date], steps: Steps = DIRECT
    ) -> list[PayloadFile]:
        """Payload files for this batch, stored in (or already part of) a raw zone."""
        ...


def ticker_names(settings: Settings) -> TickerNames:
    """How file names are read as tickers under these settings: the aliases, and the universe."""
    return TickerNames(settings.ticker_aliases, settings.universe)


def run_date() -> dt.date:
    """Today in UTC: no bar may be dated after it (the raw_prices suite's run date)."""
    return dt.datetime.now(dt.UTC).date()


def fetch_start(settings: Settings, last: dt.date | None) -> dt.date:
    """Where a ticker's fetch starts: its last stored date minus the lookback, or the history start.
    The last date is capped at the run date, so a bar stored from the future (by an earlier release)
    cannot push every later fetch past what Yahoo has."""
    if last is None:
        return settings.history_start
    return min(last, run_date()) - dt.timedelta(days=settings.lookback_days)


def fetch_history(client: YahooClient, settings: Settings, request: tuple[str, dt.date]) -> PayloadFile | None:
    """One ticker's bars since `start`, stored in the raw zone as received; None when Yahoo has none."""
    ticker, start = request
    try:
        frame = retrying(
            lambda: client.history(ticker, start, None),
            settings.fetch_retries,
            settings.retry_backoff_seconds,
            f"Yahoo Finance ({ticker})",
        )
    except MissingData:  # Yahoo does not know the ticker: named with the others by the caller
        return None
    if frame is None or frame.empty:
        return None
    meta = {
        "source": "yahoo",
        "call": "yfinance.Ticker.history",
        "ticker": ticker,
        "params": {**HISTORY_PARAMS, "start": start.isoformat(), "end": None},
    }
    return store_frame(settings.raw_dir / "prices", ticker, frame, meta)


@dataclass(frozen=True)
class YahooPrices:
    """Fetch each ticker from its last stored date minus the lookback; store each result as received."""

    client: YahooClient
    mode: str = "live"

    def payloads(
        self, settings: Settings, last_dates: Mapping[str, dt.date], steps: Steps = DIRECT
    ) -> list[PayloadFile]:
        requests = [(ticker, fetch_start(settings, last_dates.get(ticker))) for ticker in settings.universe]
        stored = steps.map(partial(fetch_history, self.client, settings), requests)
        missing = [ticker for (ticker, _), payload in zip(requests, stored, strict=True) if payload is None]
        if missing:
            raise MissingData(
                f"Yahoo Finance returned no prices for {', '.join(missing)} "
                "(misspelled or delisted ticker, or no network); nothing was loaded"
            )
        return [p for p in stored if p is not None]


@dataclass(frozen=True)
class ReplayPrices:
    """Every price file under DIR/prices: a raw zone of this pipeline's, or CSV exports."""

    directory: Path
    mode: str = "replay"

    def payloads(
        self, settings: Settings, last_dates: Mapping[str, dt.date], steps: Steps = DIRECT
    ) -> list[PayloadFile]:
        if "prices" not in replay_parts(self.directory):
            log.warning("%s has no prices/ folder: prices skipped, SEC filings only", self.directory)
            return []
        if skipped := note_quarantined(self.directory, "prices"):
            log.warning(skipped)
        folder = self.directory / "prices"
        found = list_payloads(folder, PRICE_SUFFIXES)
        if not found:
            raise PayloadError(f"{folder} holds no .csv or .parquet price files")
        return found


@dataclass(frozen=True)
class ImportedPrices:
    """yfinance CSV exports given by hand: copied into the raw zone, then loaded."""

    files: Sequence[Path]
    ticker: str | None = None
    mode: str = "import"

    def payloads(
        self, settings: Settings, last_dates: Mapping[str, dt.date], steps: Steps = DIRECT
    ) -> list[PayloadFile]:
        missing = [str(f) for f in self.files if not Path(f).is_file()]
        if missing:
            raise PayloadError(f"no such file: {', '.join(missing)}")
        meta = {"source": "import", **({"ticker": self.ticker.upper()} if self.ticker else {})}
        for f in self.files:  # a file and --ticker that disagree are refused before anything is copied
            check_ticker(Path(f), meta, ticker_names(settings))
        stored = [store_copy(settings.raw_dir / "prices", Path(f), meta) for f in self.files]
        log.info("copied %d file(s) into %s", len(stored), settings.raw_dir / "prices")
        return stored
