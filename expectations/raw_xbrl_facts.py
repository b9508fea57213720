"""SEC companyfacts rows before they are loaded."""

from __future__ import annotations

import datetime as dt

import great_expectations as gx
import pandas as pd
from great_expectations import expectations as gxe

NAME = "raw_xbrl_facts"
ID_COLUMNS = ("cik", "concept", "unit", "period", "accn")
KEY = ["cik", "taxonomy", "concept", "unit", "period", "accn"]
PERIODIC_FORMS = ("10-K", "10-Q")
# Real 10-Qs and 10-Ks carry a few facts about a period that ends after the filing (a dividend
# declared for the next quarter, an authorised buyback): NVIDIA's companyfacts has 5 in 26,849.
# So "filed >= end" must hold for nearly every row, and no row may end far after its filing.
FILED_AFTER_END_MOSTLY = 0.99
MAX_DAYS_AHEAD = 400
ACCESSION = r"^\d{10}-\d{2}-\d{6}$"
# Units SEC uses in companyfacts: a currency code, per share, or a count or ratio. A unit not
# matched here is new to the pipeline; look at it before adding it.
COUNT_UNITS = (
    "shares",
    "pure",
    "segment",
    "instrument",
    "Year",
    "Month",
    "Day",
    "employee",
    "customer",
    "contract",
    "item",
    "Vote",
    "Rate",
    "property",
    "store",
    "country",
    "subsidiary",
    "Position",
)
KNOWN_UNIT = rf"^(?:[A-Z]{{3}}(?:/shares)?|{'|'.join(COUNT_UNITS)})$"


def prepare(batch: pd.DataFrame, run_date: dt.date) -> pd.DataFrame:
    """The batch plus day counts: `duration_days` (end - start), `filed_after_run_date_days`
    (filed - the run date, today in New York: above 0 is a fact from the future) and, for 10-K
    and 10-Q rows, `filed_after_end_days` (filed - end)."""
    end = pd.to_datetime(batch["end"])
    filed = pd.to_datetime(batch["filed"])
    duration = (end - pd.to_datetime(batch["start"])).dt.days
    after_end = (filed - end).dt.days
    return batch.assign(
        duration_days=duration,
        filed_after_end_days=after_end.where(batch["form"].isin(PERIODIC_FORMS)),
        filed_after_run_date_days=(filed - pd.Timestamp(run_date)).dt.days,
    )


def suite() -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=NAME)
    for column in ("cik", "taxonomy", "concept", "unit", "end", "val", "accn", "form", "filed"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=KEY, description="one value per (cik, taxonomy, concept, unit, period, accn)"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="accn", regex=ACCESSION, description="accession number is ##########-##-######"
        )
    )
    s.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="unit", regex=KNOWN_UNIT, description="known unit"))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="duration_days", min_value=0, description="end >= start")
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="filed_after_end_days",
            min_value=0,
            mostly=FILED_AFTER_END_MOSTLY,
            description=f"filed >= end for 10-K and 10-Q (on at least {FILED_AFTER_END_MOSTLY:.0%} of rows)",
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="filed_after_end_days",
            min_value=-MAX_DAYS_AHEAD,
            description=f"no 10-K or 10-Q fact ends more than {MAX_DAYS_AHEAD} days after its filing",
        )
    )
    # Critical: a fact filed after the run date cannot have been known; a replay of payloads from
    # the future (or a clock set wrong) would let a build see it. See DESIGN.md, "Time".
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="filed_after_run_date_days",
            max_value=0,
            description="filed on or before the run date (today in New York)",
        )
    )
    return s
