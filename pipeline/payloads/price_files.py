"""Reading yfinance results and CSV exports, in every layout they come in, into one frame.

Layouts (column names are matched by their letters and digits, in any case: `Adj_Close` is `Adj Close`):
- raw-zone parquet: a `Ticker.history()` frame as received, Date index, ticker in the metadata;
- `yf.download()` CSV: `Date,Open,High,Low,Close,Volume` (auto-adjusted, so Close is adjusted);
- classic CSV: `Date,Open,High,Low,Close,Adj Close,Volume`;
- `Ticker.history()` CSV: `Date,Open,High,Low,Close,Volume,Dividends,Stock Splits`;
- long CSV: `Date,Ticker,Adj Close,Close,High,Low,Open,Volume`, with or without a byte-order mark;
- multi-ticker CSV as yfinance >= 0.2.51 writes it: three header lines `Price`, `Ticker`, `Date`.

Where a layout has no `Adj Close`, Yahoo adjusted the OHLC already: `adj_close` is `Close`, and
`close_is_adjusted` says so.

A file is refused, naming itself and the fault, when its contents, its name and the ticker given
for it disagree (see TickerNames), when a Date is anything but a date (and a time), or when a
price is not a finite number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.payloads.raw_zone import PayloadFile
from pipeline.runtime.errors import PayloadError

# Header -> canonical column, headers compared by their letters and digits in lower case (see
# column_key): `Adj Close`, `Adj_Close`, `adj close`, `AdjClose` and `Adjusted Close` are one.
COLUMNS = {
    "date": "date",
    "datetime": "date",
    "ticker": "ticker",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjclose": "adj_close",
    "adjustedclose": "adj_close",
    "volume": "volume",
    "dividends": "dividend",
    "stocksplits": "split_ratio",
}
REQUIRED = ("date", "open", "high", "low", "close", "volume")
PRICES = ("open", "high", "low", "close", "adj_close")
CANONICAL = ("ticker", "date", *PRICES, "volume", "dividend", "split_ratio", "close_is_adjusted")
# A Yahoo symbol written as one, in capitals: NVDA, ^SOX, BRK-B, ES=F. `export` or `prices_2025` is not.
SYMBOL = re.compile(r"\^?[A-Z][A-Z0-9=-]{0,11}")
# A day, optionally with the time and UTC offset yfinance stamps bars with: `2025-01-02 00:00:00-05:00`.
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


@dataclass(frozen=True)
class TickerNames:
    """How a file's name is read as a ticker: its part before the first dot names one when it is an
    alias (SOX_index -> ^SOX), a configured ticker in any case (nvda), or a Yahoo symbol written in
    capitals (AAPL, ^SOX). Any other name (export.csv, prices_2025.csv) names none."""

    aliases: Mapping[str, str]
    configured: Collection[str] = ()

    def named(self, name: str) -> str | None:
        stem = name.split(".", 1)[0]
        if stem in self.aliases:
            return self.aliases[stem]
        if stem.upper() in self.configured or SYMBOL.fullmatch(stem):
            return stem.upper()
        return None


def read_price_payload(payload: PayloadFile, data: bytes, names: TickerNames) -> pd.DataFrame:
    """The payload, whose bytes are `data`, as canonical rows (see CANONICAL), or PayloadError
    naming the file and the fault."""
    name = payload.path.name
    try:
        frame = pd.read_parquet(io.BytesIO(data)).reset_index() if name.endswith(".parquet") else read_csv(data)
    except PayloadError as exc:
        raise PayloadError(f"{name}: {exc}") from None
    except Exception as exc:  # pandas and pyarrow raise many types for a damaged file
        raise PayloadError(f"{name}: unreadable ({type(exc).__name__}: {exc})") from None
    try:
        return canonical(frame, lambda held: agreed_ticker(payload, held, names))
    except PayloadError as exc:
        raise PayloadError(f"{name}: {exc}") from None


def agreed_ticker(payload: PayloadFile, held: set[str], names: TickerNames) -> set[str]:
    """The tickers a file holds, once every statement of them agrees: its contents (`held`), its
    name, and the ticker given for it (`--ticker` for an import, else a raw-zone file's metadata)."""
    given = "--ticker" if payload.meta.get("source") == "import" else "its metadata"
    named = names.named(payload.path.name)
    claims = [
        ("its Ticker column says", held),
        ("its name says", {named} if named else set()),
        (f"{given} says", {payload.ticker} if payload.ticker else set()),
    ]
    stated = [(where, tickers) for where, tickers in claims if tickers]
    if not stated:
        raise PayloadError(
            "nothing says which ticker it holds (no Ticker column, and its name is no ticker); "
            "pass --ticker or name the file after its ticker"
        )
    for where, tickers in stated[1:]:
        if tickers != stated[0][1]:
            first, ticker_set = stated[0]
            raise PayloadError(f"{first} {', '.join(sorted(ticker_set))} but {where} {', '.join(sorted(tickers))}")
    return stated[0][1]


def check_ticker(path: Path, meta: Mapping[str, object], names: TickerNames) -> None:
    """Before a file is copied anywhere: PayloadError naming it when what says its ticker disagrees."""
    try:
        agreed_ticker(PayloadFile(path, "", meta), header_tickers(path), names)
    except PayloadError as exc:
        raise PayloadError(f"{path.name}: {exc}") from None


def declared_tickers(path: Path, meta: Mapping[str, object], names: TickerNames) -> set[str]:
    """Every ticker a price file says it holds (its contents, its metadata, its name), without
    parsing its bars: a replay is checked for coverage before it runs. Whether they agree, and
    whether the file reads at all, is for the read to refuse."""
    held = {str(meta["ticker"])} if meta.get("ticker") else set()
    named = names.named(path.name)
    return held | ({named} if named else set()) | header_tickers(path)


def header_tickers(path: Path) -> set[str]:
    """The tickers a CSV's Ticker column or Ticker header line holds; none for another file, or one
    that does not read as text."""
    if path.suffix != ".csv":
        return set()
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            if header[:1] == ["Price"]:
                line = next(rows, [])
                return {t.strip().upper() for t in line[1:] if t.strip()} if line[:1] == ["Ticker"] else set()
            names = [c.strip().lower() for c in header]
            if "ticker" not in names:
                return set()
            column = names.index("ticker")
            return {row[column].strip().upper() for row in rows if len(row) > column and row[column].strip()}
    except (UnicodeDecodeError, csv.Error):
        return set()


def read_csv(data: bytes) -> pd.DataFrame:
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    if not lines:
        raise PayloadError("empty file")
    if lines[0].startswith("Price,") and len(lines) > 2 and lines[1].startswith("Ticker,"):
        wide = pd.read_csv(io.StringIO(text), header=[0, 1], index_col=0, skiprows=[2])
        wide.index.name = "Date"
        wide.columns.names = ["Price", "Ticker"]
        return wide.stack(level="Ticker", future_stack=True).reset_index()
    # Every cell as text: a Date or a number is parsed below, exactly, and named when it does not parse.
    return pd.read_csv(io.StringIO(text), dtype=str)


def canonical(frame: pd.DataFrame, ticker_of: Callable[[set[str]], set[str]]) -> pd.DataFrame:
    """Canonical rows; `ticker_of(tickers in the contents)` returns the tickers the file holds."""
    renamed = frame.rename(columns=lambda c: COLUMNS.get(column_key(c), str(c)))
    # An adjusted close left unread would load the close in its place, unsaid.
    odd = [str(c) for c in frame.columns if "adj" in column_key(c) and column_key(c) not in COLUMNS]
    if odd:
        raise PayloadError(
            f"column {odd[0]!r} looks like an adjusted close but is not one this reads; name it 'Adj Close'"
        )
    doubled = [
        str(c) for c in frame.columns if COLUMNS.get(column_key(c)) in renamed.columns[renamed.columns.duplicated()]
    ]
    if doubled:
        raise PayloadError(f"columns {', '.join(map(repr, doubled))} are one column written twice")
    missing = [c for c in REQUIRED if c not in renamed.columns]
    if missing:
        raise PayloadError(f"no {', '.join(missing)} column; not a yfinance layout (found {list(frame.columns)})")
    if renamed.empty:
        raise PayloadError("no rows")
    out = pd.DataFrame(index=renamed.index)
    out["date"] = session_dates(renamed["date"])
    contents = renamed["ticker"].astype("string").str.strip().str.upper() if "ticker" in renamed else None
    if contents is not None and contents.isna().any():
        raise PayloadError(f"the bar of {out['date'][contents.isna()].iloc[0]} has no Ticker")
    held = ticker_of(set(contents) if contents is not None else set())
    out["ticker"] = contents.astype(str) if contents is not None else next(iter(held))
    out["close_is_adjusted"] = "adj_close" not in renamed
    if "adj_close" not in renamed:
        renamed["adj_close"] = renamed["close"]
    for column in (*PRICES, "volume", "dividend", "split_ratio"):
        out[column] = numbers(renamed[column], column, out["date"]) if column in renamed else 0.0
    # raw.prices.volume is a bigint: a larger volume would wrap around to a negative one.
    too_large = out["volume"].abs() >= 2.0**63
    if too_large.any():
        first = too_large.idxmax()
        volume = renamed["volume"][first]
        raise PayloadError(f"column 'volume' on {out['date'][first]} does not fit a 64-bit integer ({volume!r})")
    return out.loc[:, list(CANONICAL)]


def column_key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def numbers(values: pd.Series, column: str, dates: pd.Series) -> pd.Series:
    """A column as finite floats (a blank stays null, for the suite to refuse); PayloadError naming
    the first cell that is not a number, or is one too large to be finite (`1e999`)."""
    parsed = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = (parsed.isna() & values.notna()) | np.isinf(parsed)
    if bad.any():
        first = bad.idxmax()
        what = "not a finite number" if np.isinf(parsed[first]) else "not a number"
        raise PayloadError(f"column {column!r} on {dates[first]} is {what} ({values[first]!r})")
    return parsed


def session_dates(values: pd.Series) -> pd.Series:
    """The exchange-local trading day. yfinance stamps bars at local midnight, often with an offset,
    so the day is the stamp's date as written; anything but a date (and a time) is refused."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None).dt.normalize().dt.date
    if pd.api.types.is_datetime64_dtype(values):
        return values.dt.normalize().dt.date
    text = values.astype("string").str.strip()
    days = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = text.isna() | ~text.fillna("").str.fullmatch(STAMP) | days.isna()
    if bad.any():
        first = bad.idxmax()
        shown = "empty" if pd.isna(text[first]) else repr(text[first])
        raise PayloadError(f"a Date is not a date: {shown} (row {first + 1}); expected YYYY-MM-DD, perhaps with a time")
    return days.dt.date


def events(prices: pd.DataFrame) -> pd.DataFrame:
    """Dividends and splits as rows (ticker, date, event, value)."""
    dividends = prices.loc[prices["dividend"] > 0, ["ticker", "date", "dividend"]]
    splits = prices.loc[(prices["split_ratio"] > 0) & (prices["split_ratio"] != 1), ["ticker", "date", "split_ratio"]]
    return pd.concat(
        [
            dividends.rename(columns={"dividend": "value"}).assign(event="dividend"),
            splits.rename(columns={"split_ratio": "value"}).assign(event="split"),
        ],
        ignore_index=True,
    ).loc[:, ["ticker", "date", "event", "value"]]
