"""Expectations more than one suite states the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    from great_expectations import expectations as gxe


def within(column: str, bound: float, description: str) -> gxe.ExpectColumnValuesToBeBetween:
    """`column` (computed before the check, by a batch suite's prepare or a mart's derived(): a gap
    between a figure and what it should equal, or a one-day move) is within ±`bound`."""
    from great_expectations import expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=-bound, max_value=bound, description=description)


def holds(column: str, description: str, *, warning: bool = False) -> gxe.ExpectColumnValuesToBeInSet:
    """`column` is each row's verdict on a rule, computed before the check: True where it holds."""
    return verdict(column, True, description, warning)


def never(column: str, description: str, *, warning: bool = False) -> gxe.ExpectColumnValuesToBeInSet:
    """`column` marks each row that breaks a rule, computed before the check: False where it holds."""
    return verdict(column, False, description, warning)


def verdict(column: str, good: bool, description: str, warning: bool) -> gxe.ExpectColumnValuesToBeInSet:
    from great_expectations import expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    severity = FailureSeverity.WARNING if warning else FailureSeverity.CRITICAL  # CRITICAL: GX's default
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[good], description=description, severity=severity)
