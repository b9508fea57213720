"""Generic loading: upsert a frame (or staged parquet files) into a table on the table's key, by column name.

A table's key is its primary key, or for a table too large for one, its entry in UNINDEXED_KEYS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd
import pyarrow as pa

# Keys no index enforces. At every filer, raw.xbrl_facts holds several hundred million fact
# versions, and a primary key's ART index on them would be 90% of the warehouse file and 1.6x the
# load's CPU (migration 0015, docs/scaling.md). A load deletes the rows whose key it brings, then inserts
# them; callers load inside a transaction, so nothing is seen half replaced.
UNINDEXED_KEYS = {"raw.xbrl_facts": ("cik", "taxonomy", "concept", "unit", "period", "accn")}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    if not rows:
        raise ValueError(f"no table {table}")
    return [r[0] for r in rows]


def upsert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Insert `frame` into `table`, replacing rows with the same primary key. Returns rows written.

    `table` names one of the warehouse's own tables (never data); columns are matched by name,
    and a column the table does not have is an error rather than silently dropped.
    """
    columns = table_columns(con, table)
    unknown = set(frame.columns) - set(columns)
    if unknown:
        raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
    selected = ", ".join(f'"{c}"' for c in columns if c in frame.columns)
    # As arrow: DuckDB scans its columns natively, where a frame's object columns (dates, say) are
    # read value by value; on a companyfacts payload that is a good part of the load.
    con.register("upsert_batch", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        replace_rows(con, table, selected, [], "upsert_batch", [])
    finally:
        con.unregister("upsert_batch")
    return len(frame)


def upsert_parquet(
    con: duckdb.DuckDBPyConnection, table: str, paths: Sequence[str], constants: Mapping[str, object]
) -> None:
    """upsert for rows staged as parquet files: every column of `table` read from `paths` by name,
    except those in `constants`, bound once for every row (a run id, a load time)."""
    columns = table_columns(con, table)
    unknown = set(constants) - set(columns)
    if unknown:
        raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
    selected = [f'"{c}"' for c in columns if c not in constants] + [f'? as "{c}"' for c in constants]
    replace_rows(con, table, ", ".join(selected), list(constants.values()), "read_parquet(?)", [list(paths)])


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    selected: str,
    selected_params: list[object],
    source: str,
    source_params: list[object],
) -> None:
    """Insert `select {selected} from {source}` into `table`, replacing the rows with the same key."""
    key = UNINDEXED_KEYS.get(table)
    if key is None:
        con.execute(
            f"insert or replace into {table} by name select {selected} from {source}", selected_params + source_params
        )
        return
    # The incoming keys are the join's build side: DuckDB prunes the stored row groups outside
    # their range (a night's members load in CIK order), so a load reads little of the table.
    keys = ", ".join(f'"{c}"' for c in key)
    same = " and ".join(f'stored."{c}" = incoming."{c}"' for c in key)
    con.execute(
        f"delete from {table} as stored using (select distinct {keys} from {source}) as incoming where {same}",
        source_params,
    )
    con.execute(f"insert into {table} by name select {selected} from {source}", selected_params + source_params)
