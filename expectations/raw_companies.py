"""The company list (seeds/companies.csv) before it is loaded. Failing rows are named by their line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx

NAME = "raw_companies"
ID_COLUMNS = ("line", "ticker")
FISCAL_YEAR_END = r"^(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"


def prepare(companies: pd.DataFrame) -> pd.DataFrame:
    """The list with `line` as a label ("line 7") for the summary."""
    return companies.assign(line="line " + companies["line"].astype(str))


def suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations import expectations as gxe

    s = gx.ExpectationSuite(name=NAME)
    for column in ("ticker", "cik", "name", "fiscal_year_end"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"))
    s.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="ticker", description="one line per ticker"))
    s.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="cik", description="one line per CIK"))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="cik", min_value=1, max_value=9_999_999_999, description="cik has 1 to 10 digits"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="fiscal_year_end", regex=FISCAL_YEAR_END, description="fiscal_year_end is MMDD, like 0131"
        )
    )
    return s
