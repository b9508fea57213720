"""Daily bars from Yahoo Finance: the client interface, the live client and a recorded one.

yfinance reads Yahoo's HTTP status and body itself and, on an answer it cannot use, raises
whatever its parsing trips over (a KeyError, a JSONDecodeError) or retries with another cookie.
So the live client judges every answer from Yahoo's data endpoints where it arrives, in the
HTTP session it hands yfinance, and raises the project's error there: transient ones (5xx, 429,
a truncated body, a dropped connection, a hang) are retried by the caller; the rest (404, other
4xx, an empty body, a web page instead of JSON) fail at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import pandas as pd

from pipeline.errors import MissingData, SourceError, Throttled, TransientSourceError
from pipeline.sources.deadline import call_with_deadline

# What every live call asks for: unadjusted OHLC plus Adj Close, with dividends and splits.
HISTORY_PARAMS = {"interval": "1d", "auto_adjust": False, "actions": True, "repair": False}
# Yahoo's data endpoints; yfinance's cookie and crumb requests around them are left to it.
DATA_PATHS = ("/v8/finance/chart/", "/v10/finance/quoteSummary/")

log = logging.getLogger(__name__)


class _ToRunLog(logging.Handler):
    """yfinance logs what it works around (a cookie it could not fetch) on its own logger, which
    has no handler, so Python would print those lines on the terminal: they go to the run's log."""

    def emit(self, record: logging.LogRecord) -> None:
        log.handle(record)


_yfinance_log = logging.getLogger("yfinance")
_yfinance_log.propagate = False
_yfinance_log.addHandler(_ToRunLog())


class YahooClient(Protocol):
    def history(self, ticker: str, start: dt.date, end: dt.date | None) -> pd.DataFrame:
        """Daily bars for `ticker` from `start` to `end` (exclusive; None = today), as Yahoo sends them."""
        ...


def judge(url: str, status: int, body: bytes, content_type: str) -> None:
    """Raise the project's error for an answer from a Yahoo data endpoint that holds no usable data."""
    symbol = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if status == 404:
        raise MissingData(f"Yahoo Finance does not know {symbol} (HTTP 404): check the ticker")
    if status == 429:
        raise Throttled(f"Yahoo Finance is rate-limiting requests (while fetching {symbol})")
    if status >= 500:
        raise TransientSourceError(f"Yahoo Finance answered HTTP {status} for {symbol}")
    # 401 ("Invalid Crumb") is yfinance's to answer: it fetches a new crumb and asks again.
    if status >= 400 and status != 401:
        raise SourceError(f"Yahoo Finance refused the request for {symbol} (HTTP {status}): check the ticker")
    if status == 200:
        judge_body(symbol, body, content_type)


def judge_body(symbol: str, body: bytes, content_type: str) -> None:
    if not body.strip():
        raise SourceError(f"Yahoo Finance sent an empty answer for {symbol} (HTTP 200): try again later")
    if content_type.startswith("text/html") or body.lstrip()[:1] == b"<":
        raise SourceError(
            f"Yahoo Finance sent a web page instead of prices for {symbol}: it may be blocking this client; "
            "try again later"
        )
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        raise TransientSourceError(f"Yahoo Finance sent a truncated or invalid answer for {symbol}") from None


def checked_session() -> Any:
    """The HTTP session yfinance would make itself (curl_cffi, as a browser), judging each data answer."""
    from curl_cffi import requests as curl

    class CheckedSession(curl.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = super().request(method, url, *args, **kwargs)
            if urlsplit(url).path.startswith(DATA_PATHS):
                judge(url, response.status_code, response.content, response.headers.get("Content-Type", ""))
            return response

    return CheckedSession(impersonate="chrome")


def reason(exc: BaseException) -> str:
    """curl's own words without the pointer to its documentation."""
    return f"{type(exc).__name__}: {str(exc).split('. See ', 1)[0]}"


class LiveYahooClient:
    """yfinance `Ticker.history`, under a hard deadline, with its failures given names."""

    def __init__(self, cache_dir: Path, deadline_seconds: float):
        import yfinance as yf

        cache_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))  # all its caches; instead of ~/.cache/py-yfinance
        yf.config.debug.hide_exceptions = False  # by default yfinance logs failures and returns empty frames
        self._yf = yf
        self._session = checked_session()
        self.deadline_seconds = deadline_seconds

    def history(self, ticker: str, start: dt.date, end: dt.date | None) -> pd.DataFrame:
        from curl_cffi.requests.exceptions import RequestException
        from yfinance.exceptions import YFException, YFRateLimitError, YFTickerMissingError

        def call() -> pd.DataFrame:
            return self._yf.Ticker(ticker, session=self._session).history(
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
            raise TransientSourceError(
                f"Yahoo Finance request for {ticker} failed ({reason(exc)}): check the network connection"
            ) from None
        except (YFException, LookupError, TypeError, ValueError) as exc:  # a JSON answer in a shape it cannot read
            raise SourceError(
                f"Yahoo Finance answered {ticker} in a form yfinance could not read ({type(exc).__name__}: {exc})"
            ) from None


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
