"""marts.capex_guidance before it is published: the rules beyond its contract (capex_guidance.yml).

Statements are added in the ledger, seeds/capex_guidance.csv (read by pipeline/payloads/seeds.py);
this suite checks what the mart derives from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from expectations.rules import holds, within

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe

COLUMNS = None  # every column
TOLERANCE = 1e-9
PERIOD_KINDS = ["fiscal_year", "fiscal_half", "fiscal_quarter", "calendar_year"]


def derived(variables: Mapping[str, object]) -> dict[str, str]:
    """`change_in_mid_gap` (change_in_mid_usd_bn recomputed from its inputs) and
    `first_has_no_predecessor` (revision 0, and only it, revises nothing), as SQL over the mart's rows."""
    return {
        "change_in_mid_gap": "change_in_mid_usd_bn - (mid_usd_bn - previous_mid_usd_bn)",
        "first_has_no_predecessor": "(revision_number = 0) = (revises_statement_date is null)",
    }


def expectations() -> list[gxe.Expectation]:
    from great_expectations import expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="period_kind", value_set=PERIOD_KINDS, description=f"period_kind is one of {', '.join(PERIOD_KINDS)}"
        ),
        *(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=higher,
                column_B=lower,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=f"{lower} <= {higher}",
            )
            for higher, lower in (("mid_usd_bn", "low_usd_bn"), ("high_usd_bn", "mid_usd_bn"))
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="statement_date",
            column_B="revises_statement_date",
            ignore_row_if="either_value_is_missing",
            description="a statement revises an earlier one",
        ),
        holds("first_has_no_predecessor", "revision 0, and only it, revises no earlier statement"),
        within("change_in_mid_gap", TOLERANCE, "change_in_mid_usd_bn = mid_usd_bn - previous_mid_usd_bn"),
    ]
