"""The transform runner: order from references, and documentation on every column."""

import shutil

import duckdb
import pandas as pd
import pytest

from transforms import runner


def test_run_order_follows_references():
    order = [m.relation for m in runner.run_order(runner.discover())]
    assert order.index("staging.prices") < order.index("marts.relative_performance")


def test_a_model_without_column_docs_is_refused(tmp_path):
    (tmp_path / "staging").mkdir()
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "thing.sql").write_text("select 1 as a, 2 as b")
    (tmp_path / "marts" / "thing.yml").write_text("unique_key: [a]\ndescription: A thing.\ncolumns:\n  a: The a.\n")
    with duckdb.connect() as con, pytest.raises(runner.ModelError, match=r"marts.thing: undocumented columns \['b'\]"):
        con.execute("create schema marts")
        runner.build(con, {}, root=tmp_path)


def test_every_published_table_and_column_has_a_comment(sample_run):
    settings, _ = sample_run
    with duckdb.connect(str(settings.paths.analyst_copy), read_only=True) as con:
        missing_tables = con.execute("""
            select schema_name || '.' || table_name from duckdb_tables()
            where schema_name in ('raw', 'staging', 'intermediate', 'marts', 'meta') and comment is null
            union all
            select schema_name || '.' || view_name from duckdb_views()
            where schema_name in ('staging', 'intermediate', 'marts') and comment is null""").fetchall()
        missing_columns = con.execute("""
            select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()
            where schema_name in ('raw', 'staging', 'intermediate', 'marts', 'meta') and comment is null""").fetchall()
    assert missing_tables == [] and missing_columns == []


def transforms_with(tmp_path, monkeypatch, name: str, sql: str, yml: str) -> None:
    """The build reading a copy of transforms/ holding one more mart, `name`: its .sql and .yml alone."""
    root = tmp_path / "transforms"
    shutil.copytree(runner.ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "marts" / f"{name}.sql").write_text(sql)
    (root / "marts" / f"{name}.yml").write_text(yml)
    discover = runner.discover
    monkeypatch.setattr(runner, "discover", lambda _=runner.ROOT: discover(root))


SESSIONS_YML = """\
unique_key: [ticker]
tests:
  not_null: [ticker, sessions]
  accepted_range:
    sessions: {min: 1}
description: Sessions stored per ticker.
columns:
  ticker: The ticker.
  sessions: How many sessions of it are stored.
"""


@pytest.mark.slow  # a whole run
def test_a_mart_added_as_one_sql_and_one_yml_is_validated_on_its_grain_and_published(settings, tmp_path, monkeypatch):
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.settings import SAMPLE_DIR

    sql = "select ticker, count(*) as sessions from staging.prices group by ticker"
    transforms_with(tmp_path, monkeypatch, "sessions", sql, SESSIONS_YML)
    daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))

    published = pd.read_parquet(settings.paths.parquet / "sessions.parquet")
    tickers = sorted({path.name.split(".")[0] for path in (SAMPLE_DIR / "prices").glob("*.parquet")})
    assert published["ticker"].tolist() == tickers  # exported in the order of its grain
    assert (published["sessions"] > 0).all()
    with duckdb.connect(str(settings.paths.analyst_copy), read_only=True) as con:
        # One row per ticker, ticker and sessions not null, sessions >= 1: four expectations.
        assert con.execute("select success, evaluated from meta.validations where suite = 'sessions'").fetchall() == [
            (True, 4)
        ]


def test_a_mart_breaking_its_declared_grain_fails_the_build_naming_it(settings, tmp_path, monkeypatch):
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.errors import ValidationFailed
    from pipeline.runtime.settings import SAMPLE_DIR

    yml = SESSIONS_YML.replace("unique_key: [ticker]", "unique_key: [sessions]")
    sql = "select ticker, 1 as sessions from staging.prices group by ticker"
    transforms_with(tmp_path, monkeypatch, "sessions", sql, yml)
    tickers = {path.name.split(".")[0] for path in (SAMPLE_DIR / "prices").glob("*.parquet")}
    failed = rf"^validation of sessions failed: one row per sessions failed on {len(tickers)} rows: 1, 1"
    with pytest.raises(ValidationFailed, match=failed):
        daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))


def test_a_mart_without_a_grain_is_refused(tmp_path):
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "thing.sql").write_text("select 1 as a")
    (tmp_path / "marts" / "thing.yml").write_text("description: A thing.\ncolumns:\n  a: The a.\n")
    with pytest.raises(runner.ModelError, match=r"^thing.yml declares no unique_key"):
        runner.discover(tmp_path)


def test_a_mart_named_like_another_expectations_module_is_refused():
    from expectations.marts import mart_suite

    with pytest.raises(ValueError, match=r"^expectations/validate.py holds no expectations\(\) for the mart validate"):
        mart_suite("validate", ["a"])
