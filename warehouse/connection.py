"""Opening the working database, with its schema migrated to this release's version."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.migrate import migrate

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
    con = duckdb.connect(str(path))
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
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


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
