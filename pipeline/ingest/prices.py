"""Ingesting prices: payloads from a price source -> one validated batch -> raw.prices.

A payload whose sha256 was loaded before is skipped: an unchanged replay or fetch loads nothing
again (unless received again after a later payload of its ticker: raw_zone.Loaded). Of two
payloads that overlap, the one received later wins, whichever loads last. A ticker Yahoo brought
no prices for is named in the run (meta.runs.failed) and the others load. A payload of this run's
raw zone that does not read, or holds a bar failing a critical expectation, is quarantined
(pipeline/payloads/raw_zone.py) and the batch loads nothing. A bar failing a warning loads, flagged in
raw.prices.flags.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from expectations import raw_prices
from expectations.validate import WARNING, findings, flagged
from pipeline.payloads import staged_prices
from pipeline.payloads.price_files import events
from pipeline.payloads.raw_zone import PayloadFile, loaded_payloads, quarantine, quarantine_failing, quarantine_note
from pipeline.runtime import trading_calendar
from pipeline.runtime.errors import PayloadError
from pipeline.runtime.run_status import failed_line
from pipeline.runtime.runs import check, log_warnings, record, recorded_run
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.prices import Held, PriceBatch, PriceSource, YahooPrices, run_date
from pipeline.sources.yahoo import LiveYahooClient
from warehouse.connection import connect, transaction
from warehouse.load import upsert


@dataclass(frozen=True)
class IngestResult:
    run_id: str
    payloads: int
    rows: int
    tickers: tuple[str, ...]
    skipped: int = 0  # payloads loaded before, by sha256
    # Tickers that brought no prices, each with why in one line; the others loaded.
    failed: Mapping[str, str] = field(default_factory=dict)
    # Bars left out, `TICKER YYYY-MM-DD`: their session had not closed when they were fetched.
    provisional: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


log = logging.getLogger(__name__)


def live_prices(settings: Settings) -> YahooPrices:
    return YahooPrices(LiveYahooClient(settings.paths.cache / "yfinance", settings.fetch_timeout_seconds))


def ingest_prices(
    settings: Settings, source: PriceSource, run_id: str | None = None, steps: Steps = DIRECT
) -> IngestResult:
    with recorded_run(settings, "ingest_prices", source.mode, run_id) as run:
        with connect(settings.paths.warehouse) as con:
            held = held_prices(con, staged_prices.ticker_names(settings))
        try:
            fetched = source.stage(settings, run.run_id, held, steps)
            run.failed = dict(fetched.failed)
            result = load_staged(settings, run.run_id, fetched)
        finally:
            staged_prices.clear(settings, run.run_id)
        run.message = result_message(result)
        log.info(run.message)
        return result


def held_prices(con: duckdb.DuckDBPyConnection, names: staged_prices.TickerNames) -> Held:
    """Each ticker's last stored date, and every price payload loaded before, about the ticker it
    stated (by its name, else its metadata)."""
    last_dates = dict(con.execute("select ticker, max(date) from raw.prices group by ticker").fetchall())
    payloads = con.execute("select sha256, path, ticker, received_at from meta.payloads where source != 'sec'")
    loaded = loaded_payloads(
        (sha, staged_prices.stated_ticker(names, Path(path).name, ticker), received)
        for sha, path, ticker, received in payloads.fetchall()
    )
    return Held(last_dates, loaded)


def load_staged(settings: Settings, run_id: str, fetched: PriceBatch) -> IngestResult:
    """Validate the new staged payloads as one batch and load it; the skipped ones are only counted."""
    payloads = [s.payload for s in fetched.staged if s.bars is not None]
    skipped = len(fetched.staged) - len(payloads)
    provisional = tuple(bar for s in fetched.staged for bar in s.provisional)
    if not payloads:  # a replay folder with sec/ only, or nothing new
        return IngestResult(run_id, 0, 0, (), skipped, fetched.failed, provisional, fetched.notes)
    batch = read_batch(fetched, settings, run_id)
    today = run_date(settings)
    with connect(settings.paths.warehouse) as con:
        batch = without_replaced(con, batch, payloads)
        check_identity(settings, run_id, con, batch, payloads)
        stored = stored_dates(con, batch)
        checked = raw_prices.prepare(
            batch, previous_close(con, batch), today, calendar_sessions(batch, stored, today), limits(settings), stored
        )
        outcome = check(settings, run_id, raw_prices, checked)
        record(con, run_id, outcome)
        found = findings(outcome.report_path)
        if not outcome.success:
            failing = [r for f in found if f.severity != WARNING for r in f.rows]
            reason = f"validation of {outcome.suite} failed: {outcome.summary}"
            raise quarantine_failing(
                settings, run_id, reason, outcome.report_path, failing, batch, raw_prices.ID_COLUMNS, payloads
            )
        load(con, flagged(batch, found, raw_prices.ID_COLUMNS), payloads, run_id, settings.clock.recorded())
    warn_missing_sessions(checked, outcome.report_path)
    log_warnings(found, outcome.report_path)
    tickers = tuple(sorted(batch["ticker"].unique()))
    return IngestResult(run_id, len(payloads), len(batch), tickers, skipped, fetched.failed, provisional, fetched.notes)


def result_message(result: IngestResult) -> str:
    if result.payloads:
        said = f"loaded {result.rows} bars for {', '.join(result.tickers)} from {result.payloads} payload(s)"
    else:
        said = "no new price payloads to load"
    if result.skipped:
        said += f"; {result.skipped} unchanged payload(s) skipped"
    if result.provisional:
        said += f"; left out as provisional (the session had not closed when fetched): {', '.join(result.provisional)}"
    said += "".join(f"; {note}" for note in result.notes)
    if result.failed:
        said += f"; {failed_line(result.failed)}"
    return said


def read_batch(fetched: PriceBatch, settings: Settings, run_id: str) -> pd.DataFrame:
    """The staged bars as one frame of the configured universe. Where payloads overlap, the later
    one's bar wins (a revision), but two whose order is unknown must agree; duplicates inside one
    payload stay, for validation to reject."""
    batch = staged_prices.read_staged(fetched.staged)
    skipped = sorted(set(batch["ticker"]) - set(settings.universe))
    if skipped:
        log.info("skipping tickers outside the configured universe: %s", ", ".join(skipped))
    batch = batch[batch["ticker"].isin(settings.universe)]
    if batch.empty:
        raise PayloadError(f"no prices for {', '.join(settings.universe)} in {len(fetched.staged)} payload file(s)")
    refuse_disagreeing(settings, run_id, batch, [s.payload for s in fetched.staged if s.bars is not None])
    latest = batch.groupby(["ticker", "date"])["payload_seq"].transform("max")
    return batch[batch["payload_seq"] == latest].drop(columns="payload_seq").reset_index(drop=True)


def refuse_disagreeing(settings: Settings, run_id: str, batch: pd.DataFrame, payloads: list[PayloadFile]) -> None:
    """PayloadError naming the first two payloads of the batch whose order is unknown (received at
    the same moment, or with no receive time: files imported or replayed together) and whose closes
    of a (ticker, date) differ by more than THESIS_DISAGREEMENT_TOLERANCE: which one wins would be
    an accident of their names. Both are quarantined (those in this run's raw zone). Payloads
    received one after the other overlap by design (a fetch repeats the last days) and differ
    after a revision, a dividend or a split: the later one wins."""
    received = [str(p.meta.get("received_at", "")) for p in payloads]
    bars = batch[["ticker", "date", "close", "payload_seq"]].assign(
        received=batch["payload_seq"].map(received.__getitem__)
    )
    pairs = bars.merge(bars, on=["ticker", "date", "received"], suffixes=("", "_other"))
    pairs = pairs[pairs["payload_seq"] < pairs["payload_seq_other"]]
    off = (pairs["close"] - pairs["close_other"]).abs() / pairs[["close", "close_other"]].abs().max(axis=1)
    disagree = pairs[off > settings.disagreement_tolerance].sort_values(["date", "ticker", "payload_seq"])
    if disagree.empty:
        return
    first = disagree.iloc[0]
    day = pd.Timestamp(first["date"])
    one, other = payloads[first["payload_seq"]], payloads[first["payload_seq_other"]]
    reason = (
        f"{one.path.name} and {other.path.name} disagree on {first['ticker']}'s close of {day:%Y-%m-%d} "
        f"({first['close']:g} against {first['close_other']:g}; THESIS_DISAGREEMENT_TOLERANCE is "
        f"{settings.disagreement_tolerance:.1%}) and nothing says which is later: give only the right one; "
        "nothing was loaded"
    )
    moved = quarantine(settings.paths.raw, [one, other], reason, run_id, settings.clock.stamp())
    raise PayloadError(reason + quarantine_note(moved))


def without_replaced(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame, payloads: list[PayloadFile]) -> pd.DataFrame:
    """The batch without the bars a payload received after theirs has stored: of two payloads that
    overlap, the later one wins whichever loads last (an older file imported or replayed after a
    newer one). Where either receipt is unknown, the bar loading now wins."""
    received = {p.sha256: p.received_at for p in payloads}
    incoming = batch[["ticker", "date", "payload_sha256"]].assign(
        received_at=pd.to_datetime(batch["payload_sha256"].map(received), utc=True)
    )
    con.register("incoming_bars", incoming)
    try:
        later = con.execute(
            """select i.ticker, i.date from incoming_bars as i
               join raw.prices as s on s.ticker = i.ticker and s.date = i.date
               join meta.payloads as m on m.sha256 = s.payload_sha256
               where m.received_at > i.received_at"""
        ).df()
    finally:
        con.unregister("incoming_bars")
    if later.empty:
        return batch
    log.info("kept %d stored bars that payloads received later had stored", len(later))
    keys = pd.MultiIndex.from_frame(later.assign(date=pd.to_datetime(later["date"])))
    mine = pd.MultiIndex.from_arrays([batch["ticker"], pd.to_datetime(batch["date"])])
    return batch[~mine.isin(keys)].reset_index(drop=True)


def check_identity(
    settings: Settings, run_id: str, con: duckdb.DuckDBPyConnection, batch: pd.DataFrame, payloads: list[PayloadFile]
) -> None:
    """PayloadError naming the first payload whose adjusted closes differ from those stored for its
    ticker, on the dates both hold, by a median relative difference above THESIS_IDENTITY_TOLERANCE:
    it holds another ticker's prices under this one's name (quarantined if in this run's raw zone).
    Adjusted closes, not closes: a split between the stored bars and the file changes the closes."""
    con.register("batch_closes", batch[["payload_sha256", "ticker", "date", "adj_close"]])
    try:
        mismatch = con.execute(
            """
            select b.payload_sha256, b.ticker, median(abs(b.adj_close - p.adj_close) / p.adj_close) as off,
                count(*) as shared
            from batch_closes as b join raw.prices as p on p.ticker = b.ticker and p.date = b.date
            where p.adj_close > 0
            group by b.payload_sha256, b.ticker
            having median(abs(b.adj_close - p.adj_close) / p.adj_close) > ?
            order by b.payload_sha256, b.ticker
            """,
            [settings.identity_tolerance],
        ).fetchall()
    finally:
        con.unregister("batch_closes")
    if not mismatch:
        return
    sha, ticker, off, shared = mismatch[0]
    payload = next(p for p in payloads if p.sha256 == sha)
    reason = (
        f"{payload.path.name}: its adjusted closes differ from the {ticker} prices stored by a median "
        f"{off:.1%} on {shared} shared dates (THESIS_IDENTITY_TOLERANCE is {settings.identity_tolerance:.0%}): "
        f"not {ticker}'s prices; nothing was loaded"
    )
    moved = quarantine(settings.paths.raw, [payload], reason, run_id, settings.clock.stamp())
    raise PayloadError(reason + quarantine_note(moved))


def limits(settings: Settings) -> raw_prices.Limits:
    return raw_prices.Limits(
        settings.min_adj_close_ratio, settings.max_adj_close_ratio, settings.max_volume, settings.earliest_date
    )


def previous_close(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame) -> pd.DataFrame:
    """The last stored close and adjusted close before each ticker's first date in the batch."""
    firsts = batch.groupby("ticker", as_index=False)["date"].min()
    con.register("batch_firsts", firsts)
    try:
        return con.execute("""
            select p.ticker, arg_max(p.close, p.date) as close, arg_max(p.adj_close, p.date) as adj_close
            from raw.prices as p join batch_firsts as f on p.ticker = f.ticker and p.date < f.date
            group by p.ticker
        """).df()
    finally:
        con.unregister("batch_firsts")


def stored_dates(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame) -> pd.DataFrame:
    """(ticker, date) of the stored bars inside each ticker's span in the batch, and the nearest
    stored bar on either side of it: what a gap next to a bar of the batch is measured against."""
    spans = batch.groupby("ticker", as_index=False)["date"].agg(first_date="min", last_date="max")
    con.register("batch_spans", spans)
    try:
        return con.execute("""
            select p.ticker, p.date
            from raw.prices as p join batch_spans as s on p.ticker = s.ticker
            where p.date between s.first_date and s.last_date
            union
            select p.ticker, max(p.date)
            from raw.prices as p join batch_spans as s on p.ticker = s.ticker and p.date < s.first_date
            group by p.ticker
            union
            select p.ticker, min(p.date)
            from raw.prices as p join batch_spans as s on p.ticker = s.ticker and p.date > s.last_date
            group by p.ticker
        """).df()
    finally:
        con.unregister("batch_spans")


def calendar_sessions(batch: pd.DataFrame, stored: pd.DataFrame, run_date: dt.date) -> list[dt.date]:
    """Every NYSE session from the earliest bar of the batch or of `stored` to the latest one (at
    most the run date): the calendar facts the raw_prices suite checks the bars against."""
    days = pd.concat([pd.to_datetime(batch["date"]), pd.to_datetime(stored["date"])]).dropna()
    if days.empty:
        return []
    return trading_calendar.sessions(days.min().date(), min(days.max().date(), run_date))


def warn_missing_sessions(checked: pd.DataFrame, report_path: Path) -> None:
    """The raw_prices suite's warning, in the log too: sessions with no bar, which do not stop a load."""
    gaps = checked.dropna(subset=["missing_sessions"])
    if not gaps.empty:
        listed = "; ".join(f"{r.ticker} {r.date}: {r.missing_sessions}" for r in gaps.itertuples())
        log.warning("NYSE sessions with no bar (a warning; the bars loaded): %s (report: %s)", listed, report_path)


def load(
    con: duckdb.DuckDBPyConnection,
    batch: pd.DataFrame,
    payloads: list[PayloadFile],
    run_id: str,
    loaded_at: dt.datetime,
) -> None:
    """One transaction: the bars, their dividend and split events, and the payload records."""
    provenance = {"run_id": run_id, "loaded_at": loaded_at}
    prices = batch.drop(columns=["dividend", "split_ratio"]).assign(
        volume=batch["volume"].round().astype("int64"), **provenance
    )
    price_events = events(batch).merge(batch[["ticker", "date", "payload_sha256"]], on=["ticker", "date"])
    rows = batch.groupby("payload_sha256").size()
    payload_rows = pd.DataFrame(
        [
            {
                "sha256": p.sha256,
                "path": str(p.path),
                "source": str(p.meta.get("source", "file")),
                "ticker": p.ticker,
                "rows": int(rows.get(p.sha256, 0)),
                "received_at": p.received_at,
                **provenance,
            }
            for p in payloads
        ]
    )
    with transaction(con):
        upsert(con, "raw.prices", prices)
        upsert(con, "raw.price_events", price_events.assign(**provenance))
        upsert(con, "meta.payloads", payload_rows)
