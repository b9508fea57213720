"""Running a suite as SQL in DuckDB, over a table, a query or a pandas frame.

Suites are Great Expectations suites: GX holds each expectation (its kind, arguments, description
and severity) and the record of a run (its validation result, stored as the report). The rows are
checked by DuckDB: each expectation becomes one condition, and one aggregate query over the rows
counts each condition's failing rows and lists their IDs. GX's own engines would pull the rows into
pandas (its SQL datasource does not run on DuckDB: docs/validation.md says what was measured).

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
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:  # Great Expectations takes seconds to import: only a run that validates loads it
    import great_expectations as gx

ROWS_NAMED = 5  # rows named per failed expectation in the one-line summary
WARNING = "warning"  # GX's FailureSeverity.WARNING
ROW = "__row"  # a frame's row position: failing rows are named in the frame's order
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
    """GX's ephemeral context: GX wants one to exist before a suite is built."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.cache
def _frames() -> duckdb.DuckDBPyConnection:
    """The in-memory database batches are checked in, a cursor per suite: opening one takes 17 ms."""
    return duckdb.connect()


def run_suite(
    build_suite: Callable[[], gx.ExpectationSuite],
    rows: pd.DataFrame | duckdb.DuckDBPyRelation,
    id_columns: Sequence[str],
) -> Result:
    """Validate `rows` (a frame, or a DuckDB relation: a table or a query, checked where it is)
    against the suite and summarise it, naming failing rows by `id_columns`: a frame's in its
    order, a relation's in the order of their IDs."""
    # One suite at a time per process: mapped tasks on threads share GX's context.
    with _validating:
        _context()
        suite = build_suite()
    if isinstance(rows, pd.DataFrame):
        con = _frames().cursor()
        numbered = rows.assign(**{ROW: np.arange(len(rows))})
        try:  # through Arrow: DuckDB's own scan of a frame converts each date object in Python
            relation = con.from_arrow(pa.Table.from_pandas(numbered, preserve_index=False))
        except pa.ArrowException:  # a column of mixed Python types, which DuckDB's scan reads as text
            relation = con.from_df(numbered)
        order: Sequence[str] = (ROW,)
    else:
        relation, order = rows, id_columns
    results, count = evaluate(suite.expectations, relation, id_columns, order)
    if isinstance(rows, pd.DataFrame):
        named_as_in_frame(results, rows, id_columns)
    return summarised(suite, results, count, id_columns)


def named_as_in_frame(results: list, frame: pd.DataFrame, id_columns: Sequence[str]) -> None:
    """A missing ID named as the frame holds it (`nan`, `None`, `NaT`): how callers match rows back."""
    for r in results:
        for row in (r.result or {}).get("unexpected_index_list") or ():
            position = row.pop(ROW)
            for c in id_columns:
                if row[c] is None:
                    row[c] = frame[c].iat[position]


def summarised(suite: gx.ExpectationSuite, results: list, count: int, id_columns: Sequence[str]) -> Result:
    from great_expectations.core import ExpectationSuiteValidationResult

    passed = sum(bool(r.success) for r in results)
    result = ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100 * passed / len(results) if results else None,
        },
    )
    found = [finding(r, id_columns) for r in results if not r.success]
    critical = [f for f in found if f.severity != WARNING]
    report = {
        "suite": suite.name,
        "success": not critical,
        "rows": count,
        "summary": summarise(found, len(results)),
        "findings": [
            {"expectation": f.expectation, "severity": f.severity, "summary": f.summary, "rows": list(f.rows)}
            for f in found
        ],
        "result": result.to_json_dict(),
    }
    return Result(suite.name, not critical, len(results), len(critical), report["summary"], report)


@dataclass(frozen=True)
class Condition:
    """An expectation as SQL: the rows it applies to (`domain`), the rows that fail it (`failing`,
    within the domain), and the window columns `failing` reads (name -> expression)."""

    domain: str
    failing: str
    windows: Mapping[str, str]
    columns: tuple[str, ...]  # the checked columns, listed with each failing row's IDs
    tally: str | None = None  # the failing rows' count, where a query counts them faster than `failing`


def evaluate(
    expectations: Sequence, relation: duckdb.DuckDBPyRelation, id_columns: Sequence[str], order: Sequence[str]
) -> tuple[list, int]:
    """Each expectation's GX validation result over `relation`; and the number of rows. An
    expectation whose SQL does not run is reported as one that could not run."""
    conditions = [condition(e, i) for i, e in enumerate(expectations)]
    try:
        return evaluated(expectations, conditions, relation, id_columns, order)
    except duckdb.Error:
        pass
    # One of them does not run (a column missing, a type it cannot compare): each on its own.
    results, count = [], 0
    for e, c in zip(expectations, conditions, strict=True):
        try:
            [result], count = evaluated([e], [c], relation, id_columns, order)
        except duckdb.Error as exc:
            result = could_not_run(e, str(exc).splitlines()[0])
        results.append(result)
    return results, count


def evaluated(
    expectations: Sequence,
    conditions: Sequence[Condition],
    relation: duckdb.DuckDBPyRelation,
    id_columns: Sequence[str],
    order: Sequence[str],
) -> tuple[list, int]:
    """Two queries: one pass counting each expectation's rows and failing rows, then the failing
    rows' IDs, fetched only where some failed (listing them in the first pass costs more than it)."""
    counts = ", ".join(
        f"count(*) filter (where {c.domain}), {c.tally or f'count(*) filter (where {c.failing})'}" for c in conditions
    )
    [[count, *tallies]] = fetch(relation, f"select count(*), {counts} from rows")
    failing = [i for i, c in enumerate(conditions) if tallies[2 * i + 1]]
    listed: dict[int, list[dict]] = {i: [] for i in range(len(conditions))}
    if failing:
        extra = [ROW] if ROW in order else []  # a frame's row position, to name a missing ID as the frame does
        named = list(dict.fromkeys((*id_columns, *(n for i in failing for n in conditions[i].columns), *extra)))
        flags = ", ".join(f"coalesce({conditions[i].failing}, false)" for i in failing)
        rows = fetch(
            relation,
            f"{checked([conditions[i] for i in failing])} select {', '.join(quote(n) for n in named)}, {flags} "
            "from checked "
            f"where {' or '.join(conditions[i].failing for i in failing)} "
            f"order by {', '.join(quote(c) for c in order)}",
        )
        for row in rows:
            values = dict(zip(named, row, strict=False))
            for i, failed in zip(failing, row[len(named) :], strict=True):
                if failed:
                    listed[i].append({n: values[n] for n in (*id_columns, *conditions[i].columns, *extra)})
    results = [result(e, (tallies[2 * i], tallies[2 * i + 1], listed[i]), count) for i, e in enumerate(expectations)]
    return results, count


def fetch(relation: duckdb.DuckDBPyRelation, sql: str) -> list[tuple]:
    """The rows of `sql`, which reads `relation` as `rows`."""
    answer = relation.query("rows", sql)
    if answer is None:  # only a statement that returns nothing has no relation
        raise duckdb.InvalidInputException(f"{sql}: returned no rows")
    return answer.fetchall()


def checked(conditions: Sequence[Condition]) -> str:
    """The rows, with the window columns `conditions` read."""
    windows = "".join(f", {sql} as {name}" for c in conditions for name, sql in c.windows.items())
    return f"with checked as (select *{windows} from rows)"


def condition(expectation, index: int) -> Condition:
    """The SQL of one expectation, with GX's semantics: a column's nulls are outside the domain of
    every expectation but the null checks; a pair's rows are ignored per its ignore_row_if."""
    kind = expectation.expectation_type
    if kind == "expect_column_values_to_not_be_null":
        column = quote(expectation.column)
        return Condition("true", f"{column} is null", {}, ())
    if kind == "expect_column_values_to_be_null":
        column = quote(expectation.column)
        return Condition("true", f"{column} is not null", {}, (expectation.column,))
    if kind in COLUMN_CHECKS:
        column = quote(expectation.column)
        holds = COLUMN_CHECKS[kind](expectation, column)
        return Condition(
            f"{column} is not null", f"{column} is not null and not coalesce({holds}, false)", {}, (expectation.column,)
        )
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        names = [expectation.column] if kind == "expect_column_values_to_be_unique" else list(expectation.column_list)
        columns = [quote(n) for n in names]
        # GX: a single column's nulls are skipped; a compound key's row only when all of it is null.
        joined = " and " if kind == "expect_column_values_to_be_unique" else " or "
        domain = "(" + joined.join(f"{c} is not null" for c in columns) + ")"
        window, key = f"__rows_{index}", ", ".join(columns)
        # Counted by grouping, which takes half the time of the window that names the rows.
        groups = f"select count(*) as n from rows where {domain} group by {key}"
        tally = f"(select coalesce(sum(n), 0) from ({groups}) where n > 1)"
        return Condition(
            domain, f"{domain} and {window} > 1", {window: f"count(*) over (partition by {key})"}, tuple(names), tally
        )
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = quote(expectation.column_A), quote(expectation.column_B)
        ignored = {
            "both_values_are_missing": f"({a} is null and {b} is null)",
            "either_value_is_missing": f"({a} is null or {b} is null)",
            "neither": "false",
        }[expectation.ignore_row_if]
        holds = f"{a} >{'=' if expectation.or_equal else ''} {b}"
        return Condition(
            f"not {ignored}",
            f"not {ignored} and not coalesce({holds}, false)",
            {},
            (expectation.column_A, expectation.column_B),
        )
    raise TypeError(f"{kind} has no SQL in expectations/validate.py: write its condition there")


def _between(expectation, column: str) -> str:
    bounds = []
    if expectation.min_value is not None:
        bounds.append(f"{column} {'>' if expectation.strict_min else '>='} {literal(expectation.min_value)}")
    if expectation.max_value is not None:
        bounds.append(f"{column} {'<' if expectation.strict_max else '<='} {literal(expectation.max_value)}")
    return " and ".join(bounds) or "true"


COLUMN_CHECKS: dict[str, Callable[[Any, str], str]] = {
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": lambda e, column: (
        f"{column} in ({', '.join(literal(v) for v in e.value_set)})"
    ),
    # GX reads a regex as Python's re.search; DuckDB's regexp_matches searches as well.
    "expect_column_values_to_match_regex": lambda e, column: f"regexp_matches({column}::varchar, {literal(e.regex)})",
}


def literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value!r}::double"
    return "'" + str(value).replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def result(expectation, counts: Sequence, count: int):
    """GX's validation result of one expectation from its domain's rows, failing rows and their list."""
    from great_expectations.core import ExpectationValidationResult

    domain, unexpected, rows = counts
    mostly = getattr(expectation, "mostly", 1) or 0
    success = domain == 0 or (domain - unexpected) / domain >= mostly
    return ExpectationValidationResult(
        success=bool(success),
        expectation_config=expectation.configuration,
        result={
            "element_count": count,
            "missing_count": count - domain,
            "unexpected_count": unexpected,
            "unexpected_percent": 100 * unexpected / domain if domain else None,
            "unexpected_index_list": rows,
        },
        exception_info={"raised_exception": False, "exception_message": None, "exception_traceback": None},
    )


def could_not_run(expectation, message: str):
    from great_expectations.core import ExpectationValidationResult

    return ExpectationValidationResult(
        success=False,
        expectation_config=expectation.configuration,
        result={},
        exception_info={"raised_exception": True, "exception_message": message, "exception_traceback": None},
    )


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
    # Only the rows whose every ID is among the flagged ones' are looked at one by one.
    ids = [frame[c].astype(str) for c in id_columns]
    maybe = np.logical_and.reduce([column.isin({k[i] for k in flags}) for i, column in enumerate(ids)])
    marked = pd.Series(None, index=frame.index, dtype=object)
    for position in np.flatnonzero(maybe):
        key = tuple(column.iat[position] for column in ids)
        if key in flags:
            marked.iat[position] = "; ".join(flags[key])
    return frame.assign(flags=marked)


def finding(result, id_columns: Sequence[str]) -> Finding:
    config = result.expectation_config
    severity = severity_of(config)
    details = result.result or {}
    # GX adds the checked columns' values to each row; a row is named by its IDs alone.
    rows = tuple(
        {c: str(row.get(c)) for c in id_columns}
        for row in (details.get("unexpected_index_list") or [])
        if isinstance(row, dict)
    )
    return Finding(config.description or config.type, severity, describe(result, id_columns), rows)


def severity_of(config) -> str:
    from great_expectations.expectations.metadata_types import FailureSeverity

    return FailureSeverity(config.severity).value


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
    verb = "flagged" if severity_of(config) == WARNING else "failed"
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
