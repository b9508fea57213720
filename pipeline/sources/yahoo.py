"""Daily bars from Yahoo Finance: the client interface, the live client and a recorded one.

yfinance reads Yahoo's HTTP status and body itself and, on an answer it cannot use, raises
whatever its parsing trips over (a KeyError, a JSONDecodeError) or retries with another cookie.
So the live client judges every answer from Yahoo's data endpoints where it arrives, in the
HTTP session it hands yfinance, as pipeline/sources/http.py judges every source, and raises the
project's error there: transient ones (5xx, 429,
a truncated body, a dropped connection, a hang) are retried by the caller; the rest (404, other
4xx, an empty body, a web page or JSON of another shape instead of prices) fail at once.
yf.download() fetches many tickers at once and keeps what failed for each to its log, so the
session also keeps each symbol's failure, for the client to hand back with that ticker.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import pandas as pd
from curl_cffi import requests as curl
from curl_cffi.requests import HttpMethod
from curl_cffi.requests.exceptions import RequestException

from pipeline.runtime.errors import DeadlineExceeded, SourceError
from pipeline.sources.deadline import call_with_deadline
from pipeline.sources.http import Answer, Wording, json_body, unanswered, validate_response

# What every live call asks for: unadjusted OHLC plus Adj Close, with dividends and splits.
HISTORY_PARAMS = {"interval": "1d", "auto_adjust": False, "actions": True, "repair": False}
# Yahoo's data endpoints, and the key of the JSON document each answers with; yfinance's cookie
# and crumb requests around them are left to it.
DATA_PATHS = {"/v8/finance/chart/": "chart", "/v10/finance/quoteSummary/": "quoteSummary"}
# Tickers yf.download() fetches at once within a chunk.
DOWNLOAD_THREADS = 4

log = logging.getLogger(__name__)


class _ToRunLog(logging.Handler):
    """yfinance logs what it works around (a cookie it could not fetch) on its own logger, which
    has no handler, so Python would print those lines on the terminal: they go to the run's log."""

    def emit(self, record: logging.LogRecord) -> None:
        log.handle(record)


_yfinance_log = logging.getLogger("yfinance")
_yfinance_log.propagate = False
_yfinance_log.addHandler(_ToRunLog())


# Each ticker asked for: its bars (empty when Yahoo has none), or why it could not be had.
Answers = dict[str, "pd.DataFrame | SourceError"]


class YahooClient(Protocol):
    def download(self, tickers: Sequence[str], start: dt.date) -> Answers:
        """Daily bars of each of `tickers` from `start` to today, as Yahoo sends them."""
        ...


@dataclass(frozen=True)
class YahooWording:
    """Yahoo Finance's one line for each verdict on the answer for `symbol`."""

    symbol: str

    def unanswered(self, url: str, exc: BaseException) -> str:
        return f"Yahoo Finance request for {self.symbol} failed ({reason(exc)}): check the network connection"

    def throttled(self, answer: Answer) -> str:
        return f"Yahoo Finance is rate-limiting requests (while fetching {self.symbol})"

    def not_found(self, answer: Answer) -> str:
        return f"Yahoo Finance does not know {self.symbol} (HTTP 404): check the ticker"

    def server_error(self, answer: Answer) -> str:
        return f"Yahoo Finance answered HTTP {answer.status} for {self.symbol}"

    def refused(self, answer: Answer) -> str:
        return f"Yahoo Finance refused the request for {self.symbol} (HTTP {answer.status}): check the ticker"

    def empty(self, answer: Answer) -> str:
        return f"Yahoo Finance sent an empty answer for {self.symbol} (HTTP 200): try again later"

    def web_page(self, answer: Answer) -> str:
        return (
            f"Yahoo Finance sent a web page instead of prices for {self.symbol}: it may be blocking this client; "
            "try again later"
        )

    def unreadable(self, answer: Answer) -> str:
        return f"Yahoo Finance sent a truncated or invalid answer for {self.symbol}"


def symbol_of(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def judge(url: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Raise the project's error for an answer from a Yahoo data endpoint that holds no usable data.
    401 ("Invalid Crumb") is yfinance's to answer: it fetches a new crumb and asks again."""
    validate_response(Answer(url, status, headers, body), YahooWording(symbol_of(url)), prices, passes=frozenset({401}))


def prices(answer: Answer, wording: Wording) -> None:
    """A 200 from a data endpoint: whole JSON (http.json_body), the document the endpoint sends, and
    for a chart the symbol asked for with arrays of one length each."""
    symbol = symbol_of(answer.url)
    path = urlsplit(answer.url).path
    document = next(key for p, key in DATA_PATHS.items() if path.startswith(p))
    body = json_body(answer, wording)
    if not isinstance(body, dict) or document not in body:
        raise SourceError(f"Yahoo Finance answered {symbol} in a form yfinance could not read (no {document!r} in it)")
    if document == "chart":
        answered = chart_symbol(body["chart"])
        if answered is not None and answered.upper() != symbol.upper():
            raise SourceError(
                f"Yahoo Finance answered the request for {symbol} with {answered}'s prices: nothing of it loads"
            )
        lengths = chart_lengths(body["chart"])
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{count} {name}" for name, count in lengths.items())
            raise SourceError(
                f"Yahoo Finance sent a malformed chart for {symbol}: its arrays differ in length ({shown}); "
                "nothing of it loads, try again later"
            )


def chart_symbol(chart: object) -> str | None:
    """The symbol a chart answer says its bars are of (`result[0].meta.symbol`); None where it has no
    result (an error answer, which yfinance reports itself)."""
    results = chart.get("result") if isinstance(chart, dict) else None
    meta = results[0].get("meta") if isinstance(results, list) and results and isinstance(results[0], dict) else None
    symbol = meta.get("symbol") if isinstance(meta, dict) else None
    return str(symbol) if symbol is not None else None


def chart_lengths(chart: object) -> dict[str, int]:
    """The length of each array of bars in a chart answer (`timestamp`, each of `indicators.quote[0]`,
    `indicators.adjclose[0].adjclose`): one per bar, so all equal in a whole answer. yfinance reads
    unequal ones as no prices at all."""
    results = chart.get("result") if isinstance(chart, dict) else None
    result = results[0] if isinstance(results, list) and results and isinstance(results[0], dict) else {}
    indicators = result["indicators"] if isinstance(result.get("indicators"), dict) else {}
    arrays = {"timestamps": result.get("timestamp")}
    for block in ("quote", "adjclose"):
        listed = indicators.get(block)
        first = listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], dict) else {}
        arrays |= first
    return {name: len(values) for name, values in arrays.items() if isinstance(values, list)}


class CheckedSession(curl.Session):
    """The HTTP session yfinance would make itself (curl_cffi, as a browser), judging each data
    answer. yf.download() keeps what failed for a ticker to its log, so the session also keeps the
    last failure per symbol, for the client to name it."""

    def __init__(self) -> None:
        super().__init__(impersonate="chrome")
        self._failures: dict[str, SourceError] = {}
        self._lock = threading.Lock()

    def request(self, method: HttpMethod, url: str, *args: Any, **kwargs: Any) -> Any:
        if not urlsplit(url).path.startswith(tuple(DATA_PATHS)):
            return super().request(method, url, *args, **kwargs)
        symbol = symbol_of(url)
        try:
            response = super().request(method, url, *args, **kwargs)
        except RequestException as exc:
            failure: SourceError = unanswered(url, exc, YahooWording(symbol))
            self._keep(symbol, failure)
            raise failure from None
        try:
            judge(url, response.status_code, response.headers, response.content)
        except SourceError as exc:
            self._keep(symbol, exc)
            raise
        return response

    def _keep(self, symbol: str, failure: SourceError) -> None:
        with self._lock:
            self._failures[symbol] = failure

    def failures(self, symbols: Sequence[str]) -> dict[str, SourceError]:
        """The failures kept for `symbols` since the last call, forgotten as they are handed over."""
        with self._lock:
            return {s: self._failures.pop(s) for s in symbols if s in self._failures}


def reason(exc: BaseException) -> str:
    """curl's own words without the pointer to its documentation."""
    return f"{type(exc).__name__}: {str(exc).split('. See ', 1)[0]}"


@functools.cache
def yfinance_session(cache_dir: Path) -> CheckedSession:
    """yfinance set up once a process (wherever the client was pickled to) and its session."""
    import yfinance as yf

    cache_dir.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(cache_dir))  # all its caches; instead of ~/.cache/py-yfinance
    yf.config.debug.hide_exceptions = False  # by default yfinance logs failures and returns empty frames
    return CheckedSession()


@dataclass(frozen=True)
class LiveYahooClient:
    """yfinance's multi-ticker `download`, under a hard deadline, each ticker's failure named.
    Small and picklable: each process that runs it sets yfinance up for itself."""

    cache_dir: Path
    deadline_seconds: float

    def download(self, tickers: Sequence[str], start: dt.date) -> Answers:
        import yfinance as yf

        session = yfinance_session(self.cache_dir)
        session.failures(tickers)  # none left from an earlier call that was abandoned
        # Each request may take deadline/2 (the time-zone lookup, then the bars), DOWNLOAD_THREADS at once.
        deadline = self.deadline_seconds * math.ceil(len(tickers) / DOWNLOAD_THREADS)

        def call() -> pd.DataFrame:
            return yf.download(
                list(tickers),
                start=start.isoformat(),
                group_by="ticker",
                session=session,
                threads=DOWNLOAD_THREADS,
                progress=False,  # its bar would go to the terminal
                timeout=max(1.0, self.deadline_seconds / 2),
                **HISTORY_PARAMS,
            )

        what = f"Yahoo Finance ({', '.join(tickers)})"
        try:
            frame = call_with_deadline(call, deadline, what)
        except DeadlineExceeded:
            late = {t: DeadlineExceeded(f"Yahoo Finance ({t}) gave no answer within {deadline:g} s") for t in tickers}
            return late | session.failures(tickers)
        except (LookupError, TypeError, ValueError) as exc:  # frames in a shape it cannot combine
            failure = SourceError(f"{what} answered in a form yfinance could not read ({type(exc).__name__}: {exc})")
            return dict.fromkeys(tickers, failure)
        failures = session.failures(tickers)
        held = set(frame.columns.get_level_values(0)) if isinstance(frame.columns, pd.MultiIndex) else set()
        answers: Answers = {}
        for ticker in tickers:
            # Reindexed to every ticker's dates: the rows of its own are those not wholly empty.
            bars = frame[ticker].dropna(how="all").rename_axis(columns=None) if ticker in held else pd.DataFrame()
            answers[ticker] = failures[ticker] if bars.empty and ticker in failures else bars
        return answers


class RecordedYahooClient:
    """Answers from frames recorded earlier: `DIR/<ticker>.parquet`, each one ticker's bars."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.calls: list[tuple[tuple[str, ...], dt.date]] = []

    def download(self, tickers: Sequence[str], start: dt.date) -> Answers:
        self.calls.append((tuple(tickers), start))
        return {ticker: self.bars(ticker, start) for ticker in tickers}

    def bars(self, ticker: str, start: dt.date) -> pd.DataFrame:
        path = self.directory / f"{ticker}.parquet"
        if not path.exists():
            return pd.DataFrame()
        frame = pd.read_parquet(path)
        days = frame.index.tz_localize(None).normalize() if frame.index.tz else frame.index
        return frame[days >= pd.Timestamp(start)]
