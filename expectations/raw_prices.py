"""Daily bars before they are loaded."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
from great_expectations import expectations as gxe

NAME = "raw_prices"
ID_COLUMNS = ("ticker", "date")
MAX_MOVE = 0.40  # a close-to-close move beyond this, on a day without a split, is a bad bar
PRICES = ("open", "high", "low", "close", "adj_close")


def prepare(batch: pd.DataFrame, previous_close: pd.DataFrame) -> pd.DataFrame:
    """The batch plus `unexplained_move`: the close-to-close move on days without a split.

    `previous_close` holds (ticker, close) of the last stored bar before each ticker's batch, so
    a move across the boundary with what is already loaded is checked too.
    """
    frame = batch.sort_values(["ticker", "date"]).reset_index(drop=True)
    before = frame.groupby("ticker")["close"].shift(1)
    first = before.isna()
    before[first] = frame.loc[first, "ticker"].map(previous_close.set_index("ticker")["close"])
    move = frame["close"] / before - 1
    split_day = (frame["split_ratio"] > 0) & (frame["split_ratio"] != 1)
    return frame.assign(unexplained_move=move.where(~split_day))


def suite() -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=NAME)
    for column in ("ticker", "date", *PRICES, "volume"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(ID_COLUMNS), description="one bar per (ticker, date)")
    )
    for higher, lower in (("high", "low"), ("open", "low"), ("close", "low"), ("high", "open"), ("high", "close")):
        s.add_expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=higher, column_B=lower, or_equal=True, description=f"{lower} <= {higher}"
            )
        )
    for column in PRICES:
        s.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True, description=f"{column} > 0")
        )
    s.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0, description="volume >= 0"))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="unexplained_move",
            min_value=-MAX_MOVE,
            max_value=MAX_MOVE,
            description=f"close-to-close move within ±{MAX_MOVE:.0%} unless a split",
        )
    )
    return s
