"""Schema migrations: a warehouse made by an earlier release upgrades in place, once per process."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from warehouse import connection
from warehouse.connection import connect, connect_read_only, create_schema, transaction
from warehouse.load import upsert
from warehouse.migrate import (
    MIGRATIONS_DIR,
    SCHEMA_VERSION,
    Migration,
    NewerWarehouseError,
    current_version,
    migrate,
    migrations,
)

# What the migrations of this release are, written out rather than read from the code.
EVERY_VERSION = [
    (1, "initial"),
    (2, "run_parameters"),
    (3, "thesis_timeline"),
    (4, "price_flags"),
    (5, "run_abandoned"),
    (6, "builds"),
    (7, "bulk_members"),
    (8, "failed_items"),
    (9, "run_clock"),
    (10, "stale_status"),
    (11, "run_partial"),
    (12, "xbrl_fact_flags"),
    (13, "payload_received"),
    (14, "intermediate"),
    (15, "xbrl_facts_unindexed"),
    (16, "standing"),
]
EVERY_NUMBER = [number for number, _ in EVERY_VERSION]
FUTURE = len(EVERY_VERSION) + 1  # a migration this release does not know
PARAMETERS_COMMENT = "The settings the run used, as JSON: tickers, benchmark, anchor_date, as_of, hyperscalers."
RUN = ("20260306T223000Z-a1b2c3", "daily", "sample", dt.datetime(2026, 3, 6, 22, 30, tzinfo=dt.UTC), "succeeded")
BAR = ("NVDA", dt.date(2026, 3, 6), 188.0, 191.5, 187.25, 190.0, 190.0, 1000, False, "ab" * 32)


def previous_release_warehouse(path):
    """A warehouse as the release before migrations made it: 0001's SQL, no meta.schema_version."""
    with duckdb.connect(str(path)) as con:
        con.execute((MIGRATIONS_DIR / "0001_initial.sql").read_text())
        con.execute("insert into meta.runs (run_id, flow, mode, started_at, status) values (?, ?, ?, ?, ?)", list(RUN))
        con.execute(
            "insert into raw.prices (ticker, date, open, high, low, close, adj_close, volume, "
            "close_is_adjusted, payload_sha256, run_id, loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*BAR, RUN[0], RUN[3]],
        )
        assert current_version(con) == 0
    return path


def versions(con):
    return con.execute("select version, name from meta.schema_version order by version").fetchall()


def test_the_release_knows_every_migration():
    assert len(EVERY_VERSION) == SCHEMA_VERSION
    assert [(m.number, m.name) for m in migrations()] == EVERY_VERSION


def test_a_previous_release_warehouse_upgrades_in_place(tmp_path):
    path = previous_release_warehouse(tmp_path / "warehouse.duckdb")
    with connect(path) as con:
        assert versions(con) == EVERY_VERSION
        assert con.execute(
            "select comment from duckdb_columns() where schema_name = 'meta' and table_name = 'runs' "
            "and column_name = 'parameters'"
        ).fetchall() == [(PARAMETERS_COMMENT,)]
        # The rows the previous release loaded are all still there; the new column is NULL on them.
        assert con.execute("select run_id, flow, mode, started_at, status, parameters from meta.runs").fetchall() == [
            (*RUN, None)
        ]
        assert con.execute(
            "select ticker, date, open, high, low, close, adj_close, volume, close_is_adjusted, "
            "payload_sha256 from raw.prices"
        ).fetchall() == [BAR]
        assert con.execute("select flags from raw.prices").fetchall() == [(None,)]  # 0004: no warning on it


def test_a_new_warehouse_gets_every_migration_and_every_column_is_commented(tmp_path):
    path = tmp_path / "new" / "warehouse.duckdb"  # the folder too is made
    with connect(path) as con:
        assert versions(con) == EVERY_VERSION
        assert [
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'meta' and table_name = 'runs' "
                "order by column_index"
            ).fetchall()
        ] == [
            "run_id",
            "flow",
            "mode",
            "started_at",
            "finished_at",
            "status",
            "message",
            "parameters",
            "failed",
            "worked_for",
            "inputs",
        ]
        assert con.execute("select schema_name, table_name from duckdb_tables() where comment is null").fetchall() == []
        assert (
            con.execute(
                "select table_name, column_name from duckdb_columns() where comment is null "
                "and schema_name in ('raw', 'staging', 'marts', 'meta')"
            ).fetchall()
            == []
        )
        assert (
            con.execute(
                "select count(*) from duckdb_columns() where schema_name = 'meta' and table_name = 'schema_version'"
            ).fetchone()[0]
            == 3
        )


def test_scores_made_before_the_stale_status_keep_their_rows_and_stale_is_allowed(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        migrate(con, migrations()[:8])
        con.execute(
            "insert into marts.thesis_scorecard values ('nvda_vs_sox', 's', -33.6, '<= -20', 'supported', "
            "date '2026-03-06', 'e', 'run-1')"
        )
        con.execute(
            "insert into marts.thesis_timeline values ('nvda_vs_sox', date '2026-03-02', date '2026-03-06', "
            "'supported', -33.6, '<= -20', 'e', 'abc', 'run-1')"
        )
        with pytest.raises(duckdb.ConstraintException):
            con.execute("update marts.thesis_scorecard set status = 'stale'")
    with connect(path) as con:
        assert con.execute("select claim_id, status, as_of, run_id from marts.thesis_scorecard").fetchall() == [
            ("nvda_vs_sox", "supported", dt.date(2026, 3, 6), "run-1")
        ]
        assert con.execute("select week, status, claim_hash from marts.thesis_timeline").fetchall() == [
            (dt.date(2026, 3, 2), "supported", "abc")
        ]
        con.execute("update marts.thesis_scorecard set status = 'stale'")
        con.execute("update marts.thesis_timeline set status = 'stale'")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("update marts.thesis_timeline set status = 'old'")


# NVIDIA's FY2026 capex fact as a warehouse before 0015 holds it: cik .. period, end, then the
# version's val, accn, form, filed and payload, then run and loaded.
FACT = (1045810, "us-gaap", "PaymentsToAcquireProductiveAssets", "USD", "2025-01-27/2026-01-25", dt.date(2026, 1, 25))
# Two versions: the 10-K, and a restatement in a later filing.
CAPEX = [
    (*FACT, 6042e6, "0001045810-26-000021", "10-K", dt.date(2026, 2, 25), "ab" * 32, RUN[0], RUN[3]),
    (*FACT, 6100e6, "0001045810-26-000099", "10-K/A", dt.date(2026, 6, 1), "cd" * 32, RUN[0], RUN[3]),
]
FACT_COLUMNS = 'cik, taxonomy, concept, unit, period, "end", val, accn, form, filed, payload_sha256, run_id, loaded_at'


def test_xbrl_facts_lose_their_index_and_keep_every_version_and_a_load_still_replaces_by_key(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        migrate(con, migrations()[:14])
        con.executemany(f"insert into raw.xbrl_facts ({FACT_COLUMNS}) values ({', '.join('?' * 13)})", CAPEX)
    with connect(path) as con:
        assert con.execute(f"select {FACT_COLUMNS} from raw.xbrl_facts order by filed").fetchall() == CAPEX
        assert (
            con.execute(
                "select count(*) from duckdb_constraints() where schema_name = 'raw' and table_name = 'xbrl_facts' "
                "and constraint_type in ('PRIMARY KEY', 'UNIQUE')"
            ).fetchone()[0]
            == 0
        )
        # The 10-K/A loaded again with a corrected value replaces its row; the 10-K's stays.
        corrected = pd.DataFrame([dict(zip(FACT_COLUMNS.replace('"', "").split(", "), CAPEX[1], strict=True))])
        with transaction(con):
            upsert(con, "raw.xbrl_facts", corrected.assign(val=6150e6))
        assert con.execute("select accn, val from raw.xbrl_facts order by filed").fetchall() == [
            ("0001045810-26-000021", 6042e6),
            ("0001045810-26-000099", 6150e6),
        ]


def test_create_schema_builds_an_in_memory_warehouse():
    with duckdb.connect() as con:
        assert create_schema(con) == EVERY_NUMBER
        assert create_schema(con) == []  # up to date: nothing to apply
        assert versions(con) == EVERY_VERSION


def test_migrations_run_once_per_process(tmp_path, monkeypatch):
    calls = []

    def counted(con):
        calls.append(migrate(con))
        return calls[-1]

    monkeypatch.setattr(connection, "migrate", counted)
    path = tmp_path / "warehouse.duckdb"
    with connect(path):
        pass
    with connect(path):
        pass
    (tmp_path / "elsewhere").mkdir()
    with connect(tmp_path / "elsewhere" / ".." / "warehouse.duckdb"):  # the same file, spelled otherwise
        pass
    assert calls == [EVERY_NUMBER]
    # A warehouse deleted to be rebuilt from the raw zone comes back empty, and is migrated again.
    path.unlink()
    with connect(path) as con:
        assert versions(con) == EVERY_VERSION
    assert calls == [EVERY_NUMBER, EVERY_NUMBER]


def test_a_warehouse_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        create_schema(con)
        con.execute("insert into meta.schema_version values (?, 'from_the_future', now())", [FUTURE])
    for _ in range(2):  # refused every time, not only on the first connection
        with pytest.raises(NewerWarehouseError) as refused, connect(path):
            pass
        assert str(refused.value) == (
            f"{path} is at schema version {FUTURE}, but this release knows versions up to {FUTURE - 1}: a newer "
            "release made it; "
            "use that release, or rebuild the warehouse from the raw zone"
        )
    with duckdb.connect(str(path), read_only=True) as con:
        assert versions(con) == [*EVERY_VERSION, (FUTURE, "from_the_future")]


def test_a_failed_migration_leaves_the_previous_version(tmp_path):
    broken = [
        *migrations()[:1],
        Migration(2, "broken", "alter table meta.runs add column x varchar; select * from nowhere;"),
    ]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        with pytest.raises(duckdb.CatalogException, match="nowhere"):
            migrate(con, broken)
        assert versions(con) == [(1, "initial")]
        assert "x" not in [
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'meta' and table_name = 'runs'"
            ).fetchall()
        ]


def test_read_only_connections_do_not_migrate(tmp_path):
    path = previous_release_warehouse(tmp_path / "warehouse.duckdb")
    with connect_read_only(path) as con:
        assert current_version(con) == 0
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            con.execute("delete from meta.runs")


@pytest.mark.parametrize(
    "names, reason",
    [
        (["0001_initial.sql", "0001_again.sql"], "migrations 0001_again.sql and 0001_initial.sql share the number 1"),
        (["0001_initial.sql", "0003_later.sql"], "skip number\\(s\\) 0002"),
        (["0002_first.sql"], "skip number\\(s\\) 0001"),
        (["0001_initial.sql", "2_short.sql"], "migration file 2_short.sql is not named NNNN_name.sql"),
    ],
)
def test_badly_numbered_migrations_are_refused(tmp_path, names, reason):
    for name in names:
        (tmp_path / name).write_text("select 1;")
    with pytest.raises(ValueError, match=reason):
        migrations(tmp_path)
