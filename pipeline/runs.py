"""Run bookkeeping in meta.runs and meta.validations."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd

from expectations.validate import run_suite
from pipeline.errors import ValidationFailed
from pipeline.settings import Settings
from warehouse.connection import connect
from warehouse.files import write_atomic


@dataclass(frozen=True)
class Outcome:
    """A suite's result, its full report stored at `report_path`."""

    suite: str
    success: bool
    evaluated: int
    failed: int
    summary: str
    report_path: Path


def new_run_id() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class RunRecord:
    run_id: str
    message: str = ""


@contextmanager
def recorded_run(settings: Settings, flow: str, mode: str, run_id: str | None) -> Iterator[RunRecord]:
    """A row in meta.runs around the body. A nested step passes its parent's run_id and records nothing."""
    if run_id is not None:
        yield RunRecord(run_id)
        return
    record = RunRecord(new_run_id())
    with connect(settings.warehouse_path) as con:
        con.execute(
            "insert into meta.runs (run_id, flow, mode, started_at, status, parameters) "
            "values (?, ?, ?, now(), 'running', ?)",
            [record.run_id, flow, mode, settings.parameters()],
        )
    try:
        yield record
    except BaseException as exc:
        finish(settings, record.run_id, "failed", str(exc) or type(exc).__name__)
        raise
    finish(settings, record.run_id, "succeeded", record.message)


def finish(settings: Settings, run_id: str, status: str, message: str) -> None:
    with connect(settings.warehouse_path) as con:
        con.execute(
            "update meta.runs set status = ?, message = ?, finished_at = now() where run_id = ?",
            [status, message, run_id],
        )


def check(settings: Settings, run_id: str, suite: ModuleType, frame: pd.DataFrame) -> Outcome:
    """Run an expectations module's suite on `frame`; the full result goes to a JSON report."""
    result = run_suite(suite.suite, frame, suite.ID_COLUMNS)
    path = settings.reports_dir / "validation" / run_id / f"{suite.NAME}.json"
    write_atomic(path, json.dumps(result.report, indent=2, default=str).encode())
    return Outcome(result.suite, result.success, result.evaluated, result.failed, result.summary, path)


def record(con: duckdb.DuckDBPyConnection, run_id: str, outcome: Outcome) -> None:
    con.execute(
        "insert or replace into meta.validations by name select ? as run_id, ? as suite, ? as success, "
        "? as evaluated, ? as failed, ? as summary, ? as report_path, now() as validated_at",
        [
            run_id,
            outcome.suite,
            outcome.success,
            outcome.evaluated,
            outcome.failed,
            outcome.summary,
            str(outcome.report_path),
        ],
    )


def require(outcome: Outcome) -> None:
    if not outcome.success:
        raise ValidationFailed(f"validation of {outcome.suite} failed: {outcome.summary}", outcome.report_path)
