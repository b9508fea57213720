"""Runs that meet: two runs on one data directory, a reader holding the working database, and an
analyst session killed while it held the published copy read-write."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from cli.main import main
from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults.harness import PROJECT, refused, snapshot, thesis, unchanged
from tests.faults.test_crash import current_version, go, leftovers, warm_run, whole
from warehouse.publish import switch

RUN = ("run", "--from", str(SAMPLE_DIR))
# A process that opens a DuckDB file and holds it until killed: read-write (as the DuckDB CLI opens
# a file by default) writes a table first, so a WAL stands beside the file when it dies.
HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
if sys.argv[2] == "read-write":
    con.execute("create table main.analyst_notes as select 'mine' as note")
print("holding", flush=True)
time.sleep(600)
"""


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hold(path: Path, mode: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "holding\n"
    return holder


def lock_holder(data_dir: Path, within: float = 120) -> dict:
    """What the run lock says once a run holds it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            return json.loads((data_dir / "run.lock").read_text())
        except (FileNotFoundError, ValueError):
            time.sleep(0.01)
    raise AssertionError("no run took the lock")


def runs(data_dir: Path) -> list[tuple]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select run_id, status, started_at, finished_at from meta.runs order by started_at"
        ).fetchall()


def test_a_second_run_exits_at_once_naming_the_first(request, data_dir):
    second = warm_run()  # imported already: it asks for the lock the moment it is told to run
    # --full: the same sample again is nothing new, known before the lock; this run must hold it.
    first = start(*RUN, "--full", "--data-dir", str(data_dir))
    holder = lock_holder(data_dir)
    assert holder["pid"] == first.pid and holder["command"] == "daily"
    _, stderr = go(second, data_dir).communicate(timeout=300)
    refused(
        request,
        second.returncode,
        stderr,
        f"another run holds the data directory {data_dir}: pid {first.pid} on ",
        "`daily`",
    )
    assert second.returncode == 1
    assert first.wait(timeout=300) == 0
    whole(data_dir)
    assert [status for _, status, _, _ in runs(data_dir)] == ["succeeded", "succeeded"]  # the sample's, the first's
    assert not (data_dir / "run.lock").exists()


def test_a_second_run_told_to_wait_runs_after_the_first(data_dir):
    second = warm_run({"THESIS_LOCK_WAIT_SECONDS": "300"})
    first = start(*RUN, "--full", "--data-dir", str(data_dir))
    lock_holder(data_dir)
    told = dt.datetime.now(dt.UTC)
    _, stderr = go(second, data_dir).communicate(timeout=300)
    assert second.returncode == 0, stderr
    assert first.wait(timeout=300) == 0
    _, (_, first_status, _, first_end), (second_id, second_status, second_start, _) = runs(data_dir)
    assert first_status == second_status == "succeeded"
    assert told < first_end <= second_start  # told to run while the first ran, it started once that one ended
    assert whole(data_dir) == second_id
    assert not (data_dir / "run.lock").exists()


def test_a_reader_holding_the_working_database_fails_a_run_in_one_line(request, data_dir):
    before = snapshot(data_dir / "published")
    reader = hold(data_dir / "warehouse.duckdb", "read-only")
    try:
        done = thesis("build", "--data-dir", str(data_dir), request=request)
    finally:
        reader.kill()
        reader.wait()
    refused(
        request,
        done.returncode,
        done.stderr,
        f"{data_dir / 'warehouse.duckdb'} is open in another process",
        f"pid {reader.pid}",
    )
    assert done.returncode == 1
    unchanged(request, before, data_dir / "published")
    assert [status for _, status, _, _ in runs(data_dir)] == ["succeeded"]  # no run recorded, none left running
    assert not (data_dir / "run.lock").exists()
    assert main(["build", "--data-dir", str(data_dir)]) == 0  # once the reader is gone


def test_an_analyst_session_killed_mid_run_leaves_the_next_copy_whole(request, data_dir):
    # Through the name analysts were given before versions: a link through `current`.
    analyst = hold(data_dir / "published" / "thesis.duckdb", "read-write")
    held = current_version(data_dir)
    # --full: the same sample again is nothing new, and this run must publish a version.
    run = start(*RUN, "--full", "--data-dir", str(data_dir))
    try:
        lock_holder(data_dir)
        analyst.send_signal(signal.SIGKILL)
        analyst.wait()
        assert run.wait(timeout=300) == 0, run.stderr
    finally:
        run.kill()
    # The session's WAL stayed with the copy it belonged to, which the new version does not share.
    assert (data_dir / "published" / "versions" / held / "thesis.duckdb.wal").exists()
    assert whole(data_dir) != held
    with duckdb.connect(str(data_dir / "published" / "current" / "thesis.duckdb")) as con:  # read-write, too
        assert con.execute("select count(*) from marts.relative_performance").fetchone()[0] > 0
    assert main([*RUN, "--data-dir", str(data_dir)]) == 0
    whole(data_dir)
    assert leftovers(data_dir) == []


def test_a_copy_in_the_layout_before_versions_with_a_stale_wal_is_replaced(tmp_path):
    publish_dir = tmp_path / "published"
    (publish_dir / "parquet").mkdir(parents=True)
    (publish_dir / "parquet" / "leverage.parquet").write_bytes(b"old")
    (publish_dir / "thesis.duckdb").write_bytes(b"old copy")
    (publish_dir / "thesis.duckdb.wal").write_bytes(b"the log of an analyst session killed on the old copy")
    version = publish_dir / "versions" / "20260101T000000Z-000001"
    (version / "parquet").mkdir(parents=True)
    (version / "thesis.duckdb").write_bytes(b"new copy")

    switch(publish_dir, version)

    assert sorted(p.name for p in publish_dir.iterdir()) == [
        "current",
        "parquet",
        "report.html",
        "thesis.duckdb",
        "versions",
    ]
    assert (publish_dir / "thesis.duckdb").read_bytes() == b"new copy"
    assert list((publish_dir / "parquet").iterdir()) == []
    assert os.readlink(publish_dir / "current") == "versions/20260101T000000Z-000001"
