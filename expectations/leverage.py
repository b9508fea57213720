"""marts.leverage before it is published: the rules beyond its contract (leverage.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from expectations.rules import holds, within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

COLUMNS = None  # every column
TOLERANCE = 0.5  # US dollars: the values are whole dollars


def derived(variables: Mapping[str, object]) -> dict[str, str]:
    """The free-cash-flow identity's gap and, where equity is positive and debt known, whether debt
    to equity is a finite number (a missing one is not), as SQL over the mart's rows."""
    return {
        "free_cash_flow_gap": "free_cash_flow - (operating_cash_flow - capex)",
        "debt_to_equity_finite": "case when stockholders_equity > 0 and total_debt is not null "
        "then coalesce(isfinite(debt_to_equity::double), false) end",
    }


def expectations() -> list[gxe.Expectation]:
    from great_expectations import expectations as gxe

    return [
        within("free_cash_flow_gap", TOLERANCE, "free_cash_flow = operating_cash_flow - capex"),
        holds("debt_to_equity_finite", "debt_to_equity is finite where equity > 0"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="calendar_quarter", regex=r"^\d{4}Q[1-4]$", description="calendar_quarter like 2025Q3"
        ),
    ]
