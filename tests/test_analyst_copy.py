"""The analyst copy opens in DuckDB 1.5, the newest CLI analysts can install, and the queries of
docs/data.md run on it."""

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT
from tests.old_duckdb import OldDuckDB, old_duckdb
from warehouse.connection import connect
from warehouse.publish import RunEnd, publish_analyst_copy

THESIS = Path(sys.executable).with_name("thesis")
pytestmark = [
    pytest.mark.xdist_group("old_duckdb"),  # one worker installs DuckDB 1.5, once
    pytest.mark.slow,  # that install, and the sample run through the command in a fresh interpreter
]


@pytest.fixture(scope="session")
def duckdb_1_5(request) -> OldDuckDB:
    return old_duckdb(Path(request.config.cache.mkdir("old-duckdb")))


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory) -> Path:
    """The analyst copy of the sample, made by the command a user types."""
    data_dir = tmp_path_factory.mktemp("analyst")
    done = subprocess.run(
        [str(THESIS), "run", "--sample", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return data_dir / "sample" / "published" / "current" / "thesis.duckdb"


def documented_queries() -> list[str]:
    """Every statement of docs/data.md's sql blocks, in order; the first block's title kept apart."""
    blocks = re.findall(r"^```sql\n(.*?)^```", (PROJECT / "docs" / "data.md").read_text(), re.S | re.M)
    assert blocks and blocks[0].startswith("-- Where each ticker stands against the index today\n")
    queries = []
    with duckdb.connect() as parser:  # DuckDB's own parser: comments and quoted semicolons are its concern
        for block in blocks:
            statements = [s.query for s in parser.extract_statements(block)]
            assert statements, f"no statement in docs/data.md's sql block:\n{block}"
            queries += statements
    return queries


def test_every_documented_query_runs_in_duckdb_1_5(sample_copy, duckdb_1_5):
    queries = documented_queries()
    assert len(queries) >= 8  # the page had eight when this was written: the parse found them
    results = duckdb_1_5.run(sample_copy, queries)
    failed = [
        f"{query}\n  -> {result['error']}" for query, result in zip(queries, results, strict=True) if "error" in result
    ]
    assert not failed, "\n\n".join(failed)
    # Where each ticker stands against the index today: the sample's last session is 2026-03-06.
    # Its waypoints (sample/generate.py) on the anchor 2025-08-01 and on 2026-03-06: NVDA 173.50
    # and 190 (+9.5 %), ORCL 250 and 150 (-40.0 %), ^SOX 5530 and 8100 (+46.5 %).
    assert sorted(results[0]["rows"]) == [
        ["NVDA", "2026-03-06", 9.5, 46.5, -37.0],
        ["ORCL", "2026-03-06", -40.0, 46.5, -86.5],
    ]
    # The as-of example finds what the sample's NVIDIA-like filer had filed by 2026-02-01.
    [as_of] = [r for q, r in zip(queries, results, strict=True) if "xbrl_facts_as_of(date '2026-02-01')" in q]
    assert as_of["rows"]


def test_the_copy_keeps_its_comments_in_duckdb_1_5(sample_copy, duckdb_1_5):
    size, uncommented, marts_columns, views = duckdb_1_5.run(
        sample_copy,
        [
            "select database_name from pragma_database_size()",
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where schema_name in ('raw', 'staging', 'intermediate', 'marts', 'meta') and comment is null",
            "select count(*) from duckdb_columns() where schema_name = 'marts'",
            "select count(*) from duckdb_views() where schema_name = 'staging' and comment is not null",
        ],
    )
    assert size == {"rows": [["thesis"]]}
    assert uncommented == {"rows": []}
    assert marts_columns["rows"][0][0] > 0 and views["rows"][0][0] > 0


def test_publishing_writes_duckdb_1_4_storage_under_a_path_with_an_apostrophe(tmp_path, duckdb_1_5):
    data_dir = tmp_path / "the analyst's data"
    warehouse = data_dir / "warehouse.duckdb"
    with connect(warehouse) as con:
        con.execute("insert into raw.companies values ('ORCL', 1341439, 'Oracle Corp', '0531')")
        con.execute("create view staging.companies as select * from raw.companies")
        con.execute("comment on view staging.companies is 'The companies, as a view.'")
        con.execute(
            "insert into meta.runs (run_id, flow, mode, started_at, status) "
            "values ('r1', 'build', 'x', now(), 'running')"
        )
    target = data_dir / "published" / "versions" / "r1" / "thesis.duckdb"
    target.parent.mkdir(parents=True)
    # Whatever lies at the target is not opened: a WAL beside it would make the new copy fail to open.
    target.with_name("thesis.duckdb.wal").write_bytes(b"a log of another file")
    target.write_bytes(b"half a database")

    publish_analyst_copy(
        warehouse, target, RunEnd("r1", "succeeded", "it's done", dt.datetime(2026, 12, 1, 22, tzinfo=dt.UTC))
    )

    assert sorted(p.name for p in target.parent.iterdir()) == ["thesis.duckdb"]
    with duckdb.connect(str(target), read_only=True) as con:
        assert (
            con.execute(
                "select tags['storage_version'] from duckdb_databases() where database_name = 'thesis'"
            ).fetchone()[0]
            == "v1.4.0+"
        )
        # The copy shows how the run ended; the working database still says running until the switch.
        assert con.execute("select status, message from meta.runs").fetchall() == [("succeeded", "it's done")]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from meta.runs").fetchall() == [("running",)]
    assert duckdb_1_5.run(
        target,
        [
            "select ticker, cik, name from staging.companies",
            "select comment from duckdb_views() where view_name = 'companies'",
        ],
    ) == [{"rows": [["ORCL", 1341439, "Oracle Corp"]]}, {"rows": [["The companies, as a view."]]}]
