"""Opening the working database, with its schema migrated to this release's version."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.migrate import migrate
from warehouse.storage import ANALYST_STORAGE_VERSION

# How long opening the working database waits for another process to let go of it: a reader such
# as `thesis status` holds it for well under a second.
BUSY_WAIT_SECONDS = 5.0
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


class WarehouseBusy(RuntimeError):
    """Another process holds the working database (DuckDB allows one writer, or many readers)."""


class WarehouseBroken(RuntimeError):
    """The working database file is damaged (truncated, empty, not DuckDB's, a WAL of another
    version of it): only a rebuild from the raw zone brings it back."""


# DuckDB's IOException for a damaged file, by what its message says -> the reason the user reads.
# Other IOExceptions (a lock held, a permission) are not damage.
_DAMAGE = (
    ("not a valid DuckDB database file", "not a DuckDB database file"),
    ("Could not read enough bytes", "truncated"),
    ("WAL", "its .wal file does not belong to it"),
    ("Corrupt database file", "corrupt"),
)


# A new working database is written in the storage format of the analyst copy (DuckDB 1.4's, which
# analysts' DuckDB reads): the copy is then the file itself, copied whole (warehouse/publish.py).
NEW_FILE = {"storage_compatibility_version": ANALYST_STORAGE_VERSION}

# Warehouses (by resolved path) this process has migrated: checking on every connection would
# cost queries on each task, and nothing else changes the schema of the file this process owns.
_migrated: set[Path] = set()
_migrating = threading.Lock()


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The pipeline's working database, read-write. Analysts read the published copy instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    # A file deleted since it was migrated (a rebuild from the raw zone) comes back empty.
    is_new = not path.exists()
    con = open_waiting(path, read_only=False, config=NEW_FILE if is_new else {})
    try:
        with _migrating:
            if is_new or key not in _migrated:
                migrate(con)
                _migrated.add(key)
        yield con
    finally:
        con.close()


@contextmanager
def connect_read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read the working database without migrating it: readers never change the schema."""
    con = open_waiting(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def damaged(path: Path, exc: duckdb.IOException) -> WarehouseBroken | None:
    """WarehouseBroken for DuckDB's IOException about damage to the file at `path` (met on opening
    it, or on a read-only connection's first read of the damaged part); None for any other."""
    damage = next((why for said, why in _DAMAGE if said in str(exc)), None)
    if damage is None:
        return None
    return WarehouseBroken(f"{path} cannot be opened ({damage}): rebuild it from the raw zone with `thesis rebuild`")


def open_waiting(
    path: Path, read_only: bool, wait: float | None = None, config: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to `wait` seconds (BUSY_WAIT_SECONDS unless given) while another
    process holds the file; then WarehouseBusy naming that process, instead of DuckDB's IOException."""
    deadline = time.monotonic() + (BUSY_WAIT_SECONDS if wait is None else wait)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
        except duckdb.IOException as exc:
            holder = _HOLDER.search(str(exc))
            if holder is None:
                broken = damaged(path, exc)
                if broken is None:
                    raise
                raise broken from None
            if time.monotonic() >= deadline:
                copy = path.with_name("published") / "current" / "thesis.duckdb"
                raise WarehouseBusy(
                    f"{path} is open in another process ({holder[1]}, pid {holder[2]}); close that session and "
                    f"run again (analysts read the published copy, {copy})"
                ) from None
            time.sleep(0.2)


def create_schema(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration to `con` (an in-memory database in tests); the numbers applied."""
    return migrate(con)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure inside rolls every statement back."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
