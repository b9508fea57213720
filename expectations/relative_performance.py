"""marts.relative_performance before it is published."""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations as gx
import pandas as pd
from great_expectations import expectations as gxe

from expectations.rules import within

NAME = "relative_performance"
ID_COLUMNS = ("ticker", "date")
# The columns prepare() and the suite read: the mart's other columns are not fetched for the check.
COLUMNS = (
    "date",
    "ticker",
    "adj_close",
    "benchmark_adj_close",
    "rebased",
    "benchmark_rebased",
    "relative_strength",
    "drawdown",
    "corr_60d",
)
TOLERANCE = 1e-9
# An incremental build checks the rows it derived, and with them each ticker's anchor row, which
# the anchor checks need (a predicate on the mart, aliased `m`).
ALSO_CHECKED = (
    "m.date = (select min(a.date) from marts.relative_performance as a "
    "where a.ticker = m.ticker and a.date >= getvariable('anchor_date'))"
)


def prepare(mart: pd.DataFrame, variables: Mapping[str, object]) -> pd.DataFrame:
    """The mart plus the anchor rows' rebased values and relative strength recomputed from its inputs."""
    frame = mart.reset_index(drop=True)
    dates = pd.to_datetime(frame["date"])
    after = dates.where(dates >= pd.Timestamp(variables["anchor_date"]))
    is_anchor = dates == after.groupby(frame["ticker"]).transform("min")
    return frame.assign(
        anchor_rebased=frame["rebased"].where(is_anchor),
        anchor_benchmark_rebased=frame["benchmark_rebased"].where(is_anchor),
        relative_strength_gap=frame["relative_strength"] - 100 * frame["rebased"] / frame["benchmark_rebased"],
    )


def suite() -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=NAME)
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "ticker"], description="one row per (date, ticker)")
    )
    for column in ("date", "ticker", "adj_close", "benchmark_adj_close", "rebased", "benchmark_rebased"):
        s.add_expectation(
            gxe.ExpectColumnValuesToNotBeNull(
                column=column, description=f"{column} is not null (rebased needs a session on or after the anchor)"
            )
        )
    for column in ("anchor_rebased", "anchor_benchmark_rebased"):
        s.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=100 - TOLERANCE,
                max_value=100 + TOLERANCE,
                description=f"{column.removeprefix('anchor_')} is 100 at the anchor",
            )
        )
    s.add_expectation(
        within("relative_strength_gap", TOLERANCE, "relative_strength = rebased / benchmark_rebased x 100")
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="drawdown", min_value=-1, max_value=0, description="drawdown within [-1, 0]"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="corr_60d", min_value=-1 - TOLERANCE, max_value=1 + TOLERANCE, description="corr_60d within [-1, 1]"
        )
    )
    return s
