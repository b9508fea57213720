"""Reading yfinance results and CSV exports, in every layout they come in, into one frame.

Layouts (column names are matched case-insensitively):
- raw-zone parquet: a `Ticker.history()` frame as received, Date index, ticker in the metadata;
- `yf.download()` CSV: `Date,Open,High,Low,Close,Volume` (auto-adjusted, so Close is adjusted);
- classic CSV: `Date,Open,High,Low,Close,Adj Close,Volume`;
- `Ticker.history()` CSV: `Date,Open,High,Low,Close,Volume,Dividends,Stock Splits`;
- long CSV: `Date,Ticker,Adj Close,Close,High,Low,Open,Volume`, with or without a byte-order mark;
- multi-ticker CSV as yfinance >= 0.2.51 writes it: three header lines `Price`, `Ticker`, `Date`.

Where a layout has no `Adj Close`, Yahoo adjusted the OHLC already: `adj_close` is `Close`, and
`close_is_adjusted` says so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipeline.errors import PayloadError
from pipeline.raw_zone import PayloadFile

COLUMNS = {
    "date": "date",
    "datetime": "date",
    "ticker": "ticker",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj close": "adj_close",
    "volume": "volume",
    "dividends": "dividend",
    "stock splits": "split_ratio",
}
REQUIRED = ("date", "open", "high", "low", "close", "volume")
PRICES = ("open", "high", "low", "close", "adj_close")
CANONICAL = ("ticker", "date", *PRICES, "volume", "dividend", "split_ratio", "close_is_adjusted")


def read_price_payload(payload: PayloadFile, aliases: Mapping[str, str], ticker: str | None = None) -> pd.DataFrame:
    """The payload as canonical rows (see CANONICAL), or PayloadError naming the file and the fault."""
    name = payload.path.name
    try:
        data = payload.path.read_bytes()
        frame = pd.read_parquet(io.BytesIO(data)).reset_index() if name.endswith(".parquet") else read_csv(data)
    except PayloadError as exc:
        raise PayloadError(f"{name}: {exc}") from None
    except Exception as exc:  # pandas and pyarrow raise many types for a damaged file
        raise PayloadError(f"{name}: unreadable ({type(exc).__name__}: {exc})") from None
    try:
        return canonical(frame, payload.ticker or ticker or ticker_from_name(name, aliases))
    except PayloadError as exc:
        raise PayloadError(f"{name}: {exc}") from None


def declared_tickers(path: Path, meta: Mapping[str, object], aliases: Mapping[str, str]) -> set[str]:
    """The tickers a price file holds, by the same precedence as reading it (its contents, its
    metadata, its name), without parsing its bars: a replay is checked before it runs."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            if header[:1] == ["Price"]:
                line = next(rows, [])
                if line[:1] == ["Ticker"]:
                    return {t.strip().upper() for t in line[1:] if t.strip()}
            names = [c.strip().lower() for c in header]
            if "ticker" in names:
                column = names.index("ticker")
                return {row[column].strip().upper() for row in rows if len(row) > column and row[column].strip()}
    return {str(meta.get("ticker") or ticker_from_name(path.name, aliases))}


def ticker_from_name(name: str, aliases: Mapping[str, str]) -> str:
    stem = name.split(".", 1)[0]
    return aliases.get(stem, stem.upper())


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
    return pd.read_csv(io.StringIO(text))


def canonical(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    renamed = frame.rename(columns=lambda c: COLUMNS.get(str(c).strip().lower(), str(c)))
    missing = [c for c in REQUIRED if c not in renamed.columns]
    if missing:
        raise PayloadError(f"no {', '.join(missing)} column; not a yfinance layout (found {list(frame.columns)})")
    if renamed.empty:
        raise PayloadError("no rows")
    out = pd.DataFrame(index=renamed.index)
    out["ticker"] = renamed["ticker"].astype(str).str.upper() if "ticker" in renamed else ticker
    out["date"] = session_dates(renamed["date"])
    out["close_is_adjusted"] = "adj_close" not in renamed
    if "adj_close" not in renamed:
        renamed["adj_close"] = renamed["close"]
    for column in (*PRICES, "volume", "dividend", "split_ratio"):
        if column not in renamed:
            out[column] = 0.0
            continue
        try:
            out[column] = pd.to_numeric(renamed[column]).astype("float64")
        except (ValueError, TypeError) as exc:
            raise PayloadError(f"column {column!r} is not numeric ({exc})") from None
    return out.loc[:, list(CANONICAL)]


def session_dates(values: pd.Series) -> pd.Series:
    """The exchange-local trading day. yfinance stamps bars at local midnight, often with an offset."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None).dt.normalize().dt.date
    try:
        return pd.to_datetime(values.astype(str).str.slice(0, 10), format="%Y-%m-%d").dt.date
    except ValueError as exc:
        raise PayloadError(f"a Date does not parse ({exc})") from None


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
