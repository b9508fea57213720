"""The thesis scorecard: every claim in seeds/claims.yml evaluated against the warehouse.

Each build appends one row per claim to marts.thesis_scorecard, so the history of every claim
is kept; the file's header describes a claim entry. A claim whose inputs are missing (a table not
built yet, no row, a NULL value) scores `insufficient_data`, never `supported`; one whose evidence
is older than a bound of the sources it reads (pipeline/build/freshness.py) scores `stale`, never
`supported`: its value is kept, and its evidence says which bound it missed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import yaml

from pipeline.build.query_limits import Limits, memory_limited, stopped_after
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.settings import ALL_DATA
from transforms.runner import lineage, relations

if TYPE_CHECKING:  # the bounds come from pipeline/build/freshness.py, which loads the trading calendar
    from pipeline.build.freshness import Bound

COMPARATORS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
BETWEEN = "between"
FIELDS = ("id", "statement", "window", "metric", "comparator", "threshold")
METRIC_COLUMNS = ["value", "as_of", "evidence"]
# Every status, in the order tallies list them (marts.thesis_scorecard's and thesis_timeline's check).
STATUSES = ("supported", "not_supported", "stale", "insufficient_data")
# The query nodes of a query that only reads. DuckDB parses `with d as (delete ... returning *)
# select ...` and even a COPY in a CTE as a SELECT statement: each such CTE is a node of its own
# kind (DELETE_QUERY_NODE, COPY_QUERY_NODE, ...), which this list leaves out.
READING_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
# How a metric reads the evaluation date; the timeline puts each week's last session in its place.
AS_OF = re.compile(r"getvariable\s*\(\s*'as_of'\s*\)", re.IGNORECASE)


class ClaimError(PipelineError):
    """A claim entry that cannot be evaluated: named by its id, with the reason."""


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    window: str
    metric: str
    comparator: str
    threshold: tuple[float, ...]  # (low, high) for between, else one number

    def holds(self, value: float) -> bool:
        if self.comparator == BETWEEN:
            low, high = self.threshold
            return low <= value <= high
        return COMPARATORS[self.comparator](value, self.threshold[0])

    @property
    def threshold_text(self) -> str:
        """The test as people read it: `<= -20`, `between 180 and 210`."""
        numbers = [f"{n:g}" for n in self.threshold]
        return (
            f"between {numbers[0]} and {numbers[1]}"
            if self.comparator == BETWEEN
            else f"{self.comparator} {numbers[0]}"
        )


@dataclass(frozen=True)
class Score:
    claim_id: str
    statement: str
    value: float | None
    threshold: str
    status: str
    as_of: dt.date | None
    evidence: str


def load_claims(path: Path) -> list[Claim]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ClaimError(f"{path}: cannot read the claims: {one_line(str(exc))}") from None
    entries = document.get("claims") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ClaimError(f"{path}: expected a non-empty list under `claims:`")
    claims = [parse_claim(entry, position) for position, entry in enumerate(entries, start=1)]
    seen = set()
    for claim in claims:
        if claim.id in seen:
            raise ClaimError(f"claim {claim.id}: the id is used twice")
        seen.add(claim.id)
    return claims


def parse_claim(entry: object, position: int) -> Claim:
    name = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"#{position}"

    def refuse(reason: str) -> ClaimError:
        return ClaimError(f"claim {name}: {reason}")

    if not isinstance(entry, dict):
        raise refuse("expected a mapping with " + ", ".join(FIELDS))
    missing = [f for f in FIELDS if entry.get(f) in (None, "", [])]
    if missing:
        raise refuse("missing " + ", ".join(missing))
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise refuse("unknown fields " + ", ".join(unknown))
    comparator = str(entry["comparator"]).strip()
    if comparator not in (*COMPARATORS, BETWEEN):
        raise refuse(f"unknown comparator {comparator!r} (expected one of {', '.join([*COMPARATORS, BETWEEN])})")
    threshold = entry["threshold"]
    numbers = threshold if isinstance(threshold, list) else [threshold]
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise refuse(f"threshold {threshold!r} is not a number")
    if not all(math.isfinite(n) for n in numbers):
        raise refuse(f"threshold {threshold!r} is not a finite number")
    if comparator == BETWEEN and (len(numbers) != 2 or numbers[0] > numbers[1]):
        raise refuse(f"threshold {threshold!r}: between needs [low, high] with low <= high")
    if comparator != BETWEEN and len(numbers) != 1:
        raise refuse(f"threshold {threshold!r}: {comparator} needs one number")
    metric = str(entry["metric"]).strip().rstrip(";")
    problem = not_read_only(metric)
    if problem:
        raise refuse(problem)
    return Claim(
        str(entry["id"]),
        " ".join(str(entry["statement"]).split()),
        str(entry["window"]),
        metric,
        comparator,
        tuple(float(n) for n in numbers),
    )


def not_read_only(metric: str) -> str | None:
    """Why `metric` may not run on the warehouse, or None when it is one query that only reads.
    Metrics run on the build's read-write connection (the timeline scores marts rebuilt inside
    an open transaction, which no other connection sees), so this is checked before any runs."""
    with duckdb.connect() as parser:
        try:
            statements = parser.extract_statements(metric)
        except duckdb.Error as exc:
            return f"metric is not valid SQL: {one_line(str(exc))}"
        if len(statements) != 1:
            return f"metric must be one query, found {len(statements)}"
        if statements[0].type != duckdb.StatementType.SELECT:
            return f"metric must be a SELECT query, not {statements[0].type.name}"
        tree = json.loads(parser.execute("select json_serialize_sql(?)", [metric]).fetchall()[0][0])
    if tree.get("error"):
        return f"metric cannot be checked as a query that only reads: {one_line(str(tree.get('error_message')))}"
    writes = sorted(query_nodes(tree) - READING_NODES)
    if writes:
        return f"metric must only read, but holds {', '.join(n.removesuffix('_QUERY_NODE') for n in writes)}"
    return None


def query_nodes(tree: object) -> set[str]:
    """The kind of every query node in a json_serialize_sql tree (`"type": "..._NODE"`)."""
    if isinstance(tree, list):
        return set().union(*map(query_nodes, tree)) if tree else set()
    if not isinstance(tree, dict):
        return set()
    kind = tree.get("type")
    own = {kind} if isinstance(kind, str) and kind.endswith("_NODE") else set()
    return own.union(*map(query_nodes, tree.values()))


def evaluate(
    con: duckdb.DuckDBPyConnection,
    claims: Sequence[Claim],
    as_of: dt.date | None,
    bounds: Mapping[str, Bound] | None = None,
    limits: Limits | None = None,
) -> list[Score]:
    """Each claim's score on what `con` holds, seeing no row dated after `as_of`. `bounds`: by raw
    table, the date before which evidence read from it is stale (none: no claim is judged stale).
    Each metric runs within `limits` (none: unbounded)."""
    con.execute("set variable as_of = ?", [as_of or ALL_DATA])
    present = present_relations(con)
    if limits is None:
        return [score(con, claim, present, bounds or {}, None) for claim in claims]
    with memory_limited(con, limits):
        return [score(con, claim, present, bounds or {}, limits) for claim in claims]


def present_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view in the warehouse, as `schema.name`."""
    return {
        r[0]
        for r in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "union all select schema_name || '.' || view_name from duckdb_views()"
        ).fetchall()
    }


def score(
    con: duckdb.DuckDBPyConnection,
    claim: Claim,
    present: set[str],
    bounds: Mapping[str, Bound],
    limits: Limits | None,
) -> Score:
    absent = absent_inputs(claim, present)
    if absent:
        return absent
    columns, rows = run_metric(con, claim, claim.metric, limits)
    return judged(claim, columns, rows, bounds)


def score_weeks(
    con: duckdb.DuckDBPyConnection,
    claim: Claim,
    sessions: Sequence[tuple[dt.date, dt.date]],
    present: set[str],
    bounds: Mapping[dt.date, Mapping[str, Bound]],
    limits: Limits | None,
) -> dict[dt.date, Score]:
    """The claim at each (week, its last session) of `sessions`, as `score` would score it with
    `as_of` set to that session, from one query: the metric joined laterally to the weeks, the
    week's last session in place of getvariable('as_of'). The views' own as-of filter stays at the
    session variable (set by the caller, at or after every session here), so the metric must
    filter rows by getvariable('as_of') itself, as seeds/claims.yml asks; one that never names it
    is scored week by week, the views then filtering for it. `bounds`: by week."""
    absent = absent_inputs(claim, present)
    if absent:
        return {week: absent for week, _ in sessions}
    if not AS_OF.search(claim.metric):
        scores = {}
        for week, last in sessions:
            con.execute("set variable as_of = ?", [last])
            scores[week] = score(con, claim, present, bounds[week], limits)
        return scores
    query = (
        f"select timeline_week.week as timeline_week_, metric.*\n"
        f"from (select unnest(?::date[]) as week, unnest(?::date[]) as as_of) as timeline_week,\n"
        # The newline ends a `--` comment the metric may end with.
        f"lateral ({AS_OF.sub('timeline_week.as_of', claim.metric)}\n) as metric"
    )
    columns, rows = run_metric(con, claim, query, limits, [[w for w, _ in sessions], [last for _, last in sessions]])
    by_week: dict[dt.date, list[tuple]] = {week: [] for week, _ in sessions}
    for row in rows:
        by_week[row[0]].append(row[1:])
    return {week: judged(claim, columns[1:], found, bounds[week]) for week, found in by_week.items()}


def absent_inputs(claim: Claim, present: set[str]) -> Score | None:
    """insufficient_data where a relation the metric reads is not built yet."""
    absent = [name for name in sorted(relations(claim.metric)) if name not in present]
    if not absent:
        return None
    return Score(
        claim.id,
        claim.statement,
        None,
        claim.threshold_text,
        "insufficient_data",
        None,
        f"{', '.join(absent)} not in the warehouse yet (not built)",
    )


def run_metric(
    con: duckdb.DuckDBPyConnection, claim: Claim, query: str, limits: Limits | None, parameters: list | None = None
) -> tuple[list[str], list[tuple]]:
    """The query's column names and rows, within `limits`; ClaimError where it fails or runs over."""
    try:
        with stopped_after(con, limits, f"claim {claim.id}: its metric query", ClaimError):
            cursor = con.execute(query, parameters)
            return [d[0] for d in cursor.description], cursor.fetchall()
    except duckdb.Error as exc:
        raise ClaimError(f"claim {claim.id}: metric failed: {one_line(str(exc))}") from None


def judged(claim: Claim, columns: list[str], rows: list[tuple], bounds: Mapping[str, Bound]) -> Score:
    """The score the metric's rows give the claim."""
    inputs = sorted(relations(claim.metric))

    def insufficient(evidence: str, as_of: dt.date | None = None) -> Score:
        return Score(claim.id, claim.statement, None, claim.threshold_text, "insufficient_data", as_of, evidence)

    if sorted(columns) != sorted(METRIC_COLUMNS):
        raise ClaimError(
            f"claim {claim.id}: metric returns columns {', '.join(columns)}; expected {', '.join(METRIC_COLUMNS)}"
        )
    if len(rows) > 1:
        raise ClaimError(f"claim {claim.id}: metric returns {len(rows)} rows; expected one")
    if not rows:
        return insufficient(f"no rows in {', '.join(inputs)} for this claim")
    record = dict(zip(columns, rows[0], strict=True))
    value, as_of = record["value"], as_date(claim, record["as_of"])
    evidence = str(record["evidence"] or "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return insufficient(evidence or f"the value is NULL in {', '.join(inputs)}", as_of)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ClaimError(f"claim {claim.id}: metric value {value!r} is not a number") from None
    if not math.isfinite(value):
        raise ClaimError(f"claim {claim.id}: metric value {value!r} is not a finite number")
    status = "supported" if claim.holds(value) else "not_supported"
    missed = stale_by(claim, as_of, bounds)
    if missed:
        status, evidence = "stale", f"{evidence}; stale: the evidence ends {as_of}, and {missed.rule}"
    return Score(claim.id, claim.statement, value, claim.threshold_text, status, as_of, evidence)


def stale_by(claim: Claim, as_of: dt.date | None, bounds: Mapping[str, Bound]) -> Bound | None:
    """The strictest bound among the sources the claim reads, where its evidence is older than that.
    A claim is as old as its `as_of`: the date of its oldest input."""
    applying = [bounds[name] for name in sorted(reads(claim.metric)) if name in bounds]
    strictest = max(applying, key=lambda bound: bound.since, default=None)
    return strictest if strictest and as_of is not None and as_of < strictest.since else None


@functools.cache
def reads(metric: str) -> frozenset[str]:
    """Every relation a metric reads, through the models down to the raw tables."""
    return frozenset(lineage(relations(metric)))


def as_date(claim: Claim, value: object) -> dt.date | None:
    """The metric's `as_of` as a date: a DATE, a TIMESTAMP, an ISO date in text, or NULL; ClaimError
    for anything else, which would otherwise fail only when the score is stored."""
    if value is None or type(value) is dt.date:
        return value  # type: ignore[return-value]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ClaimError(f"claim {claim.id}: metric as_of {value!r} is not a date; return a DATE such as date '2026-01-30'")


def append(con: duckdb.DuckDBPyConnection, run_id: str, scores: Sequence[Score]) -> None:
    con.executemany(
        "insert into marts.thesis_scorecard (claim_id, statement, value, threshold, status, as_of, evidence, run_id) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [[s.claim_id, s.statement, s.value, s.threshold, s.status, s.as_of, s.evidence, run_id] for s in scores],
    )


def one_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
