"""Running a suite on a pandas frame with an ephemeral Great Expectations context.

GX's SQL datasource does not work on DuckDB, so suites run on frames pulled from it
(`con.sql(...).df()`) or on a batch before it is loaded.

Each expectation carries GX's own severity (critical unless it says otherwise). A suite succeeds
when no critical expectation failed: a failed warning names its rows, which load flagged.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.metadata_types import FailureSeverity

ROWS_NAMED = 5  # rows named per failed expectation in the one-line summary
WARNING = FailureSeverity.WARNING.value
_validating = threading.Lock()


@dataclass(frozen=True)
class Finding:
    """One failed expectation: its description, severity, one-line summary and every failing row's IDs."""

    expectation: str
    severity: str
    summary: str
    rows: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Result:
    suite: str
    success: bool  # no critical expectation failed
    evaluated: int
    failed: int  # critical expectations that failed
    summary: str
    report: dict  # the full result, as JSON-ready data, for the caller to store


@functools.cache
def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context, context.data_sources.add_pandas("frames")


def run_suite(build_suite: Callable[[], gx.ExpectationSuite], frame: pd.DataFrame, id_columns: Sequence[str]) -> Result:
    """Validate `frame` against the suite and summarise it, naming failing rows by `id_columns`."""
    # One suite at a time per process: mapped tasks on threads share the context, whose assets
    # GX adds and looks up without a lock.
    with _validating:
        return _run_suite(build_suite, frame, id_columns)


def _run_suite(
    build_suite: Callable[[], gx.ExpectationSuite], frame: pd.DataFrame, id_columns: Sequence[str]
) -> Result:
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

    found = [finding(r, id_columns) for r in result.results if not r.success]
    critical = [f for f in found if f.severity != WARNING]
    report = {
        "suite": suite.name,
        "success": not critical,
        "rows": len(frame),
        "summary": summarise(found, len(result.results)),
        "findings": [
            {"expectation": f.expectation, "severity": f.severity, "summary": f.summary, "rows": list(f.rows)}
            for f in found
        ],
        "result": result.to_json_dict(),
    }
    return Result(suite.name, not critical, len(result.results), len(critical), report["summary"], report)


def summarise(found: Sequence[Finding], evaluated: int) -> str:
    """Critical failures first; then each warning, as `warning: low <= open flagged on 1 row: ^SOX 2023-04-26`."""
    critical = [f.summary for f in found if f.severity != WARNING]
    warnings = [f"warning: {f.summary}" for f in found if f.severity == WARNING]
    if not found:
        return f"all {evaluated} expectations passed"
    return "; ".join((critical or ["all critical expectations passed"]) + warnings)


def findings(report_path: Path) -> list[Finding]:
    """The findings of a stored report (`run_suite`'s, as JSON): what a loader flags or quarantines by."""
    return report_findings(json.loads(report_path.read_text()))


def report_findings(report: Mapping) -> list[Finding]:
    """The findings of a report (`Result.report`, or one read back from its JSON)."""
    return [Finding(f["expectation"], f["severity"], f["summary"], tuple(f["rows"])) for f in report["findings"]]


def flagged(frame: pd.DataFrame, found: Sequence[Finding], id_columns: Sequence[str]) -> pd.DataFrame:
    """The frame with `flags`: the warnings each row failed, joined (`low <= open; low <= close`),
    else null. Rows are matched by `id_columns`, as the findings name them."""
    flags: dict[tuple[str, ...], list[str]] = {}
    for f in found:
        if f.severity == WARNING:
            for row in f.rows:
                flags.setdefault(tuple(row[c] for c in id_columns), []).append(f.expectation)
    if not flags:
        return frame.assign(flags=None)
    keys = zip(*(frame[c].astype(str) for c in id_columns), strict=True)
    return frame.assign(flags=["; ".join(flags[k]) if k in flags else None for k in keys])


def finding(result, id_columns: Sequence[str]) -> Finding:
    config = result.expectation_config
    severity = FailureSeverity(config.severity).value
    details = result.result or {}
    # GX adds the checked columns' values to each row; a row is named by its IDs alone.
    rows = tuple(
        {c: str(row.get(c)) for c in id_columns}
        for row in (details.get("unexpected_index_list") or [])
        if isinstance(row, dict)
    )
    return Finding(config.description or config.type, severity, describe(result, id_columns), rows)


def describe(result, id_columns: Sequence[str]) -> str:
    """`low <= open failed on 2 rows: NVDA 2025-03-04, NVDA 2025-03-05` (a warning is `flagged on`)."""
    config = result.expectation_config
    label = config.description or config.type
    details = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        return f"{label} could not run: {result.exception_info.get('exception_message')}"
    count = details.get("unexpected_count")
    if count is None:
        return f"{label} failed (observed {details.get('observed_value')!r})"
    rows = [
        " ".join(str(row.get(c)) for c in id_columns) if isinstance(row, dict) else str(row)
        for row in (details.get("unexpected_index_list") or [])[:ROWS_NAMED]
    ]
    verb = "flagged" if FailureSeverity(config.severity).value == WARNING else "failed"
    return failed_on(label, verb, rows, count)


def failed_on(label: str, verb: str, named: Sequence[str], count: int) -> str:
    """`label verb on N rows: a, b and 3 more`, `named` being the first rows' IDs."""
    more = f" and {count - len(named)} more" if count > len(named) else ""
    return f"{label} {verb} on {count} row{'s' if count != 1 else ''}: {', '.join(named)}{more}"


def critical_summary(
    found: Sequence[Finding], id_columns: Sequence[str], keep: Callable[[Mapping[str, str]], bool]
) -> str:
    """The critical findings in `summarise`'s words, each cut to the failing rows `keep` accepts (one
    company's, say); empty when none of them is."""
    parts = []
    for f in found:
        rows = [r for r in f.rows if keep(r)] if f.severity != WARNING else []
        if rows:
            named = [" ".join(r[c] for c in id_columns) for r in rows[:ROWS_NAMED]]
            parts.append(failed_on(f.expectation, "failed", named, len(rows)))
    return "; ".join(parts)
