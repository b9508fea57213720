"""Publishing: parquet per mart with a manifest, and the analyst copy of the database.

Every file is written beside its target and renamed into place, so a reader sees the previous
publish or this one, never half of one, and a reader holding a file open never blocks a run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.files import sha256_bytes, temporary_beside, write_atomic


@dataclass(frozen=True)
class Publication:
    manifest_path: Path
    parquet_files: dict[str, Path]
    rows: dict[str, int]


def publish_parquet(warehouse_path: Path, parquet_dir: Path, run_id: str) -> Publication:
    parquet_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
            ).fetchall()
        ]
        entries, files, rows = {}, {}, {}
        for table in tables:
            target = parquet_dir / f"{table}.parquet"
            tmp = temporary_beside(target)
            # ORDER BY ALL: the same rows always give the same file. The relational API takes the
            # path as a value, never spliced into SQL.
            con.sql(f"select * from marts.{table} order by all").write_parquet(str(tmp))
            os.replace(tmp, target)
            files[table], rows[table] = target, con.execute(f"select count(*) from marts.{table}").fetchone()[0]
            entries[table] = {
                "file": target.name,
                "rows": rows[table],
                "sha256": sha256_bytes(target.read_bytes()),
                "schema": [
                    {"name": name, "type": dtype, "description": comment}
                    for name, dtype, comment in con.execute(
                        "select column_name, data_type, comment from duckdb_columns() "
                        "where schema_name = 'marts' and table_name = ? order by column_index",
                        [table],
                    ).fetchall()
                ],
            }
    finally:
        con.close()
    published_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    manifest = {"run_id": run_id, "published_at": published_at, "tables": entries}
    manifest_path = parquet_dir / "manifest.json"
    write_atomic(manifest_path, json.dumps(manifest, indent=2).encode())
    return Publication(manifest_path, files, rows)


# DuckDB 2.0 writes storage version 69 by default; the DuckDB 1.4 and 1.5 that analysts run read
# up to 68. The copy is written in 1.4's format, which 2.0 reads too.
ANALYST_STORAGE_VERSION = "v1.4.0"


def sql_string(text: str) -> str:
    """`text` as a SQL string literal, for statements that take no bound parameters (ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def publish_analyst_copy(warehouse_path: Path, analyst_path: Path) -> None:
    """Copy the closed working database, in DuckDB 1.4's storage format, beside the analyst copy,
    then rename it into place. Comments, views and macros come along with the tables."""
    analyst_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(analyst_path)
    # ATTACH would open a leftover file (from a killed publish) instead of creating one, and a
    # WAL beside a file that is not its own makes the file fail to open.
    leftovers = [tmp, tmp.with_name(tmp.name + ".wal")]
    for path in leftovers:
        path.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        storage = sql_string(ANALYST_STORAGE_VERSION)
        con.execute(f"attach {sql_string(str(warehouse_path))} as src (read_only)")
        con.execute(f"attach {sql_string(str(tmp))} as dst (storage_version {storage})")
        con.execute("copy from database src to dst")
        con.execute("detach src")
        con.execute("detach dst")  # checkpoints: the file is whole, with no WAL beside it
        # An analyst session killed while it held the old copy read-write may have left a WAL;
        # the new copy would refuse to open with it.
        analyst_path.with_name(analyst_path.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, analyst_path)
    finally:
        con.close()
        for path in leftovers:
            path.unlink(missing_ok=True)
