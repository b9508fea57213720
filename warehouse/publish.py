"""Publishing: parquet per mart with a manifest, and the analyst copy of the database.

Every file is written beside its target and renamed into place, so a reader sees the previous
publish or this one, never half of one, and a reader holding a file open never blocks a run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
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
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name").fetchall()]
        entries, files, rows = {}, {}, {}
        for table in tables:
            target = parquet_dir / f"{table}.parquet"
            tmp = temporary_beside(target)
            # ORDER BY ALL: the same rows always give the same file.
            con.execute(f"copy (select * from marts.{table} order by all) to '{tmp}' (format parquet)")
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
                        "where schema_name = 'marts' and table_name = ? order by column_index", [table]).fetchall()
                ],
            }
    finally:
        con.close()
    manifest = {"run_id": run_id, "published_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "tables": entries}
    manifest_path = parquet_dir / "manifest.json"
    write_atomic(manifest_path, json.dumps(manifest, indent=2).encode())
    return Publication(manifest_path, files, rows)


def publish_analyst_copy(warehouse_path: Path, analyst_path: Path) -> None:
    """Copy the closed working database beside the analyst copy, then rename it into place."""
    analyst_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(analyst_path)
    shutil.copyfile(warehouse_path, tmp)
    os.replace(tmp, analyst_path)
