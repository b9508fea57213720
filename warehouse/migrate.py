"""Numbered schema migrations: warehouse/migrations/NNNN_name.sql, applied once each, in order.

meta.schema_version holds one row per migration applied. A warehouse without that table (made
by the release before migrations, or a new empty file) is at version 0; 0001 is that release's
schema, idempotent, so applying it to such a warehouse changes nothing that is there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import duckdb

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

# The runner's own bookkeeping, created with the first migration a warehouse receives (not in 0001,
# which stays exactly the schema the previous release made).
_VERSION_TABLE = """
create schema if not exists meta;
create table if not exists meta.schema_version (
    version integer primary key,
    name varchar not null,
    applied_at timestamptz not null
);
comment on table meta.schema_version is 'One row per migration applied (warehouse/migrations/NNNN_name.sql).';
comment on column meta.schema_version.version is 'The migration''s number, NNNN in its file name.';
comment on column meta.schema_version.name is 'The migration''s name, the rest of its file name.';
comment on column meta.schema_version.applied_at is 'When the migration was applied to this warehouse.';
"""


class Migration(NamedTuple):
    number: int
    name: str
    sql: str


class NewerWarehouseError(RuntimeError):
    """The warehouse was migrated by a newer release than this one: refuse rather than guess."""


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration in `directory`, by number: 1, 2, ... with no duplicate and no gap."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise ValueError(f"migration file {path.name} is not named NNNN_name.sql (like 0002_run_parameters.sql)")
        number = int(match[1])
        if number in found:
            first = f"{number:04d}_{found[number].name}.sql"
            raise ValueError(f"migrations {first} and {path.name} share the number {number}")
        found[number] = Migration(number, match[2], path.read_text())
    numbers = sorted(found)
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        raise ValueError(f"migrations in {directory} skip number(s) {', '.join(f'{n:04d}' for n in missing)}")
    return [found[n] for n in numbers]


SCHEMA_VERSION = migrations()[-1].number


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to the connection's database; 0 before any."""
    has_table = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'meta' and table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not has_table:
        return 0
    return con.execute("select coalesce(max(version), 0) from meta.schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection, available: list[Migration] | None = None) -> list[int]:
    """Apply every migration above the warehouse's version, each in its own transaction with its
    meta.schema_version row. Returns the numbers applied (empty when up to date)."""
    available = migrations() if available is None else available
    known = available[-1].number if available else 0
    version = current_version(con)
    if version > known:
        [[path]] = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchall()
        raise NewerWarehouseError(
            f"{path or 'the warehouse'} is at schema version {version}, but this release knows versions up to "
            f"{known}: a newer release made it; use that release, or rebuild the warehouse from the raw zone"
        )
    applied = []
    for migration in available:
        if migration.number <= version:
            continue
        # Not warehouse.connection.transaction: that module imports this one.
        con.execute("begin transaction")
        try:
            con.execute(_VERSION_TABLE)
            con.execute(migration.sql)
            con.execute(
                "insert into meta.schema_version (version, name, applied_at) values (?, ?, now())",
                [migration.number, migration.name],
            )
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        applied.append(migration.number)
    return applied
