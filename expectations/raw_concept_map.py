"""The concept map (seeds/concept_map.csv) before it is loaded. Failing rows are named by their line."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
from great_expectations import expectations as gxe

NAME = "raw_concept_map"
ID_COLUMNS = ("line", "metric", "priority")
PERIODS = ["duration", "instant"]


def prepare(concept_map: pd.DataFrame) -> pd.DataFrame:
    """The map with `line` as a label ("line 7") for the summary, and whether each metric uses
    one period kind throughout (`period_consistent`)."""
    kinds = concept_map.groupby("metric")["period"].transform("nunique")
    return concept_map.assign(line="line " + concept_map["line"].astype(str), period_consistent=kinds == 1)


def suite() -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=NAME)
    for column in ("metric", "period", "priority", "taxonomy", "concept"):
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"))
    s.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set=PERIODS, description="period is duration or instant")
    )
    s.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["metric", "priority"], description="one concept per (metric, priority)"
        )
    )
    s.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="period_consistent", value_set=[True], description="a metric is all duration or all instant"
        )
    )
    return s
