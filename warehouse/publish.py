"""Publishing: parquet per mart with a manifest, the report and the analyst copy, as one version.

Each run writes a new folder, PUBLISHED/versions/<run_id>/ (parquet/ with manifest.json,
report.html, thesis.duckdb), that no reader knows yet. When the folder is whole, one symlink,
PUBLISHED/current, is switched to it by a rename: a reader sees the previous set or this one,
never a mix, and a killed publish leaves the previous set as it was. The previous versions stay
for readers that still hold them, KEEP versions in all. Each copy has a folder of its own, where
DuckDB (which resolves the links) keeps its WAL: a WAL left by an analyst session killed on one
copy never meets another copy.

A version rewrites only what changed: a parquet file whose rows are those of the current
version's same file is a hard link to it (a mart that grows with time is one file per year, so a
day's increment writes one year), and the analyst copy is a reflink of the working database where
the filesystem has them. Published files are never written in place, so sharing them is safe.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.connection import connect_read_only
from warehouse.files import sha256_file, temporary_beside, write_atomic
from warehouse.storage import ANALYST_STORAGE_VERSION

VERSIONS = "versions"
CURRENT = "current"
KEEP = 3  # the current version and the two before it
# Names kept from before versions, each a fixed symlink through `current`: what analysts and BI
# tools were pointed at keeps working, and switches with `current`.
THROUGH_CURRENT = ("thesis.duckdb", "parquet", "report.html")


@dataclass(frozen=True)
class Publication:
    manifest_path: Path
    parquet_files: dict[str, list[Path]]
    rows: dict[str, int]
    linked: int  # files hard-linked from the previous version: their rows had not changed


def quoted(*parts: str) -> str:
    """A (qualified) name as SQL, for statements that take names only as text (catalog names)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def sql_string(text: str) -> str:
    """`text` as a SQL string literal, for statements that take no bound parameters (ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def export_parquet(
    warehouse_path: Path,
    parquet_dir: Path,
    run_id: str,
    published_at: dt.datetime,
    keys: Mapping[str, Sequence[str]] | None = None,
    partitions: Mapping[str, tuple[str, str]] | None = None,
    previous: Path | None = None,
) -> Publication:
    """Every mart as parquet in `parquet_dir` (a new version's, no reader sees it yet), then the
    manifest: the run, and per mart its rows, schema and files (each with its rows, sha256 and
    digest). A mart with a unique key in `keys` is written in its order; one in `partitions` (mart
    -> (part, column), e.g. ("year", "date")) as one file per value, hive style
    (`<mart>/year=2025/data.parquet`), any other as `<mart>.parquet`. A file whose rows and schema
    are those of the same file in `previous` (the current version's parquet folder) is a hard link
    to it, not a rewrite."""
    parquet_dir.mkdir(parents=True, exist_ok=True)
    before = published_tables(previous)
    linked = 0
    entries = {}
    with connect_read_only(warehouse_path) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
            ).fetchall()
        ]
        for table in tables:
            entries[table], reused = export_table(
                con,
                table,
                parquet_dir,
                (keys or {}).get(table, ()),
                (partitions or {}).get(table),
                Previous(previous, before.get(table)) if previous is not None else None,
            )
            linked += reused
    manifest = {"run_id": run_id, "published_at": published_at.isoformat(), "tables": entries}
    manifest_path = parquet_dir / "manifest.json"
    write_atomic(manifest_path, json.dumps(manifest, indent=2).encode())
    return Publication(
        manifest_path,
        {table: [parquet_dir / f["file"] for f in entry["files"]] for table, entry in entries.items()},
        {table: entry["rows"] for table, entry in entries.items()},
        linked,
    )


@dataclass(frozen=True)
class Previous:
    """The current version's parquet folder and its manifest entry for one mart (None: it had none)."""

    folder: Path
    entry: Mapping[str, Any] | None


def published_tables(parquet_dir: Path | None) -> dict[str, Any]:
    """The manifest's entries of a published parquet folder; none where it has no manifest, or one
    from before files were listed per mart (nothing of it is then reused)."""
    try:
        tables = json.loads((parquet_dir / "manifest.json").read_text())["tables"] if parquet_dir else {}
    except (OSError, ValueError, KeyError):
        return {}
    return {table: entry for table, entry in tables.items() if isinstance(entry, dict) and "files" in entry}


def export_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    parquet_dir: Path,
    key: Sequence[str] = (),
    partition: tuple[str, str] | None = None,
    previous: Previous | None = None,
) -> tuple[dict[str, Any], int]:
    """One mart into `parquet_dir`, its manifest entry and how many of its files were hard links.

    Each file is ordered by the unique `key` or else by all columns, so the same rows always give
    the same file (a sort on every column of millions of rows costs more than twice one on the
    key). Whether a file's rows changed is told by a digest DuckDB computes in one scan (the count,
    and the XOR and the sum of every row's hash, with the order): equal digests, and an equal
    schema, and the previous version's file is linked instead of written."""
    name = quoted("marts", table)
    order = ", ".join(quoted(c) for c in key) if key else "all"
    columns = con.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where schema_name = 'marts' and table_name = ? order by column_index",
        [table],
    ).fetchall()
    schema = [{"name": column, "type": dtype, "description": comment} for column, dtype, comment in columns]
    digest = f"count(*), bit_xor(hash(m)), sum(hash(m)::hugeint)::varchar, {sql_string(order)}"
    if partition is None:
        # fetchall, not fetchone: DuckDB refuses the next query on a connection with rows left unread.
        [[rows, *print_]] = con.execute(f"select {digest} from {name} as m").fetchall()
        parts = [(f"{table}.parquet", "true", rows, print_)]
    else:
        part, column = partition
        value = f"date_part({sql_string(part)}, {quoted(column)})"
        parts = [
            (
                f"{table}/{part}={HIVE_NULL if at is None else at}/data.parquet",
                f"{value} is not distinct from {'null' if at is None else at}",
                rows,
                print_,
            )
            for at, rows, *print_ in con.execute(
                f"select {value} as part_value, {digest} from {name} as m group by part_value order by part_value"
            ).fetchall()
        ]
    reusable: dict[str, tuple[Path, Mapping[str, Any]]] = {}
    if previous is not None and previous.entry is not None and same_columns(previous.entry["schema"], schema):
        reusable = {f["file"]: (previous.folder / f["file"], f) for f in previous.entry["files"]}
    files: list[dict[str, Any]] = []
    linked = 0
    for file, where, rows, print_ in parts:
        target, digest_text = parquet_dir / file, ":".join(map(str, [rows, *print_]))
        target.parent.mkdir(parents=True, exist_ok=True)
        source, before = reusable.get(file, (None, None))
        if before is not None and before.get("digest") == digest_text and source and link(source, target):
            files.append(dict(before))
            linked += 1
            continue
        # The relational API takes the path as a value, never spliced into SQL.
        con.sql(f"select * from {name} where {where} order by {order}").write_parquet(str(target))
        files.append({"file": file, "rows": rows, "sha256": sha256_file(target), "digest": digest_text})
    entry: dict[str, Any] = {"rows": sum(f["rows"] for f in files), "files": files, "schema": schema}
    if partition is not None:
        entry["partition_by"] = {partition[0]: partition[1]}
    return entry, linked


# The partition name of NULL values, as Hive, Spark and pyarrow spell it.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def same_columns(before: Sequence[Mapping[str, Any]], now: Sequence[Mapping[str, Any]]) -> bool:
    """Whether two manifest schemas name the same columns of the same types (descriptions are not
    in the parquet files)."""
    return [(c["name"], c["type"]) for c in before] == [(c["name"], c["type"]) for c in now]


def link(source: Path, target: Path) -> bool:
    """`target` made a hard link to `source`; False where it cannot be (gone, another filesystem),
    and the caller writes it."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class RunEnd:
    """How the run that publishes ended, written into its copy's meta.runs: the working database
    records it only once the version is current, so a run killed before that is not `succeeded`.
    `failed`: the items it loaded without, each with why (meta.runs.failed)."""

    run_id: str
    status: str
    message: str
    finished_at: dt.datetime
    failed: Mapping[str, str] = field(default_factory=dict)


def publish_analyst_copy(warehouse_path: Path, target: Path, ended: RunEnd) -> None:
    """Copy the closed working database to `target` (in a version no reader sees yet), in DuckDB
    1.4's storage format. Comments, views and macros come along with the tables."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # ATTACH would open a leftover file instead of creating one, and a WAL beside a file that is
    # not its own makes the file fail to open.
    for path in (target, target.with_name(target.name + ".wal")):
        path.unlink(missing_ok=True)
    # Held read-only for the whole copy: no other process can open the file to write it meanwhile.
    with connect_read_only(warehouse_path) as src:
        if in_analyst_format(src, warehouse_path):
            # The file as it is: a copy of its bytes costs a fraction of copying it table by table.
            clone(warehouse_path, target)
            with duckdb.connect(str(target)) as con:
                end_run(con, "", ended)
            return
        [[name]] = src.execute("select current_database()").fetchall()
        storage = sql_string(ANALYST_STORAGE_VERSION)
        src.execute(f"attach {sql_string(str(target))} as dst (storage_version {storage}, read_only false)")
        src.execute(f"copy from database {quoted(name)} to dst")
        end_run(src, "dst.", ended)
        src.execute("detach dst")  # checkpoints: the file is whole, with no WAL beside it


# ioctl FICLONE (linux/fs.h): the target shares the source's blocks until either is written.
FICLONE = 0x40049409


def clone(source: Path, target: Path) -> bool:
    """`target` a reflink of `source` where the filesystem has them (btrfs, XFS, bcachefs...): no
    unchanged byte is written, and the blocks the run then changes are copied on write. Elsewhere
    (ext4, tmpfs, another filesystem) a byte copy. True when it was a reflink."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return True
        except OSError:
            pass
    shutil.copyfile(source, target)  # in the kernel (sendfile), never through Python's memory
    return False


def in_analyst_format(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> bool:
    """Whether the working database (`con`, open on `warehouse_path`) is stored in the analyst
    copy's format, checkpointed (no WAL beside it), so its bytes are the copy. One made by a
    release before is in DuckDB 2.0's own."""
    if warehouse_path.with_name(warehouse_path.name + ".wal").exists():
        return False
    [[tags]] = con.execute("select tags from duckdb_databases() where not internal").fetchall()
    return str(tags.get("storage_version", "")).removesuffix("+") == ANALYST_STORAGE_VERSION


def end_run(con: duckdb.DuckDBPyConnection, database: str, ended: RunEnd) -> None:
    """`ended` written into meta.runs of the copy (`database`: its catalog and a dot, or none)."""
    con.execute(
        f"update {database}meta.runs set status = ?, message = ?, failed = ?, finished_at = ? where run_id = ?",
        [
            ended.status,
            ended.message,
            json.dumps(ended.failed) if ended.failed else None,
            ended.finished_at,
            ended.run_id,
        ],
    )


def current_version(publish_dir: Path) -> Path | None:
    """The version folder readers see now, or None before the first publish."""
    link = publish_dir / CURRENT
    return publish_dir / os.readlink(link) if link.is_symlink() else None


def switch(publish_dir: Path, version: Path) -> None:
    """Make `version` (a whole folder under PUBLISHED/versions/) the one readers see: one rename of
    a symlink. Then the fixed names through `current`, and the versions past KEEP removed. A
    failure on the way switches readers back to the version they saw before."""
    previous = current_version(publish_dir)
    replace_with_link(publish_dir / CURRENT, version.relative_to(publish_dir))
    try:
        for name in THROUGH_CURRENT:
            link = publish_dir / name
            if not (link.is_symlink() and Path(os.readlink(link)) == Path(CURRENT) / name):
                # Left by the layout before versions: the WAL of an analyst session killed on that copy.
                link.with_name(f"{name}.wal").unlink(missing_ok=True)
                replace_with_link(link, Path(CURRENT) / name)
        prune(publish_dir)
    except BaseException:
        if previous is None:
            (publish_dir / CURRENT).unlink(missing_ok=True)
        else:
            replace_with_link(publish_dir / CURRENT, previous.relative_to(publish_dir))
        raise


def discard(publish_dir: Path, version: Path) -> None:
    """Remove `version`, written by a run that failed, unless readers see it: on a full disk, what
    it holds is the space the next run needs."""
    current = current_version(publish_dir)
    if version.exists() and (current is None or current.name != version.name):
        shutil.rmtree(version, ignore_errors=True)


def replace_with_link(path: Path, target: Path) -> None:
    """`path` becomes a symlink to `target` (relative to its folder) in one rename."""
    if path.is_dir() and not path.is_symlink():
        # A folder a rename cannot replace: from the layout before versions, or a copy of the data
        # directory made by a tool that followed the links.
        shutil.rmtree(path)
    tmp = temporary_beside(path)
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def prune(publish_dir: Path, keep: int = KEEP) -> list[Path]:
    """Remove the versions readers no longer reach: all but the current one and the keep - 1
    before it, and any version newer than current (a run killed before its switch). Only for a
    caller holding the run lock: no run is writing a version meanwhile."""
    versions = publish_dir / VERSIONS
    if not versions.is_dir():
        return []
    current = current_version(publish_dir)
    # Run ids start with their UTC start time: names sort in the order the runs started.
    names = sorted(p.name for p in versions.iterdir() if p.is_dir())
    at = names.index(current.name) if current is not None and current.name in names else -1
    kept = set(names[max(0, at - keep + 1) : at + 1])
    removed = [versions / name for name in names if name not in kept]
    for path in removed:
        shutil.rmtree(path)
    return removed
