"""`kill -9` at 10 points of a replay run, then a rerun: readers never see half a publish, and the
rerun publishes what an uninterrupted run publishes.

Every case starts from a copy of one data directory the sample was published into (the baseline)
and kills `thesis run --full --from sample` in a fresh interpreter (--full: the same sample again
is otherwise nothing new, and publishes nothing): 8 kills timed across a run's measured
length, one aimed at the parquet export (files written, manifest not yet) and one at the analyst
copy (the database file being written). After the kill, the version readers see is whole (its
manifest agrees with its files, every file opens) and, unless the run got as far as switching,
it is the baseline's, byte for byte. After a rerun, the published marts hold what a run on the
baseline that nobody killed publishes; no lock, temporary file or unpublished version is left,
and no run is left `running`.

Runs are started in an interpreter that has already imported the pipeline and waits on stdin for
the data directory: the kill points fall in the run, not in the imports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.runtime.settings import SAMPLE_DIR
from tests.conftest import copied
from tests.faults.harness import PROJECT, record, snapshot, unchanged
from warehouse.files import TEMPORARY, sha256_file
from warehouse.publish import KEEP

pytestmark = pytest.mark.xdist_group("crash")  # one worker: the cases share the baseline and its timing

WARM = """
import sys
import cli.main
import pipeline.daily, cli.summary  # what a run imports, so that it starts when told to
print("ready", flush=True)
sys.argv = ["thesis", "run", "--full", "--from", sys.argv[1], "--data-dir", sys.stdin.readline().strip()]
cli.main.entry()
"""
# Fractions of an uninterrupted run, from its start in the warm interpreter to its exit. Measured
# on two cores: the lock is taken at about 15 %, the new version is written from about 60 %, the
# run is recorded at about 70 %. The aimed kills cover the version's writing.
TIMED = (0.04, 0.16, 0.26, 0.36, 0.46, 0.54, 0.60, 0.66)
CONVERGED: list[str] = []


def warm_run(env: dict[str, str] | None = None) -> subprocess.Popen:
    """`thesis run --from sample` in an interpreter that imports the pipeline, then waits on stdin
    for the data directory: the run starts the moment `go` gives it one."""
    return subprocess.Popen(
        [sys.executable, "-c", WARM, str(SAMPLE_DIR)],
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def go(process: subprocess.Popen, data_dir: Path) -> subprocess.Popen:
    if process.stdout.readline() != "ready\n":
        raise AssertionError(f"the warm interpreter did not start: {process.communicate()[1][-3000:]}")
    process.stdin.write(f"{data_dir}\n")
    process.stdin.flush()
    return process


class WarmRuns:
    """One warm run kept ready while a case runs."""

    def __init__(self) -> None:
        self.spare: subprocess.Popen | None = None
        self.refill()

    def refill(self) -> None:
        if self.spare is None:
            self.spare = warm_run()

    def start(self, data_dir: Path) -> subprocess.Popen:
        """A run on `data_dir`, started now."""
        self.refill()
        process, self.spare = self.spare, None
        return go(process, data_dir)

    def close(self) -> None:
        if self.spare is not None:
            self.spare.kill()
            self.spare.wait()


@dataclass(frozen=True)
class Baseline:
    data_dir: Path
    version: str  # the version readers see there
    files: dict[str, str]  # its files' sha256
    run_seconds: float  # an uninterrupted run on a copy, from start to exit
    expected: dict[str, pd.DataFrame]  # what that run published
    runs: WarmRuns


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, good_run: Path) -> Baseline:
    runs = WarmRuns()
    data_dir = good_run  # the cases copy it; nothing writes to it
    version = current_version(data_dir)
    reference = copied(data_dir, tmp_path_factory.mktemp("reference") / "var")
    started = time.monotonic()
    process = runs.start(reference)
    assert process.wait(timeout=300) == 0
    run_seconds = time.monotonic() - started
    try:
        yield Baseline(
            data_dir,
            version,
            snapshot(data_dir / "published" / "versions" / version),
            run_seconds,
            contents(reference),
            runs,
        )
    finally:
        runs.close()


def current_version(data_dir: Path) -> str:
    link = data_dir / "published" / "current"
    assert link.is_symlink(), f"{link} is not a symlink"
    return Path(os.readlink(link)).name


def whole(data_dir: Path) -> str:
    """The current version's name, once its manifest agrees with its files and every file opens."""
    version = data_dir / "published" / "versions" / current_version(data_dir)
    manifest = json.loads((version / "parquet" / "manifest.json").read_text())
    assert manifest["run_id"] == version.name
    files = [file for entry in manifest["tables"].values() for file in entry["files"]]
    held = sorted(str(p.relative_to(version / "parquet")) for p in (version / "parquet").rglob("*") if p.is_file())
    assert held == sorted([*(file["file"] for file in files), "manifest.json"])
    with duckdb.connect() as con:
        for file in files:
            path = version / "parquet" / file["file"]
            assert sha256_file(path) == file["sha256"], f"{path} disagrees with the manifest"
            assert con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0] == file["rows"]
    with duckdb.connect(str(version / "thesis.duckdb"), read_only=True) as con:
        status = con.execute("select status from meta.runs where run_id = ?", [version.name]).fetchall()
    assert status == [("succeeded",)]
    html = (version / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    return version.name


def contents(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Each published mart's rows, in order, without the run that wrote them. The scorecard has a set
    of rows per successful run: compared as distinct rows here, and by run in runs_scored."""
    tables = {}
    with duckdb.connect() as con:
        for path in sorted((data_dir / "published" / "current" / "parquet").iterdir()):
            if path.name == "manifest.json":
                continue
            # A mart partitioned by year is a folder of year=YYYY/data.parquet.
            files = str(path / "*" / "*.parquet") if path.is_dir() else str(path)
            columns = [r[0] for r in con.execute("describe select * from read_parquet(?)", [files]).fetchall()]
            without = " exclude (run_id)" if "run_id" in columns else ""
            tables[path.name.removesuffix(".parquet")] = con.execute(
                f"select distinct *{without} from read_parquet(?) order by all", [files]
            ).df()
    return tables


def runs_scored(data_dir: Path) -> dict[str, int]:
    path = data_dir / "published" / "current" / "parquet" / "thesis_scorecard.parquet"
    with duckdb.connect() as con:
        return dict(con.execute("select run_id, count(*) from read_parquet(?) group by run_id", [str(path)]).fetchall())


def leftovers(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if TEMPORARY.fullmatch(p.name)]


def new_version(data_dir: Path, baseline: Baseline) -> Path | None:
    versions = data_dir / "published" / "versions"
    return next((p for p in versions.iterdir() if p.name != baseline.version), None)


def kill_when(process: subprocess.Popen, reached: Callable[[], bool]) -> None:
    """Poll as fast as the loop goes, and kill the moment `reached` is true."""
    deadline = time.monotonic() + 300
    while not reached():
        assert process.poll() is None, "the run ended before the aimed point"
        assert time.monotonic() < deadline
    process.send_signal(signal.SIGKILL)


def during_export(data_dir: Path, baseline: Baseline) -> bool:
    version = new_version(data_dir, baseline)
    parquet = version / "parquet" if version else None
    try:
        return bool(parquet) and any(parquet.glob("*.parquet")) and not (parquet / "manifest.json").exists()
    except FileNotFoundError:
        return False


def during_copy(data_dir: Path, baseline: Baseline) -> bool:
    version = new_version(data_dir, baseline)
    return version is not None and (version / "thesis.duckdb").exists()


AIMED = {"during the parquet export": during_export, "during the analyst copy": during_copy}
TIMED_POINTS = [f"at {f:.0%} of a run" for f in TIMED]
POINTS = TIMED_POINTS + list(AIMED)


def killed_run(baseline: Baseline, data_dir: Path, point: str) -> None:
    """A copy of the baseline in `data_dir`, and a run on it killed at `point`. A timed kill whose
    run ended first (runs are faster when the machine is less busy than when one was measured) is
    tried again on a new copy, timed by the length of the run that ended."""
    run_seconds = baseline.run_seconds
    for _ in range(3):
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.copytree(baseline.data_dir, data_dir, symlinks=True)
        process = baseline.runs.start(data_dir)
        started = time.monotonic()
        if point in AIMED:
            kill_when(process, lambda: AIMED[point](data_dir, baseline))
        else:
            try:
                process.wait(timeout=TIMED[POINTS.index(point)] * run_seconds)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        ended = process.wait(timeout=300)
        if ended == -signal.SIGKILL:
            return
        assert ended == 0, f"the run failed before the kill: {process.communicate()[1][-3000:]}"
        run_seconds = time.monotonic() - started
    raise AssertionError(f"every run ended before the kill {point}")


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_run_leaves_the_export_whole_and_a_rerun_converges(request, baseline, tmp_path, point):
    data_dir = tmp_path / "var"
    killed_run(baseline, data_dir, point)
    baseline.runs.refill()  # the next case's interpreter imports while this one checks and reruns

    # What readers see after the kill: a whole version, the baseline's unless the run switched.
    try:
        seen = whole(data_dir)
    except AssertionError:
        record(request, "lost")
        raise
    if point in AIMED:
        assert seen == baseline.version
        if point == "during the parquet export":
            assert not (new_version(data_dir, baseline) / "parquet" / "manifest.json").exists()
    if seen == baseline.version:
        unchanged(request, baseline.files, data_dir / "published" / "versions" / seen)

    assert main(["run", "--full", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)]) == 0
    assert_converged(data_dir, baseline)
    CONVERGED.append(point)
    if len(CONVERGED) == len(POINTS):
        line = f"crash: {len(CONVERGED)} of {len(POINTS)} kills converged"
        request.node.user_properties.append(("crash", line))
        print(line)


def assert_converged(data_dir: Path, baseline: Baseline) -> None:
    published = whole(data_dir)
    got = contents(data_dir)
    assert sorted(got) == sorted(baseline.expected)
    for table, frame in baseline.expected.items():
        pd.testing.assert_frame_equal(got[table], frame, obj=table)
    assert not (data_dir / "run.lock").exists()
    assert leftovers(data_dir) == []
    versions = sorted(p.name for p in (data_dir / "published" / "versions").iterdir())
    assert len(versions) <= KEEP and versions[-1] == published  # nothing newer than current is left
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("select run_id, status from meta.runs").fetchall())
    assert "running" not in statuses.values(), statuses
    assert set(statuses.values()) <= {"succeeded", "abandoned"}, statuses
    # The scorecard holds the rows of the runs that succeeded, 8 each, and none of a killed run's.
    succeeded = {run for run, status in statuses.items() if status == "succeeded"}
    assert runs_scored(data_dir) == dict.fromkeys(succeeded, 8)


def test_what_a_killed_run_left_is_swept_by_the_next(request, baseline, tmp_path):
    data_dir = tmp_path / "var"
    shutil.copytree(baseline.data_dir, data_dir, symlinks=True)
    published = data_dir / "published"
    # As a run killed at various points leaves them: a half-written file of the layout before
    # versions, a half-written report, a version never made current, a link not yet renamed, and
    # its lock (a process that is gone: the kernel released its flock).
    residue = [
        published / "current" / "parquet" / ".leverage.parquet.tmp-4242",
        data_dir / "reports" / "validation" / ".raw_prices.json.tmp-4242",
        published / "versions" / "99991231T235959Z-killed" / "parquet" / "leverage.parquet",
    ]
    for path in residue:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    (published / ".current.tmp-4242").symlink_to("versions/99991231T235959Z-killed")
    (data_dir / "run.lock").write_text('{"pid": 4242, "host": "gone", "command": "daily", "started_at": "x"}')

    assert main(["run", "--full", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)]) == 0

    assert leftovers(data_dir) == []
    assert not (published / "versions" / "99991231T235959Z-killed").exists()
    assert not (data_dir / "run.lock").exists()
    assert whole(data_dir) != baseline.version
