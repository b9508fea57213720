"""The transform runner: order from references, and documentation on every column."""

import duckdb
import pytest

from transforms import runner


def test_run_order_follows_references():
    order = [m.relation for m in runner.run_order(runner.discover())]
    assert order.index("staging.prices") < order.index("marts.relative_performance")


def test_a_model_without_column_docs_is_refused(tmp_path):
    (tmp_path / "staging").mkdir()
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "thing.sql").write_text("select 1 as a, 2 as b")
    (tmp_path / "marts" / "thing.yml").write_text("description: A thing.\ncolumns:\n  a: The a.\n")
    with duckdb.connect() as con, pytest.raises(runner.ModelError, match=r"marts.thing: undocumented columns \['b'\]"):
        con.execute("create schema marts")
        runner.build(con, {}, root=tmp_path)


def test_every_published_table_and_column_has_a_comment(sample_run):
    settings, _ = sample_run
    with duckdb.connect(str(settings.analyst_db_path), read_only=True) as con:
        missing_tables = con.execute("""
            select schema_name || '.' || table_name from duckdb_tables()
            where schema_name in ('raw', 'staging', 'marts', 'meta') and comment is null
            union all
            select schema_name || '.' || view_name from duckdb_views()
            where schema_name in ('staging', 'marts') and comment is null""").fetchall()
        missing_columns = con.execute("""
            select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()
            where schema_name in ('raw', 'staging', 'marts', 'meta') and comment is null""").fetchall()
    assert missing_tables == [] and missing_columns == []
