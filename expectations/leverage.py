"""marts.leverage before it is published: the rules beyond its contract (leverage.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from expectations.rules import holds, within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

COLUMNS = None  # every column
TOLERANCE = 0.5  # US dollars: the values are whole dollars


def prepare(mart: pd.DataFrame, variables: Mapping[str, object]) -> pd.DataFrame:
    """The mart plus the free-cash-flow identity's gap and, where equity is positive and debt known,
    whether debt to equity is a finite number."""
    frame = mart.reset_index(drop=True)
    gap = frame["free_cash_flow"] - (frame["operating_cash_flow"] - frame["capex"])
    ratio = pd.to_numeric(frame["debt_to_equity"], errors="coerce").astype("float64")
    applies = (frame["stockholders_equity"] > 0) & frame["total_debt"].notna()
    return frame.assign(free_cash_flow_gap=gap, debt_to_equity_finite=pd.Series(np.isfinite(ratio)).where(applies))


def expectations() -> list[gxe.Expectation]:
    from great_expectations import expectations as gxe

    return [
        within("free_cash_flow_gap", TOLERANCE, "free_cash_flow = operating_cash_flow - capex"),
        holds("debt_to_equity_finite", "debt_to_equity is finite where equity > 0"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="calendar_quarter", regex=r"^\d{4}Q[1-4]$", description="calendar_quarter like 2025Q3"
        ),
    ]
