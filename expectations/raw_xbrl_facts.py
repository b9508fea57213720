"""SEC companyfacts rows before they are loaded.

Every fact SEC serves is stored as served. Critical: only what makes a fact unusable (no filing to
name, no period or filing date, no value, two values under one key) and a fact from the future.
Critical too: a value that cannot be true, money beyond max_money or a date before earliest_date
or a period ending past the run date's look-ahead (Limits).
Warnings: what is merely odd; the fact loads, flagged with the warning (raw.xbrl_facts.flags).
Unit strings are free text chosen by filers (`segment`, `Segment`, `segments`, `Acquistion`), so a
unit is never refused: one the warehouse has not stored before is flagged, to be looked at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from expectations.rules import never

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx

NAME = "raw_xbrl_facts"
ID_COLUMNS = ("cik", "taxonomy", "concept", "unit", "period", "accn")
PERIODIC_FORMS = ("10-K", "10-Q")
ACCESSION = r"^\d{10}-\d{2}-\d{6}$"
# The units of the marts and of nearly every fact, known before the warehouse holds any: a
# currency code, a currency per share, shares and pure numbers.
STANDARD_UNIT = r"[A-Z]{3}(?:/shares)?|shares|pure"
# Above 2^53 a double no longer holds every whole number: such a value is a filer's scale error,
# usually (a public float of 27,600 trillion dollars).
EXACT_IN_A_DOUBLE = 2**53
MONEY_UNIT = r"[A-Z]{3}(?:/shares)?"  # a currency, or a currency per share


@dataclass(frozen=True)
class Limits:
    """The plausibility bounds, from the settings of the same names (pipeline/runtime/settings.py says why)."""

    max_money: float
    earliest_date: dt.date
    fact_lookahead_days: int


def prepare(batch: pd.DataFrame, run_date: dt.date, known_units: Collection[str], limits: Limits) -> pd.DataFrame:
    """The batch plus what the suite checks: `duration_days` (end - start),
    `filed_after_run_date_days` (filed - the run date, today in New York: above 0 is a fact from
    the future), for 10-K and 10-Q rows `filed_after_end_days` (filed - end), `new_unit` (a unit
    neither standard nor in `known_units`, those raw.xbrl_facts already holds), `share_count`
    (the value of a fact in `shares`), `implausible_money` (a money fact beyond max_money) and
    `implausible_date` (a start, end or filing date before earliest_date, or an end after the run
    date plus fact_lookahead_days)."""
    start, end, filed = (_days(batch[c]) for c in ("start", "end", "filed"))
    earliest = pd.Timestamp(limits.earliest_date)
    latest = pd.Timestamp(run_date) + pd.Timedelta(days=limits.fact_lookahead_days)
    unit = batch["unit"].astype("string")
    money = unit.str.fullmatch(MONEY_UNIT).fillna(False)
    return batch.assign(
        duration_days=(end - start).dt.days,
        filed_after_end_days=(filed - end).dt.days.where(batch["form"].isin(PERIODIC_FORMS)),
        filed_after_run_date_days=(filed - pd.Timestamp(run_date)).dt.days,
        new_unit=~(unit.isin(list(known_units)) | unit.str.fullmatch(STANDARD_UNIT)).fillna(False).astype(bool),
        share_count=batch["val"].where(unit == "shares"),
        implausible_money=(money & (batch["val"].abs() > limits.max_money)).astype(bool),
        implausible_date=(start < earliest) | (end < earliest) | (filed < earliest) | (end > latest),
    )


def _days(values: pd.Series) -> pd.Series:
    """A column of dates (None where missing) as datetime64 in seconds: year 1 and year 9999 fit."""
    # Through Arrow: numpy converts date objects one by one in Python, four times slower.
    days = pa.array(values, type=pa.date32()).to_numpy(zero_copy_only=False)
    return pd.Series(days.astype("datetime64[s]"), index=values.index)


def suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    s = gx.ExpectationSuite(name=NAME)
    for column in ("cik", "taxonomy", "concept", "unit", "end", "val", "accn", "form", "filed"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(ID_COLUMNS), description="one value per (cik, taxonomy, concept, unit, period, accn)"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="accn", regex=ACCESSION, description="accession number is ##########-##-######"
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
    # Critical: values that cannot be true (bounds in pipeline/runtime/settings.py).
    s.add_expectation(never("implausible_money", "money within THESIS_MAX_MONEY"))
    s.add_expectation(
        never("implausible_date", "dated from THESIS_EARLIEST_DATE to THESIS_FACT_LOOKAHEAD_DAYS after the run date")
    )
    # Warnings, each named for what is odd: it becomes the fact's flag.
    s.add_expectation(never("new_unit", "new unit", warning=True))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="val",
            min_value=-EXACT_IN_A_DOUBLE,
            max_value=EXACT_IN_A_DOUBLE,
            description="abs(val) > 2^53",
            severity=FailureSeverity.WARNING,
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="share_count", min_value=0, description="negative share count", severity=FailureSeverity.WARNING
        )
    )
    # Real 10-Qs and 10-Ks carry a few facts about a period that ends after the filing (a dividend
    # declared for the next quarter, an authorised buyback): NVIDIA's companyfacts has 5 in 26,903.
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="filed_after_end_days",
            min_value=0,
            description="10-K or 10-Q fact filed before its period ends",
            severity=FailureSeverity.WARNING,
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="duration_days", min_value=0, description="end before start", severity=FailureSeverity.WARNING
        )
    )
    return s
