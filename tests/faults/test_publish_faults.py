"""A failed run never changes what readers see, and leaves nothing behind.

Another process opens `warehouse.duckdb` read-write at each step of a build; the disk fills up on
a small tmpfs, or a write fails as a full disk makes it fail. After each, `published/current`
points at a version whose run is `succeeded` in the working database and in its own copy, no
version of the failed run is left on disk, and the next good run publishes.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import pytest

from pipeline.build.run import build
from pipeline.runtime.settings import SAMPLE_DIR, load_settings
from tests.faults.harness import args_for, in_process, next_run_completes, refused, snapshot, thesis, unchanged
from warehouse import connection

# A build's steps, in order (pipeline/build/run.py, build): a holder of the working database starts
# before step N.
BUILD_STEPS = 7
HOLD = "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('held', flush=True)\nsys.stdin.read()\n"


@contextmanager
def held_read_write(path: Path) -> Iterator[None]:
    """Another process holding `path` open read-write (an analyst's session) while the body runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate(timeout=60)


class HeldFrom:
    """Runs the build's steps in this process; from step `at` (-1: before the run starts) to the
    end of the run, another process holds the working database read-write."""

    def __init__(self, path: Path, at: int) -> None:
        self.path, self.at, self.step = path, at, 0
        self.holding = ExitStack()
        if at < 0:
            self.holding.enter_context(held_read_write(path))

    def run(self, fn: Callable[..., object], *args: object) -> object:
        if self.step == self.at:
            self.holding.enter_context(held_read_write(self.path))
        self.step += 1
        return fn(*args)


def current_run(data_dir: Path) -> str:
    return Path(os.readlink(data_dir / "published" / "current")).name


def status_of(path: Path, run_id: str) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        [[status]] = con.execute("select status from meta.runs where run_id = ?", [run_id]).fetchall()
    return status


def versions(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "published" / "versions").iterdir())


def assert_current_succeeded(data_dir: Path) -> str:
    """`current` names a run that succeeded, as the working database and the copy both say."""
    run_id = current_run(data_dir)
    assert status_of(data_dir / "warehouse.duckdb", run_id) == "succeeded"
    assert status_of(data_dir / "published" / "current" / "thesis.duckdb", run_id) == "succeeded"
    return run_id


def step_name(at: int) -> str:
    return f"from step {at + 1}" if at >= 0 else "before the run"


@pytest.fixture(autouse=True)
def impatient(monkeypatch):
    """A build refused a held working database after half a second, not the 5 s a run gives a
    reader to let go: these cases hold it until the build has failed."""
    monkeypatch.setattr(connection, "BUSY_WAIT_SECONDS", 0.5)


@pytest.mark.parametrize("at", range(-1, BUILD_STEPS), ids=step_name)
def test_a_session_opened_read_write_at_any_step_leaves_current_on_a_succeeded_run(data_dir, at):
    before = current_run(data_dir)
    settings = load_settings(data_dir=data_dir)
    steps = HeldFrom(data_dir / "warehouse.duckdb", at)
    with steps.holding, pytest.raises(Exception, match="is open in another process"):
        build(settings, steps=steps)
    assert current_run(data_dir) == before
    assert versions(data_dir) == [before]
    assert_current_succeeded(data_dir)
    # The next run, with the session closed, publishes and succeeds.
    build(settings)
    assert assert_current_succeeded(data_dir) != before
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from meta.runs where status = 'running'").fetchall() == [(0,)]


# The steps that write the working database first, and the last step, that publishes.
ONE_STEP = {"transform and validate": 1, "publish": BUILD_STEPS - 1}


@pytest.mark.parametrize("at", ONE_STEP.values(), ids=ONE_STEP.keys())
def test_a_session_held_for_one_step_fails_the_run_and_it_is_recorded(data_dir, at):
    """A holder during one step: the run fails there and, the session closed, records why."""
    before = current_run(data_dir)
    settings = load_settings(data_dir=data_dir)

    class HeldDuring(HeldFrom):
        def run(self, fn: Callable[..., object], *args: object) -> object:
            self.step += 1
            if self.step - 1 != self.at:
                return fn(*args)
            with held_read_write(self.path):
                return fn(*args)

    with pytest.raises(Exception, match="is open in another process"):
        build(settings, steps=HeldDuring(data_dir / "warehouse.duckdb", at))
    assert current_run(data_dir) == before
    assert versions(data_dir) == [before]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [[status, message]] = con.execute(
            "select status, message from meta.runs order by run_id desc limit 1"
        ).fetchall()
    assert status == "failed" and "is open in another process" in message
    assert_current_succeeded(data_dir)


def test_a_run_killed_between_its_record_and_its_switch_is_abandoned_by_the_next(data_dir, monkeypatch):
    """The window the record-before-switch order opens: readers stay on the version before, and the
    next run marks the run that never became current abandoned, dropping its scorecard rows."""
    before = current_run(data_dir)
    settings = load_settings(data_dir=data_dir)

    def killed(*_: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr("pipeline.build.run.switch", killed)
    monkeypatch.setattr("pipeline.runtime.runs.end_failed", lambda *_: None)  # a kill records nothing
    with pytest.raises(SystemExit):
        build(settings)
    monkeypatch.undo()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [[unseen, status]] = con.execute("select run_id, status from meta.runs order by run_id desc limit 1").fetchall()
    assert status == "succeeded" and unseen != before and current_run(data_dir) == before
    build(settings)
    assert_current_succeeded(data_dir)
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select status from meta.runs where run_id = ?", [unseen]).fetchall() == [("abandoned",)]
        assert con.execute("select count(*) from marts.thesis_scorecard where run_id = ?", [unseen]).fetchall() == [
            (0,)
        ]
    assert unseen not in versions(data_dir)


def test_a_failed_switch_switches_readers_back(data_dir, monkeypatch):
    """A failure after `current` was renamed (making the fixed names, pruning) puts it back."""
    before = current_run(data_dir)
    settings = load_settings(data_dir=data_dir)

    def refused(publish_dir: Path, keep: int = 3) -> list[Path]:
        raise OSError(errno.EACCES, "Permission denied", str(publish_dir / "versions"))

    monkeypatch.setattr("warehouse.publish.prune", refused)
    with pytest.raises(OSError):
        build(settings)
    monkeypatch.undo()
    assert current_run(data_dir) == before
    assert_current_succeeded(data_dir)
    assert versions(data_dir) == [before]


# --- a full disk -----------------------------------------------------------------------------


def no_space(path: object = "") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def half_then_full(source: Path, target: Path, *_: object, **__: object) -> None:
    """shutil.copyfile on a disk that fills halfway through the copy."""
    Path(target).write_bytes(Path(source).read_bytes()[: Path(source).stat().st_size // 2])
    raise no_space(target)


def parquet_full(*_: object, **__: object) -> None:
    raise duckdb.IOException('Could not write file "marts.parquet": No space left on device')


def commit_full(*_: object, **__: object) -> None:
    raise duckdb.TransactionException(
        'Failed to commit: Could not write file "warehouse.duckdb.wal": No space left on device'
    )


def report_full(*_: object, **__: object) -> None:
    raise no_space("report.html")


# Where the disk fills: the function patched -> what raises there.
INJECTED = {
    "the analyst copy": ("warehouse.publish.shutil.copyfile", half_then_full, "thesis.duckdb"),
    "the parquet export": ("warehouse.publish.export_table", parquet_full, "marts.parquet"),
    "the report": ("pipeline.build.run.write_report", report_full, "report.html"),
    "the working database": ("pipeline.build.run.scorecard.append", commit_full, "warehouse.duckdb.wal"),
}


@pytest.mark.parametrize("where", INJECTED)
def test_a_write_failing_for_a_full_disk_leaves_current_and_no_half_version(
    request, data_dir, monkeypatch, capsys, where
):
    """The check the tmpfs cases make, through an injected write failure: it runs everywhere."""
    target, failure, named = INJECTED[where]
    published = data_dir / "published"
    before, seen = current_run(data_dir), snapshot(published)
    monkeypatch.setattr(target, failure)
    code, err = in_process(capsys, *args_for(data_dir, "build"))
    monkeypatch.undo()
    refused(request, code, err, named, "No space left on device: free some space")
    unchanged(request, seen, published)
    assert versions(data_dir) == [before]
    assert not list(data_dir.rglob(".*.tmp-*"))
    next_run_completes(request, *in_process(capsys, *args_for(data_dir, "build")))
    assert_current_succeeded(data_dir)


@contextmanager
def small_disk(where: Path, megabytes: int) -> Iterator[Callable[[int], None]]:
    """A tmpfs of `megabytes` at `where`; yields a function that resizes it. Skips where the runner
    may not mount one."""
    where.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            "mounting a tmpfs needs root (or CAP_SYS_ADMIN) on this runner: "
            f"{mounted.stderr.strip() or mounted.returncode}; the injected write failures above make the same check"
        )

    def resize(size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}m", str(where)], check=True)

    try:
        yield resize
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# (holding a previous good run?, megabytes free for this run): each too small for a whole run.
DISKS = [(False, 6), (True, 3), (True, 9)]


@pytest.mark.skipif(shutil.which("mount") is None, reason="no mount command on this runner")
@pytest.mark.parametrize(
    ("previous", "free"), DISKS, ids=[f"{'good run' if p else 'empty'} + {f} MB" for p, f in DISKS]
)
def test_a_full_disk_leaves_current_unchanged_and_no_half_version(request, good_run, tmp_path, previous, free):
    disk = tmp_path / "disk"
    used = sum(p.stat().st_size for p in good_run.rglob("*") if p.is_file() and not p.is_symlink()) if previous else 0
    with small_disk(disk, used // 2**20 + 1 + free) as resize:
        data_dir = disk / "var"
        if previous:
            shutil.copytree(good_run, data_dir, symlinks=True)
        published = data_dir / "published"
        before = snapshot(published)
        kept = versions(data_dir) if previous else []
        done = thesis("run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir), "--full", request=request)
        refused(request, done.returncode, done.stderr, "No space left on device: free some space")
        unchanged(request, before, published)
        if published.exists():
            assert versions(data_dir) == kept
        assert not list(data_dir.rglob(".*.tmp-*"))
        resize(used // 2**20 + 200)
        again = thesis("run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir), request=request)
        next_run_completes(request, again.returncode, again.stderr)
        assert_current_succeeded(data_dir)
