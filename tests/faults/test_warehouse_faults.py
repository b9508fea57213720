"""A damaged warehouse file, and data directory paths the pipeline cannot use: each ends in one
line saying what to do, nothing published changes, and `thesis rebuild` (or the path put right)
brings the next good run back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.conftest import copied
from tests.faults.harness import refused, snapshot, thesis, unchanged

REBUILD = "rebuild it from the raw zone with `thesis rebuild`"
RUN_ROWS = ("run_id",)  # which run wrote a row: a rebuild is another run


@pytest.fixture
def var(own_raw: Path, tmp_path: Path) -> Path:
    """A copy of the data directory run from its own raw zone (tests/faults/conftest.py)."""
    return copied(own_raw, tmp_path / "var")


def marts(path: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, without the column naming the run that wrote them."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        found = {}
        for table in sorted(tables):
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
                    "order by column_index",
                    [table],
                ).fetchall()
                if c not in RUN_ROWS
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            found[table] = con.execute(f'select {names} from marts."{table}" order by all').fetchall()
    return found


def truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def zero_bytes(path: Path) -> None:
    os.truncate(path, 0)


def not_duckdb(path: Path) -> None:
    path.write_bytes(b"date,close\n2026-03-06,100\n" * 1000)


def stale_wal(path: Path) -> None:
    """A WAL written for an earlier checkpoint of this same file, left beside it."""
    before = path.with_name("before.duckdb")
    shutil.copyfile(path, before)
    with duckdb.connect(str(before)) as con:
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("create table main.later as select 1 as one")
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")  # the file moves on past the checkpoint that WAL follows
        con.execute("create table main.moved_on as select 1 as one")
    shutil.move(before.with_name("before.duckdb.wal"), path.with_name(path.name + ".wal"))


@pytest.mark.parametrize(
    "damage, reason",
    [
        (truncated, "truncated"),
        (zero_bytes, "not a DuckDB database file"),
        (not_duckdb, "not a DuckDB database file"),
        (stale_wal, "its .wal file does not belong to it"),
    ],
    ids=["truncated", "zero bytes", "not a DuckDB file", "a stale WAL"],
)
def test_a_damaged_warehouse_says_rebuild_and_rebuild_brings_it_back(request, var, own_raw, damage, reason):
    warehouse = var / "warehouse.duckdb"
    damage(warehouse)
    before = snapshot(var / "published")
    for _ in range(2):  # the next run says the same: nothing mends it but a rebuild
        done = thesis("run", "--from", str(var / "raw"), "--data-dir", str(var), request=request)
        line = refused(request, done.returncode, done.stderr)
        assert done.returncode == 1
        assert line == f"thesis: error: {warehouse} cannot be opened ({reason}): {REBUILD}"
        unchanged(request, before, var / "published")
    assert main(["rebuild", "--data-dir", str(var)]) == 0
    [aside] = var.glob("warehouse.duckdb.before-rebuild-*")  # kept, not deleted
    assert aside.name.startswith("warehouse.duckdb.before-rebuild-20")
    assert not (var / "warehouse.duckdb.wal").exists()
    assert marts(warehouse) == marts(own_raw / "warehouse.duckdb")
    assert main(["run", "--from", str(var / "raw"), "--data-dir", str(var)]) == 0


def test_rebuild_recreates_a_deleted_warehouse_from_the_raw_zone(var, own_raw):
    (var / "warehouse.duckdb").unlink()
    assert main(["rebuild", "--data-dir", str(var)]) == 0
    assert marts(var / "warehouse.duckdb") == marts(own_raw / "warehouse.duckdb")
    with duckdb.connect(str(var / "warehouse.duckdb"), read_only=True) as con:
        # The history stayed in the old file: the new one starts with the rebuild's own run.
        assert con.execute("select flow, mode, status from meta.runs").fetchall() == [("daily", "replay", "succeeded")]
    assert list(var.glob("warehouse.duckdb.before-rebuild-*")) == []  # nothing was there to move


def test_rebuild_without_a_raw_zone_says_so(request, tmp_path):
    data_dir = tmp_path / "var"
    done = thesis("rebuild", "--data-dir", str(data_dir), request=request)
    line = refused(request, done.returncode, done.stderr)
    assert done.returncode == 1
    assert line == (
        f"thesis: error: nothing to rebuild from: {data_dir / 'raw'} holds no prices/ or sec/ "
        "(a raw zone is written by `thesis run`)"
    )


def symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a" / "var"


def name_too_long(tmp_path: Path) -> Path:
    return tmp_path / ("x" * 300) / "var"  # one name past the 255 bytes a Linux file system allows


@pytest.mark.parametrize(
    ("make", "fault"),
    [
        (
            symlink_loop,
            "Too many levels of symbolic links: a symbolic link on the way points back at itself: remove the loop",
        ),
        (name_too_long, "File name too long: choose a shorter data directory path"),
    ],
    ids=["symlink loop", "name too long"],
)
def test_a_data_directory_path_that_cannot_be_made_is_named(request, tmp_path, make, fault):
    data_dir = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = thesis("run", "--sample", "--data-dir", str(data_dir), request=request)
    line = refused(request, done.returncode, done.stderr)
    assert done.returncode == 1
    assert line == f"thesis: error: {data_dir}/sample: {fault} (--data-dir, THESIS_DATA_DIR)"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing was written


def test_a_data_directory_runs_once_its_symlink_loop_is_removed(tmp_path):
    data_dir = symlink_loop(tmp_path)
    (tmp_path / "a").unlink()
    (tmp_path / "a").mkdir()
    assert main(["run", "--sample", "--data-dir", str(data_dir)]) == 0


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("published", Path.touch, "is a file, but `published` must be a folder: move the file away"),
        ("logs", Path.touch, "is a file, but `logs` must be a folder: move the file away"),
        ("run.lock", Path.mkdir, "is a folder, but `run.lock` must be a file: move the folder away"),
    ],
    ids=["published is a file", "logs is a file", "run.lock is a folder"],
)
def test_a_file_where_a_folder_belongs_or_the_other_way(request, var, name, make, expected):
    before = snapshot(var / "published")
    warehouse = (var / "warehouse.duckdb").read_bytes()
    aside = var.parent / "aside"
    if name != "run.lock":
        (var / name).rename(aside)
    make(var / name)
    done = thesis("run", "--from", str(var / "raw"), "--data-dir", str(var), request=request)
    line = refused(request, done.returncode, done.stderr)
    assert done.returncode == 1
    assert line == f"thesis: error: {var / name} {expected}"
    assert (var / "warehouse.duckdb").read_bytes() == warehouse  # refused before anything was written
    if name == "run.lock":
        (var / name).rmdir()
    else:
        (var / name).unlink()
        aside.rename(var / name)
    unchanged(request, before, var / "published")
    assert main(["run", "--from", str(var / "raw"), "--data-dir", str(var)]) == 0


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes through a folder's permissions, and no read-only mount is at hand"
)
def test_a_data_directory_that_is_not_writable(request, var):
    before = snapshot(var / "published")
    var.chmod(0o555)
    try:
        done = thesis("run", "--from", str(var / "raw"), "--data-dir", str(var), request=request)
    finally:
        var.chmod(0o755)
    line = refused(request, done.returncode, done.stderr)
    assert done.returncode == 1
    assert line == (
        f"thesis: error: the data directory {var} is not writable here: check the path's permissions "
        "(--data-dir, THESIS_DATA_DIR)"
    )
    unchanged(request, before, var / "published")
    assert main(["run", "--from", str(var / "raw"), "--data-dir", str(var)]) == 0
