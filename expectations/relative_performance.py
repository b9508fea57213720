"""marts.relative_performance before it is published: the rules beyond its contract
(relative_performance.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from expectations.rules import within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

# Beside the contract's columns. An incremental build checks each ticker's anchor row too, which
# the anchor checks need (relative_performance.yml, incremental.also_checked).
COLUMNS = ("rebased", "benchmark_rebased", "relative_strength")
TOLERANCE = 1e-9


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


def expectations() -> list[gxe.Expectation]:
    from great_expectations import expectations as gxe

    return [
        *(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=100 - TOLERANCE,
                max_value=100 + TOLERANCE,
                description=f"{column.removeprefix('anchor_')} is 100 at the anchor",
            )
            for column in ("anchor_rebased", "anchor_benchmark_rebased")
        ),
        within("relative_strength_gap", TOLERANCE, "relative_strength = rebased / benchmark_rebased x 100"),
    ]
