"""Daily bars from Yahoo Finance: the client interface, the live client and a recorded one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import pandas as pd

from pipeline.errors import MissingData, Throttled, TransientSourceError
from pipeline.sources.deadline import call_with_deadline

# What every live call asks for: unadjusted OHLC plus Adj Close, with dividends and splits.
HISTORY_PARAMS = {"interval": "1d", "auto_adjust": False, "actions": True, "repair": False}


class YahooClient(Protocol):
    def history(self, ticker: str, start: dt.date, end: dt.date | None) -> pd.DataFrame:
        """Daily bars for `ticker` from `start` to `end` (exclusive; None = today), as Yahoo sends them."""
        ...


class LiveYahooClient:
    """yfinance `Ticker.history`, under a hard deadline, with its failures given names."""

    def __init__(self, cache_dir: Path, deadline_seconds: float):
        import yfinance as yf

        cache_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))  # all its caches; instead of ~/.cache/py-yfinance
        yf.config.debug.hide_exceptions = False  # by default yfinance logs failures and returns empty frames
        self._yf = yf
        self.deadline_seconds = deadline_seconds

    def history(self, ticker: str, start: dt.date, end: dt.date | None) -> pd.DataFrame:
        from curl_cffi.requests.exceptions import RequestException
        from yfinance.exceptions import YFRateLimitError, YFTickerMissingError

        def call() -> pd.DataFrame:
            return self._yf.Ticker(ticker).history(
                start=start.isoformat(),
                end=end.isoformat() if end else None,
                timeout=max(1.0, self.deadline_seconds / 2),
                **HISTORY_PARAMS,
            )

        try:
            return call_with_deadline(call, self.deadline_seconds, f"Yahoo Finance ({ticker})")
        except YFRateLimitError:
            raise Throttled(f"Yahoo Finance is rate-limiting requests (while fetching {ticker})") from None
        except YFTickerMissingError as exc:
            raise MissingData(f"Yahoo Finance has no prices for {ticker}: {exc.rationale}") from None
        except RequestException as exc:
            raise TransientSourceError(f"Yahoo Finance request for {ticker} failed: {exc}") from None


class RecordedYahooClient:
    """Answers from frames recorded earlier: `DIR/<ticker>.parquet`, each a `history()` result."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.calls: list[tuple[str, dt.date, dt.date | None]] = []

    def history(self, ticker: str, start: dt.date, end: dt.date | None) -> pd.DataFrame:
        self.calls.append((ticker, start, end))
        path = self.directory / f"{ticker}.parquet"
        if not path.exists():
            return pd.DataFrame()
        frame = pd.read_parquet(path)
        days = frame.index.tz_localize(None).normalize() if frame.index.tz else frame.index
        keep = days >= pd.Timestamp(start)
        if end is not None:
            keep &= days < pd.Timestamp(end)
        return frame[keep]
