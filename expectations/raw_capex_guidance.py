"""The guidance ledger (seeds/capex_guidance.csv) before it is loaded.

A new statement must pass these checks: seeds/README.md describes the columns.
Failing rows are named by their ledger line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

from expectations.rules import holds

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx

NAME = "raw_capex_guidance"
ID_COLUMNS = ("line", "ticker", "fiscal_period", "statement_date")
STATEMENT = ["ticker", "fiscal_period", "statement_date"]
FISCAL_PERIOD = r"^(?:FY\d{4}(?:Q[1-4]|H[12])?|CY\d{4})$"
FIGURES = ("low_usd_bn", "high_usd_bn", "point_usd_bn")
# The ledger's columns, in file order; every one but the figures must be filled.
COLUMNS = (
    "ticker",
    "statement_date",
    "date_precision",
    "fiscal_period",
    *FIGURES,
    "basis",
    "qualitative",
    "quote",
    "source_url",
    "evidence",
)
REQUIRED = tuple(c for c in COLUMNS if c not in FIGURES)


def prepare(
    ledger: pd.DataFrame, known_tickers: Collection[str], today: dt.date, warn_above: float, error_above: float
) -> pd.DataFrame:
    """The ledger with `line` as a label ("line 7") for the summary, and the derived checks:
    `known_ticker`, `figure_or_qualitative`, for a month-precision date its `day_of_month`,
    `not_future` (stated on or before `today`, the run's date) and whether the largest figure is
    at most `warn_above` and `error_above` US$ billions (`plausible`, `possible`)."""
    has_figure = ledger[list(FIGURES)].notna().any(axis=1)
    largest = ledger[list(FIGURES)].max(axis=1)
    qualitative = ledger["qualitative"].fillna(False).astype(bool)
    month = ledger["date_precision"] == "month"
    return ledger.assign(
        line="line " + ledger["line"].astype(str),
        known_ticker=ledger["ticker"].isin(known_tickers),
        figure_or_qualitative=has_figure != qualitative,
        day_of_month=ledger["statement_date"].map(lambda d: d.day if d is not None else None).where(month),
        not_future=ledger["statement_date"].map(lambda d: d is None or d <= today),
        plausible=largest.isna() | (largest <= warn_above),
        possible=largest.isna() | (largest <= error_above),
    )


def suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations import expectations as gxe

    s = gx.ExpectationSuite(name=NAME)
    for column in REQUIRED:
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"))
    s.add_expectation(
        holds("known_ticker", "ticker is a known company (seeds/companies.csv, THESIS_HYPERSCALERS or THESIS_TICKERS)")
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="fiscal_period",
            regex=FISCAL_PERIOD,
            description="fiscal_period reads like FY2026, FY2026Q1, FY2025H2 or CY2026",
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="date_precision", value_set=["day", "month"], description="date_precision is day or month"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="day_of_month",
            min_value=1,
            max_value=1,
            description="a month-precision statement_date is the month's first day",
        )
    )
    s.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="high_usd_bn",
            column_B="low_usd_bn",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description="low_usd_bn <= high_usd_bn",
        )
    )
    for column in ("low_usd_bn", "high_usd_bn", "point_usd_bn"):
        s.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True, description=f"{column} > 0")
        )
    s.add_expectation(holds("not_future", "statement_date is not after the run's date"))
    s.add_expectation(holds("possible", "a figure is at most THESIS_GUIDANCE_ERROR_ABOVE_USD_BN (US$ billions)"))
    s.add_expectation(
        holds("plausible", "a figure is at most THESIS_GUIDANCE_WARN_ABOVE_USD_BN (US$ billions)", warning=True)
    )
    s.add_expectation(holds("figure_or_qualitative", "a figure, or qualitative = true with no figure"))
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="source_url", regex=r"^https?://\S+$", description="source_url is an http(s) URL"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="evidence", value_set=["seen", "secondary"], description="evidence is seen or secondary"
        )
    )
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=STATEMENT, description="one statement per (ticker, fiscal_period, statement_date)"
        )
    )
    return s
