"""Where a batch of prices comes from: Yahoo live, a replayed folder, or imported files.

Each source hands the ingest step staged payloads (pipeline/payloads/staged_prices.py), parsed where they
were fetched or read; everything after that is one code path.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from pipeline.payloads.price_files import check_ticker
from pipeline.payloads.raw_zone import (
    Loaded,
    note_quarantined,
    parquet_bytes,
    payload_paths,
    replay_parts,
    store_copy,
    store_frame,
)
from pipeline.payloads.staged_prices import Staged, in_replay_order, stage, stage_files, ticker_names
from pipeline.runtime.errors import MissingData, PayloadError, SourceError, every_one_failed
from pipeline.runtime.rate_limit import RateLimit
from pipeline.runtime.retry import retrying_each
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.yahoo import HISTORY_PARAMS, YahooClient

PRICE_SUFFIXES = (".csv", ".parquet")
YAHOO = "yahoo-finance"  # the name Yahoo's request rate is shared under
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PriceBatch:
    staged: list[Staged]
    # Tickers that brought no prices, each with why in one line; the others load without them.
    failed: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # worth a line in the run's message


@dataclass(frozen=True)
class Held:
    """What the warehouse holds before a batch: each ticker's last stored date, and each price
    payload loaded before (sha256 -> Loaded)."""

    last_dates: Mapping[str, dt.date] = field(default_factory=dict)
    loaded: Mapping[str, Loaded] = field(default_factory=dict)


@runtime_checkable
class PriceSource(Protocol):
    @property
    def mode(self) -> str: ...  # read-only: a frozen dataclass's field satisfies it

    def stage(self, settings: Settings, run_id: str, held: Held, steps: Steps = DIRECT) -> PriceBatch:
        """This batch's payloads, stored in (or already part of) a raw zone, and staged; those
        `held` says were loaded before are skipped."""
        ...


def run_date(settings: Settings) -> dt.date:
    """Today in New York by the run's clock: no bar may be dated after it (the raw_prices suite's run date)."""
    return settings.clock.today()


def fetch_start(settings: Settings, last: dt.date | None) -> dt.date:
    """Where a ticker's fetch starts: its last stored date minus the lookback, or the history start.
    The last date is capped at the run date, so a bar stored from the future (by an earlier release)
    cannot push every later fetch past what Yahoo has."""
    if last is None:
        return settings.history_start
    return min(last, run_date(settings)) - dt.timedelta(days=settings.lookback_days)


@dataclass(frozen=True)
class Chunk:
    """Tickers fetched in one call, from one start; `loaded`: their payloads loaded before."""

    start: dt.date
    tickers: tuple[str, ...]
    loaded: Mapping[str, Loaded] = field(default_factory=dict)


@dataclass(frozen=True)
class Fetched:
    staged: list[Staged]
    failed: dict[str, SourceError]


def behind(settings: Settings, held: Held) -> list[str]:
    """The tickers of the universe whose stored bars stop before the last closed NYSE session (a
    bar stored from the future, by an earlier release, is no sign of holding it)."""
    last, today = settings.last_session, run_date(settings)
    return [t for t in settings.universe if not last <= held.last_dates.get(t, dt.date.min) <= today]


def chunks(settings: Settings, held: Held) -> list[Chunk]:
    """The tickers behind the last closed session, grouped by where each one's fetch starts, cut
    into chunks of price_chunk_size."""
    groups: dict[dt.date, list[str]] = {}
    for ticker in behind(settings, held):
        groups.setdefault(fetch_start(settings, held.last_dates.get(ticker)), []).append(ticker)
    hashes: dict[str | None, dict[str, Loaded]] = {}
    for sha, before in held.loaded.items():
        hashes.setdefault(before.subject, {})[sha] = before
    size = settings.price_chunk_size
    return [
        Chunk(start, tickers, {sha: b for ticker in tickers for sha, b in hashes.get(ticker, {}).items()})
        for start, group in sorted(groups.items())
        for tickers in (tuple(group[i : i + size]) for i in range(0, len(group), size))
    ]


def fetch_chunk(
    client: YahooClient, settings: Settings, run_id: str, acquire: Callable[[int], None], chunk: Chunk
) -> Fetched:
    """One download for the chunk's tickers (again for those that failed for a passing reason);
    each ticker's frame stored in the raw zone as received, and staged. A ticker that brings no
    prices is handed back with its error, for the others to load without it."""

    def ask(tickers: list[str]) -> dict[str, pd.DataFrame | SourceError]:
        acquire(len(tickers))
        answers = client.download(tickers, chunk.start)
        return {t: no_prices(t) if isinstance(a, pd.DataFrame) and a.empty else a for t, a in answers.items()}

    shown = ", ".join(chunk.tickers[:3]) + (f" and {len(chunk.tickers) - 3} more" if len(chunk.tickers) > 3 else "")
    answers = retrying_each(
        ask, chunk.tickers, settings.fetch_retries, settings.retry_backoff_seconds, f"Yahoo Finance ({shown})"
    )
    params = {**HISTORY_PARAMS, "group_by": "ticker", "start": chunk.start.isoformat(), "end": None}
    # A bar after the last closed session, up to the run date, is of a session in progress.
    final, run_day = settings.last_session.isoformat(), run_date(settings).isoformat()
    staged, failed = [], {}
    for ticker in chunk.tickers:
        answer = answers[ticker]
        if isinstance(answer, SourceError):
            failed[ticker] = answer
            continue
        framed = answer.copy(deep=False)
        framed.attrs["ticker"] = ticker  # in the bytes too: two tickers' identical bars are two payloads
        data = parquet_bytes(framed)
        meta = {
            "source": "yahoo",
            "call": "yfinance.download",
            "params": params,
            "rows": len(answer),
            "final_through": final,
            "run_date": run_day,
        }
        payload = store_frame(settings.paths.raw / "prices", ticker, data, meta, settings.clock.stamp())
        staged.append(stage(settings, run_id, chunk.loaded, payload, data))
    return Fetched(staged, failed)


def no_prices(ticker: str) -> MissingData:
    return MissingData(f"Yahoo Finance returned no prices for {ticker} (misspelled or delisted ticker?)")


@dataclass(frozen=True)
class YahooPrices:
    """Fetch the universe in chunks, each ticker from its last stored date minus the lookback;
    store each ticker's frame as received. The chunks share Yahoo's request rate."""

    client: YahooClient
    mode: str = "live"

    def stage(self, settings: Settings, run_id: str, held: Held, steps: Steps = DIRECT) -> PriceBatch:
        asked = behind(settings, held)
        if not asked:
            return PriceBatch(
                [],
                notes=(
                    f"prices: the warehouse holds {settings.last_session}, "
                    "the last closed NYSE session, for every ticker: nothing new to fetch",
                ),
            )
        acquire = steps.limiter(RateLimit(YAHOO, settings.yahoo_requests_per_second, settings.price_chunk_size))
        fetched = steps.map(partial(fetch_chunk, self.client, settings, run_id, acquire), chunks(settings, held))
        failed = {t: e for f in fetched for t, e in f.failed.items()}
        if len(failed) == len(asked):
            # No network, throttled throughout, or every ticker wrong.
            raise every_one_failed({t: failed[t] for t in asked}, "no prices loaded for any ticker")
        staged = [s for f in fetched for s in f.staged]
        return PriceBatch(staged, {t: str(failed[t]) for t in asked if t in failed})


@dataclass(frozen=True)
class ReplayPrices:
    """Every price file under DIR/prices: a raw zone of this pipeline's, or CSV exports."""

    directory: Path
    mode: str = "replay"

    def stage(self, settings: Settings, run_id: str, held: Held, steps: Steps = DIRECT) -> PriceBatch:
        if "prices" not in replay_parts(self.directory):
            log.warning("%s has no prices/ folder: prices skipped, SEC filings only", self.directory)
            return PriceBatch([])
        if skipped := note_quarantined(self.directory, "prices"):
            log.warning(skipped)
        folder = self.directory / "prices"
        paths = payload_paths(folder, PRICE_SUFFIXES)
        if not paths:
            raise PayloadError(f"{folder} holds no .csv or .parquet price files")
        size = settings.price_chunk_size
        staged = steps.map(
            partial(stage_files, settings, run_id, held.loaded),
            [tuple(paths[i : i + size]) for i in range(0, len(paths), size)],
        )
        return PriceBatch(in_replay_order(s for chunk in staged for s in chunk))


@dataclass(frozen=True)
class ImportedPrices:
    """yfinance CSV exports given by hand: copied into the raw zone, then loaded."""

    files: Sequence[Path]
    ticker: str | None = None
    mode: str = "import"

    def stage(self, settings: Settings, run_id: str, held: Held, steps: Steps = DIRECT) -> PriceBatch:
        missing = [str(f) for f in self.files if not Path(f).is_file()]
        if missing:
            raise PayloadError(f"no such file: {', '.join(missing)}")
        meta = {"source": "import", **({"ticker": self.ticker.upper()} if self.ticker else {})}
        for f in self.files:  # a file and --ticker that disagree are refused before anything is copied
            check_ticker(Path(f), meta, ticker_names(settings))
        staged = []
        received = settings.clock.stamp()  # files imported together: none of them is the later one
        for f in self.files:
            data = Path(f).read_bytes()
            payload = store_copy(settings.paths.raw / "prices", Path(f), data, meta, received)
            staged.append(stage(settings, run_id, held.loaded, payload, data))
        log.info("copied %d file(s) into %s", len(staged), settings.paths.raw / "prices")
        return PriceBatch(staged)
