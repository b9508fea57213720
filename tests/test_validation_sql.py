"""Suites run as SQL in DuckDB: over a relation where the rows are (a mart), with GX's semantics,
and without Great Expectations loaded by importing the pipeline."""

import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from expectations.marts import MartSuite
from expectations.validate import run_suite
from tests.conftest import PROJECT


@pytest.fixture
def con():
    with duckdb.connect() as con:
        # k = 2 twice; a missing once (k = 2) and negative once (k = 3)
        con.execute(
            "create table t as select * from (values (1, 1.0, 0.5), (2, null, 2.0), (2, 3.0, null), (3, -1.0, -2.0)) "
            "as v(k, a, b)"
        )
        yield con


def test_a_mart_is_checked_where_it_is_naming_each_failing_row_by_its_grain(con):
    suite = MartSuite("t", ("k",), not_null=("a",), accepted_range={"a": (0, None)})
    checked = run_suite(suite.suite, suite.rows(con, "select * from t", {}), suite.ID_COLUMNS)
    assert not checked.success and checked.failed == 3
    # The null a is outside the range check's rows, as in GX; both rows of k = 2 break the grain.
    assert checked.summary == (
        "one row per k failed on 2 rows: 2, 2; a is not null failed on 1 row: 2; a >= 0 failed on 1 row: 3"
    )
    assert checked.report["rows"] == 4
    [grain] = [r for r in checked.report["result"]["results"] if r["expectation_config"]["type"].endswith("unique")]
    assert grain["result"]["unexpected_count"] == 2


def test_an_expectation_that_cannot_run_is_named_and_the_others_still_run(con):
    suite = MartSuite("t", ("k",), not_null=("c",))  # t has no column c
    checked = run_suite(suite.suite, suite.rows(con, "select * from t", {}), suite.ID_COLUMNS)
    assert not checked.success
    assert checked.summary.startswith("one row per k failed on 2 rows: 2, 2; c is not null could not run: ")


def test_importing_the_build_does_not_load_great_expectations():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pipeline.build.run; print('great_expectations' in sys.modules)"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "False"


def test_a_batch_column_of_mixed_python_types_is_checked_as_text():
    suite = MartSuite("mixed", ("line",), not_null=("x",))
    frame = pd.DataFrame({"line": ["line 2", "line 3", "line 4"], "x": pd.Series([1, "a", None], dtype=object)})
    checked = run_suite(suite.suite, frame, suite.ID_COLUMNS)
    assert checked.summary == "x is not null failed on 1 row: line 4"
