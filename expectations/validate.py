"""Running a suite on a pandas frame with an ephemeral Great Expectations context.

GX's SQL datasource does not work on DuckDB, so suites run on frames pulled from it
(`con.sql(...).df()`) or on a batch before it is loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

ROWS_NAMED = 5  # rows named per failed expectation in the one-line summary


@dataclass(frozen=True)
class Result:
    suite: str
    success: bool
    evaluated: int
    failed: int
    summary: str
    report: dict  # the full result, as JSON-ready data, for the caller to store


@functools.cache
def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context, context.data_sources.add_pandas("frames")


def run_suite(build_suite: Callable[[], gx.ExpectationSuite], frame: pd.DataFrame, id_columns: Sequence[str]) -> Result:
    """Validate `frame` against the suite and summarise it, naming failing rows by `id_columns`."""
    _, source = _context()  # GX wants its context to exist before a suite is built
    suite = build_suite()
    try:
        asset = source.get_asset(suite.name)
    except LookupError:
        asset = source.add_dataframe_asset(suite.name)
    batch_definition = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("all")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": list(id_columns)}
    )

    failures = [r for r in result.results if not r.success]
    summary = "; ".join(describe(r, id_columns) for r in failures) or f"all {len(result.results)} expectations passed"
    report = {
        "suite": suite.name,
        "success": result.success,
        "rows": len(frame),
        "summary": summary,
        "result": result.to_json_dict(),
    }
    return Result(suite.name, bool(result.success), len(result.results), len(failures), summary, report)


def describe(result, id_columns: Sequence[str]) -> str:
    """`low <= open` failed on 2 rows: NVDA 2025-03-04, NVDA 2025-03-05"""
    config = result.expectation_config
    label = config.description or config.type
    details = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        return f"{label} could not run: {result.exception_info.get('exception_message')}"
    count = details.get("unexpected_count")
    if count is None:
        return f"{label} failed (observed {details.get('observed_value')!r})"
    # GX adds the checked columns' values to each row; the summary names the row by its IDs alone.
    rows = [
        " ".join(str(row.get(c)) for c in id_columns) if isinstance(row, dict) else str(row)
        for row in (details.get("unexpected_index_list") or [])[:ROWS_NAMED]
    ]
    more = f" and {count - len(rows)} more" if count > len(rows) else ""
    return f"{label} failed on {count} row{'s' if count != 1 else ''}: {', '.join(rows)}{more}"
