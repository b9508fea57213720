"""marts.capex_slope before it is published: the rules beyond its contract (capex_slope.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from expectations.rules import never

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

COLUMNS = None  # every column


def derived(variables: Mapping[str, object]) -> dict[str, str]:
    """`summed_short`: an incomplete aggregate quarter that carries a sum anyway, as SQL over the mart's rows."""
    return {"summed_short": "not is_complete and capex is not null"}


def expectations() -> list[gxe.Expectation]:
    from great_expectations import expectations as gxe

    return [
        gxe.ExpectColumnValuesToMatchRegex(
            column="calendar_quarter", regex=r"^\d{4}Q[1-4]$", description="calendar_quarter like 2025Q3"
        ),
        never("summed_short", "an incomplete HYPERSCALERS quarter is not summed"),
    ]
