"""Where a batch of prices comes from: Yahoo live, a replayed folder, or imported files.

Each source hands the ingest flow payload files; everything after that is one code path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from pipeline.errors import MissingData, PayloadError, TransientSourceError
from pipeline.raw_zone import PayloadFile, list_payloads, store_copy, store_frame
from pipeline.settings import Settings
from pipeline.sources.yahoo import HISTORY_PARAMS, YahooClient

PRICE_SUFFIXES = (".csv", ".parquet")


@runtime_checkable
class PriceSource(Protocol):
    mode: str

    def payloads(self, settings: Settings, last_dates: Mapping[str, dt.date]) -> list[PayloadFile]:
        """Payload files for this batch, stored in (or already part of) a raw zone."""
        ...


def _retry_transient(task, task_run, state) -> bool:
    return isinstance(state.result(raise_on_failure=False), TransientSourceError)


@task(cache_policy=NO_CACHE)
def fetch_history(client: YahooClient, ticker: str, start: dt.date) -> pd.DataFrame:
    frame = client.history(ticker, start, None)
    if frame is None or frame.empty:
        raise MissingData(f"no rows for {ticker} since {start}")
    return frame


@dataclass(frozen=True)
class YahooPrices:
    """Fetch each ticker from its last stored date minus the lookback; store each result as received."""

    client: YahooClient
    mode: str = "live"

    def payloads(self, settings: Settings, last_dates: Mapping[str, dt.date]) -> list[PayloadFile]:
        fetch = fetch_history.with_options(
            retries=settings.fetch_retries,
            retry_delay_seconds=exponential_backoff(settings.retry_backoff_seconds),
            retry_condition_fn=_retry_transient,
        )
        stored, missing = [], []
        for ticker in settings.universe:
            last = last_dates.get(ticker)
            start = last - dt.timedelta(days=settings.lookback_days) if last else settings.history_start
            try:
                frame = fetch(self.client, ticker, start)
            except MissingData:
                missing.append(ticker)
                continue
            except TransientSourceError as exc:
                raise type(exc)(f"{exc}; gave up after {settings.fetch_retries + 1} attempts") from None
            meta = {"source": "yahoo", "call": "yfinance.Ticker.history", "ticker": ticker,
                    "params": {**HISTORY_PARAMS, "start": start.isoformat(), "end": None}}
            stored.append(store_frame(settings.raw_dir / "prices", ticker, frame, meta))
        if missing:
            raise MissingData(f"Yahoo Finance returned no prices for {', '.join(missing)} "
                              "(misspelled or delisted ticker, or no network); nothing was loaded")
        return stored


@dataclass(frozen=True)
class ReplayPrices:
    """Every price file under DIR/prices: a raw zone of this pipeline's, or CSV exports."""

    directory: Path
    mode: str = "replay"

    def payloads(self, settings: Settings, last_dates: Mapping[str, dt.date]) -> list[PayloadFile]:
        folder = self.directory / "prices"
        if not folder.is_dir():
            raise PayloadError(f"{self.directory} has no prices/ folder to replay")
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

    def payloads(self, settings: Settings, last_dates: Mapping[str, dt.date]) -> list[PayloadFile]:
        missing = [str(f) for f in self.files if not Path(f).is_file()]
        if missing:
            raise PayloadError(f"no such file: {', '.join(missing)}")
        meta = {"source": "import", **({"ticker": self.ticker.upper()} if self.ticker else {})}
        logger = get_run_logger()
        stored = [store_copy(settings.raw_dir / "prices", Path(f), meta) for f in self.files]
        logger.info("copied %d file(s) into %s", len(stored), settings.raw_dir / "prices")
        return stored
