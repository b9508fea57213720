"""Staged prices: each new payload's bars, parsed where the payload was fetched or read.

A mapped task parses the payload's bytes it already holds (a frame it just stored, a file it just
hashed) and writes the bars as one parquet file under `staged_dir/prices/<run_id>/`; the single
writer then only concatenates those files. A payload whose sha256 was loaded before is skipped
unparsed: an unchanged replay or fetch loads nothing again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.payloads.price_files import TickerNames, read_price_payload
from pipeline.payloads.raw_zone import Loaded, PayloadFile, parquet_bytes, quarantine, quarantine_note, read_meta
from pipeline.runtime import trading_calendar
from pipeline.runtime.clock import NEW_YORK
from pipeline.runtime.errors import PayloadError
from pipeline.runtime.settings import Settings
from warehouse.files import sha256_bytes, write_atomic


@dataclass(frozen=True)
class Staged:
    payload: PayloadFile
    bars: Path | None  # the staged bars; None when the payload was loaded before (skipped)
    # Bars left out as provisional, `TICKER YYYY-MM-DD` each: their session had not closed when
    # the payload was received.
    provisional: tuple[str, ...] = ()


def ticker_names(settings: Settings) -> TickerNames:
    """How file names are read as tickers under these settings: the aliases, and the universe."""
    return TickerNames(settings.ticker_aliases, settings.universe)


def staged_folder(settings: Settings, run_id: str) -> Path:
    return settings.paths.staged / "prices" / run_id


def stated_ticker(names: TickerNames, name: str, meta_ticker: str | None) -> str | None:
    """The ticker a payload's name states, else its metadata: what it was loaded as."""
    return names.named(name) or meta_ticker


def stage(settings: Settings, run_id: str, loaded: Mapping[str, Loaded], payload: PayloadFile, data: bytes) -> Staged:
    """`payload` (whose bytes are `data`) parsed and staged, or skipped when `loaded` (sha256 ->
    Loaded) says it need not load again. One that does not read is quarantined if it is in this
    run's raw zone, and fails the batch."""
    names = ticker_names(settings)
    before = loaded.get(payload.sha256)
    if before is not None and before.skips(payload, stated_ticker(names, payload.path.name, payload.ticker)):
        return Staged(payload, None)
    try:
        bars = read_price_payload(payload, data, names)
    except PayloadError as exc:
        moved = quarantine(settings.paths.raw, [payload], str(exc), run_id, settings.clock.stamp())
        raise PayloadError(f"{exc}; nothing was loaded{quarantine_note(moved)}") from None
    final, received = final_through(settings, payload)
    days = pd.to_datetime(bars["date"])
    # A bar dated after the day it came is from the future: kept, for validation to refuse.
    in_progress = (days > pd.Timestamp(final)) & (days <= pd.Timestamp(received))
    provisional = tuple(
        f"{t} {d:%Y-%m-%d}" for t, d in zip(bars["ticker"][in_progress], days[in_progress], strict=True)
    )
    path = staged_folder(settings, run_id) / f"{payload.sha256}.parquet"
    write_atomic(path, parquet_bytes(bars[~in_progress].reset_index(drop=True)))
    return Staged(payload, path, provisional)


def final_through(settings: Settings, payload: PayloadFile) -> tuple[dt.date, dt.date]:
    """The last session that had closed (and settled) when `payload` was received, and the run
    date it was received on: a bar between the two is of a session in progress, which Yahoo
    serves until the close. A live fetch records both; a payload recorded before is judged by when
    it was received, and a file given by hand (imported, or with no metadata) by the clock."""
    meta = payload.meta
    if meta.get("final_through") and meta.get("run_date"):
        return dt.date.fromisoformat(str(meta["final_through"])), dt.date.fromisoformat(str(meta["run_date"]))
    if meta.get("received_at") and meta.get("source") != "import":
        received = dt.datetime.fromisoformat(str(meta["received_at"]))
        settle = dt.timedelta(minutes=settings.session_settle_minutes)
        return trading_calendar.last_closed(received, settle), received.astimezone(NEW_YORK).date()
    return settings.last_session, settings.clock.today()


def stage_files(settings: Settings, run_id: str, loaded: Mapping[str, Loaded], paths: Iterable[Path]) -> list[Staged]:
    """Each file read once: hashed, then parsed from the same bytes unless loaded before."""
    staged = []
    for path in paths:
        data = path.read_bytes()
        staged.append(stage(settings, run_id, loaded, PayloadFile(path, sha256_bytes(data), read_meta(path)), data))
    return staged


def in_replay_order(staged: Iterable[Staged]) -> list[Staged]:
    """By when each payload was received, then by name (later payloads win on overlap); a payload
    held twice (the same bytes under two names) kept once, at its latest."""
    latest = {s.payload.sha256: s for s in sorted(staged, key=lambda s: s.payload.sort_key)}
    return sorted(latest.values(), key=lambda s: s.payload.sort_key)


def read_staged(staged: Iterable[Staged]) -> pd.DataFrame:
    """The staged bars of every new payload as one frame, each bar with its payload's sha256 and
    place in the batch (`payload_seq`)."""
    frames = [
        pd.read_parquet(s.bars).assign(payload_sha256=s.payload.sha256, payload_seq=seq)
        for seq, s in enumerate(s for s in staged if s.bars is not None)
    ]
    return pd.concat(frames, ignore_index=True)


def clear(settings: Settings, run_id: str) -> None:
    """The run's staged files, once its batch is loaded or has failed: the raw zone keeps the payloads."""
    shutil.rmtree(staged_folder(settings, run_id), ignore_errors=True)
