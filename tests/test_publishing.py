"""Publishing only what changed: parquet partitioned by year with the unchanged files hard-linked
from the current version, the analyst copy cloned where the filesystem can, and a run with
nothing new that builds and publishes nothing."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.build.standing import inputs_of, replayed_before
from pipeline.daily import daily, replay_sources
from pipeline.runtime import run_lock
from pipeline.runtime.settings import SAMPLE_DIR
from tests.ledger import ledger_known_on
from transforms import runner
from warehouse import publish
from warehouse.files import sha256_file

# The sample's 294 sessions: 250 in 2025 (the NYSE's count for the year) and 44 in 2026 up to
# 2026-03-06 (20 in January, 19 in February, 5 in March); two tickers measured against ^SOX.
ROWS_2025, ROWS_2026 = 2 * 250, 2 * 44


def stats(folder):
    """Every file under `folder`: its inode, size and mtime, by path."""
    return {
        p.relative_to(folder): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def on(settings, tmp_path, at):
    """`settings` with the clock at `at` (aware), and the guidance ledger as it was known then."""
    ledger = ledger_known_on(f"{at:%Y-%m-%d}", tmp_path / f"ledger-{at:%Y%m%d}.csv")
    return settings.replace(today=at, guidance_ledger=ledger)


def tables(warehouse):
    """Every table of a DuckDB file: its row count and a digest of its rows, by (schema, table)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute("select schema_name, table_name from duckdb_tables() where not internal").fetchall()
        return {
            (schema, table): con.execute(f'select count(*), bit_xor(hash(t)) from "{schema}"."{table}" as t').fetchone()
            for schema, table in names
        }


def sample_until(tmp_path, last):
    """The sample's prices and SEC payloads, the prices cut after `last`."""
    folder = tmp_path / f"until-{last}"
    shutil.copytree(SAMPLE_DIR / "prices", folder / "prices")
    shutil.copytree(SAMPLE_DIR / "sec", folder / "sec")
    for path in (folder / "prices").glob("*.parquet"):
        frame = pd.read_parquet(path)
        frame[frame.index.tz_localize(None) <= pd.Timestamp(last)].to_parquet(path)
    return folder


def test_relative_performance_is_one_parquet_per_year_listed_in_the_manifest(sample_run):
    settings, _ = sample_run
    manifest = json.loads((settings.paths.parquet / "manifest.json").read_text())
    entry = manifest["tables"]["relative_performance"]
    assert entry["partition_by"] == {"year": "date"}
    assert [(f["file"], f["rows"]) for f in entry["files"]] == [
        ("relative_performance/year=2025/data.parquet", ROWS_2025),
        ("relative_performance/year=2026/data.parquet", ROWS_2026),
    ]
    assert entry["rows"] == ROWS_2025 + ROWS_2026
    for listed in entry["files"]:
        assert sha256_file(settings.paths.parquet / listed["file"]) == listed["sha256"]
    # The marts that do not grow with time stay one file each.
    assert [f["file"] for f in manifest["tables"]["leverage"]["files"]] == ["leverage.parquet"]
    with duckdb.connect() as con:
        years = con.execute(
            "select year, count(*), min(date)::varchar, max(date)::varchar "
            "from read_parquet(?, hive_partitioning = true) group by year order by year",
            [str(settings.paths.parquet / "relative_performance" / "*" / "*.parquet")],
        ).fetchall()
    assert years == [(2025, ROWS_2025, "2025-01-02", "2025-12-31"), (2026, ROWS_2026, "2026-01-02", "2026-03-06")]


@pytest.mark.slow
def test_an_increment_rewrites_the_partitions_it_changed_and_links_the_others(settings, tmp_path):
    settings = on(settings, tmp_path, dt.datetime(2026, 3, 9, 22, tzinfo=dt.UTC))
    first = daily(settings, *replay_sources(sample_until(tmp_path, "2026-02-27"))).run_id
    second = daily(settings, *replay_sources(SAMPLE_DIR, mode="sample")).run_id
    old, new = (settings.paths.version(run) / "parquet" for run in (first, second))
    year = "relative_performance/year={}/data.parquet"
    # 2025's rows are the same: the new version's file is the old one's inode, not a copy.
    assert (new / year.format(2025)).stat().st_ino == (old / year.format(2025)).stat().st_ino
    # The first week of March 2026 arrived: 2026's file is new, with its 5 more sessions.
    assert (new / year.format(2026)).stat().st_ino != (old / year.format(2026)).stat().st_ino
    assert len(pd.read_parquet(old / year.format(2026))) == ROWS_2026 - 2 * 5
    assert len(pd.read_parquet(new / year.format(2026))) == ROWS_2026
    # The SEC marts did not change either; the scorecard has this run's rows.
    assert (new / "leverage.parquet").stat().st_ino == (old / "leverage.parquet").stat().st_ino
    assert (new / "thesis_scorecard.parquet").stat().st_ino != (old / "thesis_scorecard.parquet").stat().st_ino


@pytest.mark.slow
def test_a_second_replay_of_the_same_folder_is_nothing_new(tmp_path, monkeypatch, capsys):
    # One clock for both runs: the same session and day.
    monkeypatch.setenv("THESIS_TODAY", "2026-03-09")
    monkeypatch.setenv("THESIS_GUIDANCE_LEDGER", str(ledger_known_on("2026-03-09", tmp_path / "ledger.csv")))
    data_dir = tmp_path / "var"
    assert main(["run", "--sample", "--data-dir", str(data_dir)]) == 0
    published = data_dir / "sample" / "published"
    first = os.readlink(published / "current")
    before = stats(published)
    stored = tables(data_dir / "sample" / "warehouse.duckdb")
    # Every file but the log, which gets the run's line.
    working = {path: stat for path, stat in stats(data_dir / "sample").items() if path.parts[0] != "logs"}
    capsys.readouterr()
    assert main(["run", "--sample", "--data-dir", str(data_dir)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # After the lines of its steps (cli/progress.py), one line.
    assert (
        out.splitlines()[-1] == f"nothing new since run {first.removeprefix('versions/')}: its published version stands"
    )
    # Not a file of the published folder was written again, and no version was added.
    assert stats(published) == before
    assert os.readlink(published / "current") == first
    # Nor the working database: the run knew from the folder's bytes that run had loaded them.
    assert tables(data_dir / "sample" / "warehouse.duckdb") == stored
    assert stats(data_dir / "sample") == {**stats(data_dir / "sample"), **working}
    assert main(["status", "--sample", "--data-dir", str(data_dir)]) == 0
    status = capsys.readouterr().out.splitlines()
    assert status[1] == f"Published: {first.removeprefix('versions/')} ({published / 'current'})"

    assert "nothing new since run" in (data_dir / "sample" / "logs" / "thesis.log").read_text().splitlines()[-1]


@pytest.mark.slow
def test_a_replay_of_bytes_loaded_before_imports_neither_pandas_nor_great_expectations(tmp_path):
    env = {**os.environ, "THESIS_TODAY": "2026-03-09", "THESIS_DATA_DIR": str(tmp_path / "var")}
    env["THESIS_GUIDANCE_LEDGER"] = str(ledger_known_on("2026-03-09", tmp_path / "ledger.csv"))
    folder = tmp_path / "replay"
    shutil.copytree(SAMPLE_DIR / "prices", folder / "prices")
    shutil.copytree(SAMPLE_DIR / "sec", folder / "sec")
    child = (
        "import sys; from cli.main import main; code = main(sys.argv[1:]); "
        "print(code, *(name in sys.modules for name in ('pandas', 'great_expectations')))"
    )
    run = [sys.executable, "-c", child, "run", "--from", str(folder)]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.splitlines()[-1] == "0 True True"
    again = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert again.stdout.splitlines()[-2:] == [again.stdout.splitlines()[-2], "0 False False"]
    assert again.stdout.splitlines()[-2].startswith("nothing new since run ")
    # A file added to the folder is new bytes: the run reads the folder (and finds nothing to load).
    (folder / "sec" / "notes.txt").write_text("received by hand\n")
    added = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert added.stdout.splitlines()[-1] == "0 True True"
    with duckdb.connect(str(tmp_path / "var" / "warehouse.duckdb"), read_only=True) as con:
        runs = con.execute("select flow, status, inputs is not null from meta.runs where flow = 'daily'").fetchall()
    assert runs == [("daily", "succeeded", True), ("daily", "succeeded", True)]


@pytest.mark.slow
def test_a_replay_stands_for_the_same_bytes_only_with_no_run_holding_the_lock_or_killed_on_the_way(settings, tmp_path):
    settings = on(settings, tmp_path, dt.datetime(2026, 3, 9, 22, tzinfo=dt.UTC))
    first = daily(settings, *replay_sources(SAMPLE_DIR, mode="sample")).run_id
    inputs = inputs_of(SAMPLE_DIR, bulk=False)
    assert replayed_before(settings, inputs) == f"nothing new since run {first}: its published version stands"
    # While a run holds the lock, what it will have loaded is not known: the replay asks for the lock.
    with run_lock.held(settings, "build"):
        assert replayed_before(settings, inputs) is None
    # Nor while a killed run's row says `running`: the replay takes the long way, which marks it.
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(
            "insert into meta.runs (run_id, flow, mode, started_at, status) "
            "values ('killed', 'build', 'x', now(), 'running')"
        )
    assert replayed_before(settings, inputs) is None
    assert daily(settings, *replay_sources(SAMPLE_DIR, mode="sample")).build is None
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select status from meta.runs where run_id = 'killed'").fetchall() == [("abandoned",)]
    assert replayed_before(settings, inputs) == f"nothing new since run {first}: its published version stands"
    # Another folder's bytes, or the bulk archives of the same folder, are not what that run loaded.
    assert replayed_before(settings, inputs_of(tmp_path, bulk=False)) is None
    assert replayed_before(settings, inputs_of(SAMPLE_DIR, bulk=True)) is None


@pytest.mark.slow
def test_a_day_later_with_nothing_new_builds_again_for_freshness(settings, tmp_path):
    # Monday 9 March 2026, then Tuesday the 10th: the last session moves, so do the claims' ages.
    monday = on(settings, tmp_path, dt.datetime(2026, 3, 9, 22, tzinfo=dt.UTC))
    first = daily(monday, *replay_sources(SAMPLE_DIR, mode="sample"))
    assert daily(monday, *replay_sources(SAMPLE_DIR, mode="sample")).build is None
    tuesday = daily(monday.replace(today=dt.datetime(2026, 3, 10, 22, tzinfo=dt.UTC)), *replay_sources(SAMPLE_DIR))
    assert tuesday.build is not None
    assert os.readlink(settings.paths.published / "current") == f"versions/{tuesday.run_id}"
    assert first.run_id < tuesday.run_id


@pytest.mark.slow
def test_a_changed_claim_is_not_nothing_new(settings, tmp_path):
    settings = on(settings, tmp_path, dt.datetime(2026, 3, 9, 22, tzinfo=dt.UTC))
    daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))
    claims = tmp_path / "claims.yml"
    claims.write_text(settings.claims.read_text() + "\n# reviewed\n")
    assert daily(settings.replace(claims=claims), *replay_sources(SAMPLE_DIR, mode="sample")).build is not None


def test_clone_copies_the_bytes_where_the_filesystem_has_no_reflink(tmp_path, monkeypatch):
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    source.write_bytes(bytes(range(256)) * 4096)

    def refused(*_):
        raise OSError(95, "Operation not supported")  # EOPNOTSUPP, as ext4 answers FICLONE

    monkeypatch.setattr(publish.fcntl, "ioctl", refused)
    assert publish.clone(source, target) is False
    assert target.read_bytes() == source.read_bytes()


def test_a_partition_must_be_a_year_or_month_of_a_documented_column():
    model = runner.Model(
        "marts", "m", "select 1", {"unique_key": ["d"], "columns": {"d": "day"}, "partition_by": {"week": "d"}}
    )
    with pytest.raises(runner.ModelError, match="partition_by takes one of year, month"):
        runner.contract(model)
    model = runner.Model(
        "marts", "m", "select 1", {"unique_key": ["d"], "columns": {"d": "day"}, "partition_by": {"year": "e"}}
    )
    with pytest.raises(runner.ModelError, match=r"tests columns it does not document: \['e'\]"):
        runner.contract(model)
    assert runner.partitions() == {"relative_performance": ("year", "date")}
