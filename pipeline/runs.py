"""Run bookkeeping in meta.runs and meta.validations, inside the data directory's run lock.

A run is `running` from its start until it ends `succeeded` (for a build, once its exports are
current), `partial` (it finished like a succeeded one without some items, named in
meta.runs.failed: a ticker, an SEC company, a bulk member) or `failed`. A run killed on the way
stays `running` until the next run, holding the lock, marks it `abandoned`. The scorecard and
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
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd

from expectations.validate import WARNING, Finding, run_suite
from pipeline import run_lock
from pipeline.clock import Clock
from pipeline.errors import ValidationFailed
from pipeline.run_status import FINISHED, finished_status
from pipeline.settings import Settings
from warehouse.connection import connect, transaction
from warehouse.files import remove_temporaries, write_atomic
from warehouse.publish import prune

# The marts that keep rows across runs, each row naming the run that wrote it.
RUN_ROWS = ("marts.thesis_scorecard", "marts.thesis_timeline")
log = logging.getLogger(__name__)


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


@contextmanager
def recorded_run(settings: Settings, flow: str, mode: str, run_id: str | None) -> Iterator[RunRecord]:
    """The run lock and a row in meta.runs around the body. A nested step passes its parent's
    run_id and records nothing: its parent holds the lock."""
    if run_id is not None:
        yield RunRecord(run_id)
        return
    with run_lock.held(settings, flow):
        record = RunRecord(new_run_id(settings.clock))
        with connect(settings.warehouse_path) as con, transaction(con):
            abandon_killed_runs(con, record.run_id, settings.clock.recorded())
            con.execute(
                "insert into meta.runs (run_id, flow, mode, started_at, worked_for, status, parameters) "
                "values (?, ?, ?, ?, ?, 'running', ?)",
                [record.run_id, flow, mode, settings.clock.recorded(), settings.clock.now(), settings.parameters()],
            )
        try:
            sweep(settings)
            yield record
        except BaseException as exc:
            finish(settings, record.run_id, "failed", str(exc) or type(exc).__name__, record.failed)
            raise
        finish(settings, record.run_id, finished_status(record.failed), record.message, record.failed)


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


def discard_rows(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> None:
    for table in RUN_ROWS:
        con.execute(f"delete from {table} where list_contains(?, run_id)", [run_ids])


def sweep(settings: Settings) -> None:
    """What killed runs left on disk: half-written files, and export versions never made current."""
    leftovers = [*remove_temporaries(settings.data_dir), *prune(settings.publish_dir)]
    if leftovers:
        log.warning("removed what an earlier run left unfinished: %s", ", ".join(map(str, leftovers)))


def finish(settings: Settings, run_id: str, status: str, message: str, failed: dict[str, str]) -> None:
    with connect(settings.warehouse_path) as con, transaction(con):
        con.execute(
            "update meta.runs set status = ?, message = ?, failed = ?, finished_at = ? where run_id = ?",
            [status, message, json.dumps(failed) if failed else None, settings.clock.recorded(), run_id],
        )
        if status not in FINISHED:
            discard_rows(con, [run_id])


def check(settings: Settings, run_id: str, suite: ModuleType, frame: pd.DataFrame) -> Outcome:
    """Run an expectations module's suite on `frame`; the full result goes to a JSON report."""
    result = run_suite(suite.suite, frame, suite.ID_COLUMNS)
    path = settings.reports_dir / "validation" / run_id / f"{suite.NAME}.json"
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
