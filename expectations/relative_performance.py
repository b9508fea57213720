"""marts.relative_performance before it is published: the rules beyond its contract
(relative_performance.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from expectations.rules import within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

# Beside the contract's columns. An incremental build checks each ticker's anchor row too, which
# the anchor checks need (relative_performance.yml, incremental.also_checked).
COLUMNS = ("rebased", "benchmark_rebased", "relative_strength")
TOLERANCE = 1e-9


def derived(variables: Mapping[str, object]) -> dict[str, str]:
    """The anchor rows' rebased values, and relative strength's gap from its inputs, as SQL over the mart's rows."""
    anchor = f"date '{variables['anchor_date']}'"
    is_anchor = f"date = min(date) filter (where date >= {anchor}) over (partition by ticker)"
    return {
        "anchor_rebased": f"case when {is_anchor} then rebased end",
        "anchor_benchmark_rebased": f"case when {is_anchor} then benchmark_rebased end",
        "relative_strength_gap": "relative_strength - 100 * rebased / benchmark_rebased",
    }


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
