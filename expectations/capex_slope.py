"""marts.capex_slope before it is published."""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations as gx
import pandas as pd
from great_expectations import expectations as gxe

from expectations.rules import never

NAME = "capex_slope"
ID_COLUMNS = ("ticker", "calendar_quarter")


def prepare(mart: pd.DataFrame, variables: Mapping[str, object]) -> pd.DataFrame:
    """The mart plus `summed_short`: an incomplete aggregate quarter that carries a sum anyway."""
    frame = mart.reset_index(drop=True)
    return frame.assign(summed_short=~frame["is_complete"] & frame["capex"].notna())


def suite() -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=NAME)
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(ID_COLUMNS), description="one row per (ticker, calendar_quarter)"
        )
    )
    for column in ("ticker", "calendar_quarter", "currency", "is_complete"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="calendar_quarter", regex=r"^\d{4}Q[1-4]$", description="calendar_quarter like 2025Q3"
        )
    )
    s.add_expectation(never("summed_short", "an incomplete HYPERSCALERS quarter is not summed"))
    s.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="capex", min_value=0, description="capex >= 0"))
    return s
