"""marts.capex_slope before it is published: the rules beyond its contract (capex_slope.yml)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from great_expectations import expectations as gxe

from expectations.rules import never

COLUMNS = None  # every column


def prepare(mart: pd.DataFrame, variables: Mapping[str, object]) -> pd.DataFrame:
    """The mart plus `summed_short`: an incomplete aggregate quarter that carries a sum anyway."""
    frame = mart.reset_index(drop=True)
    return frame.assign(summed_short=~frame["is_complete"] & frame["capex"].notna())


def expectations() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToMatchRegex(
            column="calendar_quarter", regex=r"^\d{4}Q[1-4]$", description="calendar_quarter like 2025Q3"
        ),
        never("summed_short", "an incomplete HYPERSCALERS quarter is not summed"),
    ]
