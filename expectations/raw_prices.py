"""Daily bars before they are loaded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from expectations.rules import never, within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx

NAME = "raw_prices"
ID_COLUMNS = ("ticker", "date")
MAX_MOVE = 0.40  # a one-day move beyond this, not explained by a declared split, is a bad bar
PRICES = ("open", "high", "low", "close", "adj_close")
NO_STORED = pd.DataFrame({"ticker": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[s]")})


@dataclass(frozen=True)
class Limits:
    """The plausibility bounds, from the settings of the same names (pipeline/runtime/settings.py says why)."""

    min_adj_close_ratio: float
    max_adj_close_ratio: float
    max_volume: float
    earliest_date: dt.date


def prepare(
    batch: pd.DataFrame,
    previous_close: pd.DataFrame,
    run_date: dt.date,
    sessions: Collection[dt.date],
    limits: Limits,
    stored: pd.DataFrame = NO_STORED,
) -> pd.DataFrame:
    """The batch plus the columns the suite checks:

    - `unexplained_move`: the close-to-close move, on a split day the smaller of the move as it is
      and the move once the split ratio is taken out of it (Yahoo's close is split-adjusted, a
      file's raw close moves by the ratio: either explains the day, a 2:1 split with the close
      divided by 10 neither). `previous_close` holds (ticker, close, adj_close) of the last stored
      bar before each ticker's batch, so a move across the boundary with what is already loaded
      is checked too.
    - `adj_close_move`: the adjusted close's move, split days included (it is adjusted for them);
      null where the file sent no adjusted close (`close_is_adjusted`: it is the close).
    - `implausible_adj_close`: adj_close / close outside the limits' bounds.
    - `implausible_volume`: volume above the limits' max_volume (a warning).
    - `before_earliest_date`: dated before the limits' earliest_date.
    - `days_after_run_date`: how far a bar is dated after `run_date` (today in New York); above 0 fails.
    - `exchange_closed`: the bar is dated on a day that is not in `sessions` (a weekend or a
      holiday); null for a bar dated after the run date, which fails on that already.
    - `missing_sessions`: the sessions with no bar between this bar and the ticker's previous bar,
      stored or in the batch (and, where the next bar is a stored one, between this bar and that
      one), as `2025-03-05`, `2025-03-05, 2025-03-06` or `2025-03-05 to 2025-03-07 (3 sessions)`;
      null where there is no gap. A warning: listed in the report, never fails.

    `sessions` holds every exchange session from the earliest bar of the batch or of `stored` to
    the run date. `stored` holds (ticker, date) of the bars already loaded inside each ticker's
    batch span and the nearest one on either side of it.
    """
    frame = batch.sort_values(["ticker", "date"]).reset_index(drop=True)
    move = _move(frame, previous_close, "close")
    split_day = (frame["split_ratio"] > 0) & (frame["split_ratio"] != 1)
    split_out = (1 + move) * frame["split_ratio"] - 1
    unexplained = move.where(~split_day | (move.abs() <= split_out.abs()), split_out)
    ratio = frame["adj_close"] / frame["close"]

    days = _days(frame["date"])
    today = np.datetime64(run_date, "D")
    known = ~np.isnat(days) & (days <= today)
    open_days = np.array(sorted(s for s in sessions if s <= run_date), dtype="datetime64[D]")
    closed = pd.Series(~np.isin(days, open_days), dtype="boolean").where(known)
    ahead = pd.Series((days - today).astype("timedelta64[D]").astype("float64"))  # NaT -> NaN

    return frame.assign(
        unexplained_move=unexplained,
        adj_close_move=_move(frame, previous_close, "adj_close").where(~frame["close_is_adjusted"].astype(bool)),
        # Null where the close is not a price (> 0 fails on it).
        implausible_adj_close=pd.Series(
            ~ratio.between(limits.min_adj_close_ratio, limits.max_adj_close_ratio), dtype="boolean"
        ).where(np.isfinite(ratio)),
        implausible_volume=frame["volume"] > limits.max_volume,
        before_earliest_date=pd.Series(days < np.datetime64(limits.earliest_date, "D")),
        days_after_run_date=ahead,
        exchange_closed=closed,
        missing_sessions=_missing_sessions(frame["ticker"], days, known, stored, open_days),
    )


def _move(frame: pd.DataFrame, previous_close: pd.DataFrame, column: str) -> pd.Series:
    """The one-day move of `column`, the first bar of a ticker against its last stored one."""
    before = frame.groupby("ticker")[column].shift(1)
    first = before.isna()
    before[first] = frame.loc[first, "ticker"].map(previous_close.set_index("ticker")[column])
    return frame[column] / before - 1


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]")


def _missing_sessions(
    tickers: pd.Series, days: np.ndarray, known: np.ndarray, stored: pd.DataFrame, open_days: np.ndarray
) -> pd.Series:
    """Per bar, the sessions missing next to it: every gap with a bar of this batch on at least one
    side is listed once (a gap between two stored bars was listed when the later one was loaded)."""
    out = pd.Series(None, index=tickers.index, dtype=object)
    stored_days = {t: _days(g["date"]) for t, g in stored.groupby("ticker")}
    for ticker, rows in tickers[known].groupby(tickers[known]):
        mine = days[rows.index]
        in_batch = set(mine.tolist())
        bars = np.unique(np.concatenate([mine, stored_days.get(ticker, np.array([], dtype="datetime64[D]"))]))
        last = len(bars) - 1
        for i, day in zip(rows.index, mine, strict=True):
            k = int(np.searchsorted(bars, day))
            gaps = []
            if k > 0:
                gaps.append(_between(open_days, bars[k - 1], day))
            if k < last and bars[k + 1].item() not in in_batch:
                gaps.append(_between(open_days, day, bars[k + 1]))
            out[i] = ", ".join(_gap(g) for g in gaps if len(g)) or None
    return out


def _between(open_days: np.ndarray, after: np.datetime64, before: np.datetime64) -> np.ndarray:
    """The sessions strictly between two days."""
    return open_days[np.searchsorted(open_days, after, "right") : np.searchsorted(open_days, before, "left")]


def _gap(missing: np.ndarray) -> str:
    """`2025-03-05`, `2025-03-05, 2025-03-06`, or `2025-03-05 to 2025-03-07 (3 sessions)`."""
    if len(missing) <= 2:
        return ", ".join(str(d) for d in missing)
    return f"{missing[0]} to {missing[-1]} ({len(missing)} sessions)"


def suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    s = gx.ExpectationSuite(name=NAME)
    for column in ("ticker", "date", *PRICES, "volume"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(ID_COLUMNS), description="one bar per (ticker, date)")
    )
    # Warnings: real vendor files have bars whose open, high or low is out of line (a ^SOX open 2.1
    # points below its low), and none of those columns feeds a mart. The bar loads, flagged.
    for higher, lower in (("high", "low"), ("open", "low"), ("close", "low"), ("high", "open"), ("high", "close")):
        s.add_expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=higher,
                column_B=lower,
                or_equal=True,
                description=f"{lower} <= {higher}",
                severity=FailureSeverity.WARNING,
            )
        )
    for column in PRICES:
        s.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True, description=f"{column} > 0")
        )
    s.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0, description="volume >= 0"))
    s.add_expectation(
        within(
            "unexplained_move",
            MAX_MOVE,
            f"close-to-close move within ±{MAX_MOVE:.0%} unless a declared split explains it",
        )
    )
    s.add_expectation(
        within(
            "adj_close_move",
            MAX_MOVE,
            f"adjusted close-to-close move within ±{MAX_MOVE:.0%} (it is adjusted for splits)",
        )
    )
    s.add_expectation(
        never(
            "implausible_adj_close", "adj_close / close within THESIS_MIN_ADJ_CLOSE_RATIO to THESIS_MAX_ADJ_CLOSE_RATIO"
        )
    )
    s.add_expectation(never("before_earliest_date", "dated on or after THESIS_EARLIEST_DATE"))
    s.add_expectation(never("implausible_volume", "volume > THESIS_MAX_VOLUME", warning=True))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="days_after_run_date", max_value=0, description="no bar dated after the run date (today in New York)"
        )
    )
    # One calendar, the NYSE's (XNYS), for every ticker: the index and the ETFs trade on the same sessions.
    s.add_expectation(never("exchange_closed", "dated on an NYSE session (not a weekend or an exchange holiday)"))
    # A warning: mostly=0 passes whatever the rows hold, and the report's result for this
    # expectation lists each bar after (or before) a gap with its ticker, date and the sessions missing.
    s.add_expectation(
        gxe.ExpectColumnValuesToBeNull(
            column="missing_sessions",
            mostly=0.0,
            severity=FailureSeverity.WARNING,
            description="warning: NYSE sessions with no bar inside a ticker's stored range (listed, never fails)",
            meta={"severity": "warning"},
        )
    )
    return s
