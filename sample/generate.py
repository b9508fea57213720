"""Writes the bundled sample: a small raw zone of made-up daily bars. SAMPLE DATA, not market prices.

    .venv/bin/python sample/generate.py

The bars follow a few hand-set waypoints (below) with seeded noise, in the layout yfinance's
`Ticker.history(auto_adjust=False, actions=True)` returns, so the sample replays through the same
code path as a live fetch. NVDA pays a quarterly dividend, so it has events and an Adj Close that
differs from Close. Re-running writes identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.runtime import trading_calendar

HERE = Path(__file__).parent
RECEIVED_AT = dt.datetime(2026, 3, 6, 23, 0, tzinfo=dt.UTC)
# The NYSE's sessions: no bar on a weekend or an exchange holiday, as Yahoo serves them.
SESSIONS = pd.DatetimeIndex(pd.to_datetime(trading_calendar.sessions(dt.date(2025, 1, 2), dt.date(2026, 3, 6))))

# Close at each waypoint; log-linear in between, plus noise of the given daily size.
WAYPOINTS = {
    "NVDA": (
        {
            "2025-01-02": 138.0,
            "2025-04-07": 97.0,
            "2025-08-01": 173.5,
            "2025-10-29": 207.0,
            "2026-01-02": 188.0,
            "2026-03-06": 190.0,
        },
        0.012,
    ),
    "^SOX": (
        {
            "2025-01-02": 5000.0,
            "2025-04-07": 3700.0,
            "2025-08-01": 5530.0,
            "2025-10-29": 7100.0,
            "2026-01-02": 7300.0,
            "2026-03-06": 8100.0,
        },
        0.010,
    ),
    "ORCL": (
        {
            "2025-01-02": 168.0,
            "2025-04-07": 125.0,
            "2025-08-01": 250.0,
            "2025-09-09": 238.0,
            "2025-09-10": 325.0,
            "2025-12-01": 205.0,
            "2026-03-06": 150.0,
        },
        0.011,
    ),
}
NVDA_DIVIDENDS = {"2025-03-12": 0.01, "2025-06-11": 0.01, "2025-09-11": 0.01, "2025-12-04": 0.01}
VOLUME = {"NVDA": 200_000_000, "ORCL": 9_000_000, "^SOX": 0}


def closes(ticker: str, rng: np.random.Generator) -> pd.Series:
    points, noise = WAYPOINTS[ticker]
    anchors = pd.Series({pd.Timestamp(d): np.log(v) for d, v in points.items()})
    path = anchors.reindex(SESSIONS.union(anchors.index)).interpolate(method="time").reindex(SESSIONS)
    wiggle = pd.Series(rng.normal(0, noise, len(SESSIONS)), index=SESSIONS).cumsum()
    wiggle -= wiggle.reindex(anchors.index).reindex(SESSIONS).interpolate(method="time").bfill().ffill()
    return np.exp(path + wiggle).round(2)  # the noise is pinned to zero at every waypoint


def history(ticker: str, rng: np.random.Generator) -> pd.DataFrame:
    close = closes(ticker, rng)
    previous = close.shift(1).fillna(close.iloc[0])
    open_ = (previous * (1 + rng.normal(0, 0.004, len(close)))).round(2)
    high = (np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, len(close))))).round(2)
    low = (np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, len(close))))).round(2)
    dividends = pd.Series(0.0, index=SESSIONS)
    if ticker == "NVDA":
        dividends[pd.to_datetime(list(NVDA_DIVIDENDS))] = list(NVDA_DIVIDENDS.values())
    # Yahoo's Adj Close: each dividend scales every earlier close by (1 - dividend / previous close).
    factor = (1 - dividends / previous).iloc[::-1].cumprod().iloc[::-1].shift(-1).fillna(1.0)
    index = SESSIONS.tz_localize("America/New_York").rename("Date")
    return pd.DataFrame(
        {
            "Open": open_.values,
            "High": high.values,
            "Low": low.values,
            "Close": close.values,
            "Adj Close": (close * factor).values,
            "Volume": (VOLUME[ticker] * rng.uniform(0.6, 1.4, len(close))).astype("int64")
            if VOLUME[ticker]
            else np.zeros(len(close), dtype="int64"),
            "Dividends": dividends.values,
            "Stock Splits": 0.0,
        },
        index=index,
    )


def main() -> None:
    from pipeline.payloads.raw_zone import store

    out = HERE / "prices"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    rng = np.random.default_rng(20250801)
    for ticker in WAYPOINTS:
        frame = history(ticker, rng)
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        meta = {
            "source": "yahoo",
            "call": "yfinance.Ticker.history",
            "ticker": ticker,
            "sample": True,
            "note": "SAMPLE DATA made by sample/generate.py, not market prices",
            "params": {"interval": "1d", "auto_adjust": False, "actions": True, "start": "2025-01-02"},
            "received_at": RECEIVED_AT.isoformat(),
            "rows": len(frame),
        }
        payload = store(out, f"{ticker}.{RECEIVED_AT:%Y%m%dT%H%M%SZ}", ".parquet", buffer.getvalue(), meta)
        print(json.dumps({"ticker": ticker, "file": payload.path.name, "rows": len(frame)}))


if __name__ == "__main__":
    main()
