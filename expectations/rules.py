"""Expectations more than one suite states the same way."""

from __future__ import annotations

from great_expectations import expectations as gxe


def gap_within(column: str, tolerance: float, description: str) -> gxe.ExpectColumnValuesToBeBetween:
    """`column` holds the difference between a figure and what it should equal (computed in the
    suite's prepare); it must be within ±`tolerance` (rounding, whole dollars)."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=-tolerance, max_value=tolerance, description=description
    )
