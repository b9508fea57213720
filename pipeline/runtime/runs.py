"""Run bookkeeping in meta.runs and meta.validations, inside the data directory's run lock.

A run is `running` from its start until it ends `succeeded` (a publishing run records it just
before readers are switched to its exports), `partial` (it finished like a succeeded one without
some items, named in meta.runs.failed: a ticker, an SEC company, a bulk member) or `failed` (its
unpublished exports removed at once). A run killed on the way stays `running`, or finished but
not current, until the next run, holding the lock, marks it `abandoned`. The scorecard and
timeline rows of a run that did not finish are deleted, so no export ever shows them, and what a
killed run left on disk is swept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd

from expectations.marts import MartSuite
from expectations.validate import WARNING, Finding, run_suite
from pipeline.runtime import run_lock
from pipeline.runtime.clock import Clock
from pipeline.runtime.errors import ValidationFailed
from pipeline.runtime.run_status import FINISHED, finished_status
from pipeline.runtime.settings import Settings
from warehouse.connection import connect, transaction
from warehouse.files import remove_temporaries, write_atomic
from warehouse.publish import VERSIONS, RunEnd, current_version, discard, end_run, prune

# The marts that keep rows across runs, each row naming the run that wrote it.
RUN_ROWS = ("marts.thesis_scorecard", "marts.thesis_timeline")
# The flows whose outermost run publishes a version.
PUBLISHING = ("daily", "build")
log = logging.getLogger(__name__)
# The runs started in this context while someone watches (`started_runs`).
_started: ContextVar[list[str] | None] = ContextVar("started_runs", default=None)


@dataclass(frozen=True)
class Outcome:
    """A suite's result, its full report stored at `report_path`."""

    suite: str
    success: bool
    evaluated: int
    failed: int
    summary: str
    report_path: Path
    validated_at: dt.datetime


def new_run_id(clock: Clock) -> str:
    return f"{clock.recorded():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class RunRecord:
    run_id: str
    message: str = ""
    # Items that failed while the rest loaded (a ticker, `CIK########## TICKER` for a company of the
    # per-company SEC path, `archive/member` for a bulk member): item -> why, in one line
    # (meta.runs.failed).
    failed: dict[str, str] = field(default_factory=dict)
    # Set once the body recorded the run's end itself: a publishing run records it before readers
    # are switched to its version (pipeline/build/run.py, publish_version).
    finished: bool = False


@contextmanager
def started_runs() -> Iterator[list[str]]:
    """The ids of the runs that record themselves (the outermost ones) started in the body, as they
    start: how a caller names a run that raised, and so returned no result to read its id from."""
    started: list[str] = []
    token = _started.set(started)
    try:
        yield started
    finally:
        _started.reset(token)


@contextmanager
def recorded_run(
    settings: Settings, flow: str, mode: str, run_id: str | None, inputs: str | None = None
) -> Iterator[RunRecord]:
    """The run lock and a row in meta.runs around the body (with `inputs`, a replayed folder's
    digest). A nested step passes its parent's run_id and records nothing: its parent holds the lock."""
    if run_id is not None:
        yield RunRecord(run_id)
        return
    with run_lock.held(settings, flow):
        record = RunRecord(new_run_id(settings.clock))
        with connect(settings.paths.warehouse) as con, transaction(con):
            abandon_killed_runs(con, record.run_id, settings.clock.recorded())
            abandon_unpublished(con, settings.paths.published, record.run_id, settings.clock.recorded())
            con.execute(
                "insert into meta.runs (run_id, flow, mode, started_at, worked_for, status, parameters, inputs) "
                "values (?, ?, ?, ?, ?, 'running', ?, ?)",
                [
                    record.run_id,
                    flow,
                    mode,
                    settings.clock.recorded(),
                    settings.clock.now(),
                    settings.parameters(),
                    inputs,
                ],
            )
        if (watching := _started.get()) is not None:
            watching.append(record.run_id)
        try:
            sweep(settings)
            yield record
        except BaseException as exc:
            end_failed(settings, record, str(exc) or type(exc).__name__)
            raise
        if not record.finished:
            finish(settings, ended(settings, record, finished_status(record.failed), record.message))


def ended(settings: Settings, record: RunRecord, status: str, message: str) -> RunEnd:
    return RunEnd(record.run_id, status, message, settings.clock.recorded(), record.failed)


def end_failed(settings: Settings, record: RunRecord, why: str) -> None:
    """A failed run's version is removed unless readers see it (on a full disk, it holds the space
    the next run needs), with what its writers left half done; then the run is recorded `failed`.
    A run that cannot record it (the working database is full, or held by another process) stays
    `running`, and the next run marks it abandoned: the failure it raised is what the user reads."""
    discard(settings.paths.published, settings.paths.version(record.run_id))
    remove_temporaries(settings.data_dir)
    try:
        finish(settings, ended(settings, record, "failed", why))
    except Exception as exc:  # the failure being raised is the one to report
        log.warning("run %s could not be recorded as failed (%s): the next run marks it abandoned", record.run_id, exc)


def abandon_killed_runs(con: duckdb.DuckDBPyConnection, found_by: str, at: dt.datetime) -> None:
    """Runs still `running` while this one holds the lock were killed: mark them and drop their rows."""
    killed = [
        r[0] for r in con.execute("select run_id from meta.runs where status = 'running' order by run_id").fetchall()
    ]
    if not killed:
        return
    log.warning("runs %s ended without finishing (killed?): marked abandoned", ", ".join(killed))
    con.execute(
        "update meta.runs set status = 'abandoned', finished_at = ?, "
        "message = 'ended without finishing (killed?); found by run ' || ? where status = 'running'",
        [at, found_by],
    )
    discard_rows(con, killed)


def abandon_unpublished(con: duckdb.DuckDBPyConnection, publish_dir: Path, found_by: str, at: dt.datetime) -> None:
    """Publishing runs recorded as finished after the version readers see were killed between that
    record and their switch: readers never saw them, so neither do the next exports."""
    current = current_version(publish_dir)
    if current is None:
        return
    # Run ids start with their UTC start time: a later id started later. A run that wrote no
    # version (it found nothing new) published nothing to be killed before.
    unseen = [
        r[0]
        for r in con.execute(
            "select run_id from meta.runs where list_contains(?, flow) and list_contains(?, status) and run_id > ? "
            "order by run_id",
            [list(PUBLISHING), list(FINISHED), current.name],
        ).fetchall()
        if (publish_dir / VERSIONS / r[0]).exists()
    ]
    if not unseen:
        return
    log.warning("runs %s ended before readers were switched to them (killed?): marked abandoned", ", ".join(unseen))
    con.execute(
        "update meta.runs set status = 'abandoned', finished_at = ?, "
        "message = 'recorded as finished but never made current (killed?); found by run ' || ? "
        "where list_contains(?, run_id)",
        [at, found_by, unseen],
    )
    discard_rows(con, unseen)


def discard_rows(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> None:
    for table in RUN_ROWS:
        con.execute(f"delete from {table} where list_contains(?, run_id)", [run_ids])


def sweep(settings: Settings) -> None:
    """What killed runs left on disk: half-written files, and export versions never made current."""
    leftovers = [*remove_temporaries(settings.data_dir), *prune(settings.paths.published)]
    if leftovers:
        log.warning("removed what an earlier run left unfinished: %s", ", ".join(map(str, leftovers)))


def finish(settings: Settings, end: RunEnd) -> None:
    """The run's end in meta.runs; the rows of a run that did not finish are dropped."""
    with connect(settings.paths.warehouse) as con, transaction(con):
        end_run(con, "", end)
        if end.status not in FINISHED:
            discard_rows(con, [end.run_id])


def check(
    settings: Settings, run_id: str, suite: ModuleType | MartSuite, rows: pd.DataFrame | duckdb.DuckDBPyRelation
) -> Outcome:
    """Run a suite (an expectations module's, or a mart's) on `rows` (a batch's frame, or a mart's
    relation); the full result goes to a JSON report."""
    result = run_suite(suite.suite, rows, suite.ID_COLUMNS)
    path = settings.paths.reports / "validation" / run_id / f"{suite.NAME}.json"
    write_atomic(path, json.dumps(result.report, indent=2, default=str).encode())
    return Outcome(
        result.suite, result.success, result.evaluated, result.failed, result.summary, path, settings.clock.recorded()
    )


def record(con: duckdb.DuckDBPyConnection, run_id: str, outcome: Outcome) -> None:
    con.execute(
        "insert or replace into meta.validations by name select ? as run_id, ? as suite, ? as success, "
        "? as evaluated, ? as failed, ? as summary, ? as report_path, ? as validated_at",
        [
            run_id,
            outcome.suite,
            outcome.success,
            outcome.evaluated,
            outcome.failed,
            outcome.summary,
            str(outcome.report_path),
            outcome.validated_at,
        ],
    )


def log_warnings(found: Sequence[Finding], report_path: Path) -> None:
    """The warnings a batch loaded with (its rows flagged), in the log too."""
    for f in found:
        if f.severity == WARNING:
            log.warning("%s (loaded, flagged; report: %s)", f.summary, report_path)


def require(outcome: Outcome) -> None:
    if not outcome.success:
        raise ValidationFailed(f"validation of {outcome.suite} failed: {outcome.summary}", outcome.report_path)
