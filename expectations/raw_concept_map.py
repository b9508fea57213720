"""The concept map (seeds/concept_map.csv) before it is loaded. Failing rows are named by their line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from expectations.rules import holds

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx

NAME = "raw_concept_map"
ID_COLUMNS = ("line", "metric", "priority")
PERIODS = ["duration", "instant"]


def prepare(concept_map: pd.DataFrame, periods: Mapping[str, str]) -> pd.DataFrame:
    """The map with `line` as a label ("line 7") for the summary, and the derived checks: whether
    each metric uses one period kind throughout (`period_consistent`), is one the models derive
    (`metric_known`: a key of `periods`, metric -> duration or instant) and has the period they
    derive it with (`period_as_declared`; an unknown metric fails the check before)."""
    kinds = concept_map.groupby("metric")["period"].transform("nunique")
    declared = concept_map["metric"].map(periods)
    return concept_map.assign(
        line="line " + concept_map["line"].astype(str),
        period_consistent=kinds == 1,
        metric_known=declared.notna(),
        period_as_declared=declared.isna() | (declared == concept_map["period"]),
    )


def suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations import expectations as gxe

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
    s.add_expectation(holds("period_consistent", "a metric is all duration or all instant"))
    s.add_expectation(
        holds(
            "metric_known",
            "metric is one intermediate.metric_quarters derives (transforms/intermediate/metric_quarters.yml)",
        )
    )
    s.add_expectation(
        holds(
            "period_as_declared",
            "period is the metric's own: duration for a flow, instant for a balance "
            "(transforms/intermediate/metric_quarters.yml)",
        )
    )
    return s
