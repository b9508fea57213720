"""Whether Great Expectations' SQL datasource runs on DuckDB, and what it costs.

duckdb-engine (the SQLAlchemy dialect GX needs) is not a dependency of the pipeline, so this runs
in a throwaway venv:

    uv venv /tmp/gx-sql && uv pip install --python /tmp/gx-sql/bin/python \\
        great_expectations==1.24.1 duckdb==2.0.0 duckdb-engine sqlalchemy
    /tmp/gx-sql/bin/python benchmarks/gx_sql_datasource.py [ROWS]

It fills a DuckDB file with ROWS rows (100,000 by default), adds it as a GX SQL datasource, runs
one expectation of each kind the pipeline's suites use, and prints, per expectation, whether it ran
and its unexpected count (or the error it raised), then the CPU time of importing GX and of the
validation. docs/validation.md quotes what it printed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

start = time.process_time()
import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
from great_expectations import expectations as gxe  # noqa: E402

imported = time.process_time() - start


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    path = Path(tempfile.mkdtemp()) / "gx.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table t as select i % 1000 as ticker, i as k, (i % 97)::double as v, "
            "case when i % 50000 = 7 then null else 'x' end as s from range(?) as r(i)",
            [rows],
        )
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql("duckdb", connection_string=f"duckdb:///{path}")
    batch = source.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    suite = context.suites.add(gx.ExpectationSuite(name="kinds"))
    for expectation in (
        gxe.ExpectColumnValuesToNotBeNull(column="s"),
        gxe.ExpectColumnValuesToBeUnique(column="k"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["ticker", "k"]),
        gxe.ExpectColumnValuesToBeBetween(column="v", min_value=0, max_value=90),
        gxe.ExpectColumnValuesToBeInSet(column="s", value_set=["x"]),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="k", column_B="v", or_equal=True),
        gxe.ExpectColumnValuesToMatchRegex(column="s", regex="^x$"),
    ):
        suite.add_expectation(expectation)
    start = time.process_time()
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    validated = time.process_time() - start
    for r in result.results:
        errors = [v.get("exception_message") for v in (r.exception_info or {}).values() if isinstance(v, dict)]
        outcome = f"raised: {errors[0]}" if errors else f"ran, unexpected_count {r.result.get('unexpected_count')}"
        print(f"{r.expectation_config.type}: {outcome}")
    print(f"rows: {rows:,}")
    print(f"importing great_expectations (CPU): {imported * 1000:.0f} ms")
    print(f"validation (CPU): {validated * 1000:.0f} ms")


if __name__ == "__main__":
    main()
