"""The whole pipeline on replayed folders: the real payloads, the sample, and damaged copies."""

import datetime as dt
import hashlib
import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipeline.daily import daily, replay_sources
from pipeline.runtime.errors import PayloadError, ValidationFailed
from pipeline.runtime.settings import SAMPLE_DIR
from tests.conftest import copied, summary_lines


def mart(settings, table="relative_performance"):
    """A published mart's rows: a file, or a folder of one file per year (and a `year` column)."""
    folder = settings.paths.parquet / table
    return pd.read_parquet(folder if folder.is_dir() else settings.paths.parquet / f"{table}.parquet")


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published(settings):
    """What readers see: every published file and its hash."""
    return {
        p.relative_to(settings.paths.published): digest(p) for p in settings.paths.published.rglob("*") if p.is_file()
    }


def test_real_prices_nvda_against_sox(real_run):
    settings, _ = real_run
    rows = mart(settings).set_index(["ticker", "date"])
    anchor, last = rows.loc[("NVDA", dt.date(2025, 8, 1))], rows.loc[("NVDA", dt.date(2026, 2, 27))]
    # From the CSVs: NVDA 173.4889 -> 176.9742; ^SOX 5527.6099 -> 8098.3701.
    assert anchor["adj_close"] == pytest.approx(173.49, abs=0.005)
    assert last["adj_close"] == pytest.approx(176.97, abs=0.005)
    assert anchor["benchmark_adj_close"] == pytest.approx(5527.61, abs=0.005)
    assert last["benchmark_adj_close"] == pytest.approx(8098.37, abs=0.005)
    assert anchor["rebased"] == 100 and anchor["benchmark_rebased"] == 100
    assert last["rebased"] - 100 == pytest.approx(2.0, abs=0.05)
    assert last["benchmark_rebased"] - 100 == pytest.approx(46.5, abs=0.05)
    assert last["excess_return_since_anchor"] == pytest.approx(176.97 / 173.49 - 8098.37 / 5527.61, abs=1e-4)
    assert last["excess_return_since_anchor"] == pytest.approx(-0.445, abs=0.001)
    # ^SOX ends 2026-03-06, so the pairs do too; SMH and SOXX are not configured and are skipped.
    assert rows.index.get_level_values("date").max() == dt.date(2026, 3, 6)
    assert set(rows.index.get_level_values("ticker")) == {"NVDA", "ORCL"}


def test_manifest_describes_the_parquet(sample_run):
    settings, result = sample_run
    manifest = json.loads((settings.paths.parquet / "manifest.json").read_text())
    entry = manifest["tables"]["relative_performance"]
    assert manifest["run_id"] == result.run_id
    assert entry["rows"] == len(mart(settings)) == 2 * 294  # NVDA and ORCL on the sample's 294 sessions
    assert [c["name"] for c in entry["schema"]][:3] == ["date", "ticker", "benchmark"]
    assert all(c["description"] for c in entry["schema"])


@pytest.fixture
def sampled(settings, sample_run):
    """`settings`, its data directory a copy of the sample run (tests/conftest.py): a good state."""
    copied(sample_run[0].data_dir, settings.data_dir)
    return settings


@pytest.mark.slow  # three whole runs
def test_sample_twice_and_rebuilt_from_scratch_give_identical_marts(settings):
    sample = replay_sources(SAMPLE_DIR, mode="sample")
    first_run = daily(settings, *sample).run_id
    first = mart(settings)
    # Nothing new: that run would publish nothing; --full builds and scores again.
    second_run = daily(settings.replace(full_build=True), *sample).run_id
    pd.testing.assert_frame_equal(first, mart(settings))
    # The scorecard keeps every run's rows; apart from run_id the two runs scored alike.
    scores = mart(settings, "thesis_scorecard")
    runs = [
        scores[scores["run_id"] == run].drop(columns="run_id").reset_index(drop=True) for run in (first_run, second_run)
    ]
    assert len(runs[0]) == 8
    pd.testing.assert_frame_equal(*runs)
    settings.paths.warehouse.unlink()
    settings.paths.analyst_copy.unlink()
    daily(settings, *sample)
    pd.testing.assert_frame_equal(first, mart(settings))


def damaged_sample(tmp_path, damage):
    copy = tmp_path / "damaged"
    shutil.copytree(SAMPLE_DIR / "prices", copy / "prices")
    target = next((copy / "prices").glob("NVDA.*.parquet"))
    frame = pd.read_parquet(target)
    damage(frame).to_parquet(target)
    return copy


def high_below_low(frame):
    frame.loc[frame.index[100], "High"] = frame["Low"].iloc[100] - 1
    return frame


def duplicated_date(frame):
    return pd.concat([frame, frame.iloc[[50]]])


def null_close(frame):
    frame.loc[frame.index[20], "Close"] = None
    return frame


@pytest.mark.parametrize(
    "damage, reason",
    [
        (duplicated_date, r"one bar per \(ticker, date\) failed on 2 rows: NVDA 2025-03-18, NVDA 2025-03-18"),
        (null_close, r"failed: close is not null failed on 1 row: NVDA 2025-02-03;"),
    ],
)
def test_bad_batch_fails_and_changes_nothing_published(sampled, tmp_path, damage, reason):
    settings = sampled
    before = published(settings)
    with pytest.raises(ValidationFailed, match=reason) as failure:
        daily(settings, *replay_sources(damaged_sample(tmp_path, damage)))
    assert failure.value.report_path.exists()
    assert published(settings) == before
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        status, message = con.execute(
            "select status, message from meta.runs order by started_at desc limit 1"
        ).fetchone()
        assert status == "failed" and "validation of raw_prices failed" in message
        assert con.execute("select count(distinct payload_sha256) from raw.prices").fetchone()[0] == 3
    daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))  # the next good run completes


@pytest.mark.slow
def test_a_high_below_its_low_loads_flagged(settings, tmp_path):
    # The sample's NVDA bar of 2025-05-29 (its 101st), its high put 1 below its low: three warnings.
    result = daily(settings, *replay_sources(damaged_sample(tmp_path, high_below_low)))
    assert result.prices.rows == 3 * 294
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        flagged = con.execute("select ticker, date::varchar, flags from raw.prices where flags is not null").fetchall()
        assert flagged == [("NVDA", "2025-05-29", "low <= high; open <= high; close <= high")]
        [summary] = con.execute("select summary from meta.validations where suite = 'raw_prices'").fetchone()
    assert summary == (
        "all critical expectations passed; warning: low <= high flagged on 1 row: NVDA 2025-05-29; "
        "warning: open <= high flagged on 1 row: NVDA 2025-05-29; "
        "warning: close <= high flagged on 1 row: NVDA 2025-05-29"
    )


def test_a_folder_with_neither_prices_nor_sec_is_named(settings, tmp_path):
    with pytest.raises(PayloadError, match=r"has neither a prices/ nor a sec/ folder to replay$"):
        daily(settings, *replay_sources(tmp_path))


def test_a_folder_with_only_sec_replays_the_filings_and_says_it_skipped_prices(sampled, tmp_path, caplog):
    settings = sampled
    shutil.copytree(SAMPLE_DIR / "sec", tmp_path / "sec-only" / "sec")
    with caplog.at_level("INFO", logger="pipeline"):
        result = daily(settings, *replay_sources(tmp_path / "sec-only"))
    assert (result.prices.rows, result.filings.payloads) == (0, 0)  # the sample's SEC payloads were loaded
    assert [r.getMessage() for r in caplog.records if "prices skipped" in r.getMessage()] == [
        f"{tmp_path / 'sec-only'} has no prices/ folder: prices skipped, SEC filings only"
    ]
    assert len(mart(settings)) == 2 * 294  # built and published again, on the prices stored before


@pytest.mark.slow
def test_a_folder_with_only_prices_replays_them_and_says_it_skipped_sec(settings, tmp_path):
    shutil.copytree(SAMPLE_DIR / "prices", tmp_path / "prices-only" / "prices")
    result = daily(settings, *replay_sources(tmp_path / "prices-only"))
    assert (result.prices.rows, result.filings.facts) == (3 * 294, 0)
    assert result.filings.notes == (f"{tmp_path / 'prices-only'} has no sec/ folder: no SEC filings to replay",)


@pytest.mark.slow
def test_analyst_copy_held_open_by_another_process_does_not_block_a_run(sampled):
    import subprocess
    import sys

    settings = sampled
    # An analyst's session: read-write, as the DuckDB CLI opens by default, held for the run.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "print(con.execute('select count(*) from marts.relative_performance').fetchone()[0], flush=True); "
            "sys.stdin.read(); print(con.execute('select count(*) from marts.relative_performance').fetchone()[0])",
            str(settings.paths.analyst_copy),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "588"
        # --full: with nothing new, a run would publish nothing to copy.
        result = daily(settings.replace(full_build=True), *replay_sources(SAMPLE_DIR, mode="sample"))
        out, _ = holder.communicate("", timeout=60)
    finally:
        holder.kill()
    assert out.strip() == "588"  # the reader kept its snapshot
    with duckdb.connect(str(settings.paths.analyst_copy), read_only=True) as con:
        assert con.execute("select run_id, status from meta.runs order by started_at desc limit 1").fetchone() == (
            result.run_id,
            "succeeded",
        )


@pytest.mark.slow
def test_an_sec_only_replay_into_a_fresh_warehouse_builds_the_sec_marts(tmp_path, capsys):
    """No price was ever loaded: the typo check has nothing to match, the SEC marts build and
    publish, and the summary says why marts.relative_performance is empty."""
    from cli.main import main

    shutil.copytree(SAMPLE_DIR / "sec", tmp_path / "sec-only" / "sec")
    data_dir = tmp_path / "var"
    capsys.readouterr()
    assert main(["run", "--from", str(tmp_path / "sec-only"), "--data-dir", str(data_dir)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = summary_lines(out)
    assert lines[1].endswith(" succeeded.")
    [performance] = [line for line in lines if line.startswith("  marts.relative_performance")]
    assert performance.split() == ["marts.relative_performance", "0", "rows", "(no", "prices", "loaded", "yet)"]
    assert "Prices stored:" in lines and lines[lines.index("Prices stored:") + 1] == "  none yet"
    parquet = data_dir / "published" / "current" / "parquet"
    leverage = pd.read_parquet(parquet / "leverage.parquet")
    # The sample's NVIDIA-like and Oracle-like filers report debt and equity (sample/generate_sec.py).
    assert {"NVDA", "ORCL"} <= set(leverage["ticker"])
    # No year has rows: the manifest lists no file of it.
    manifest = json.loads((parquet / "manifest.json").read_text())["tables"]["relative_performance"]
    assert (manifest["rows"], manifest["files"]) == (0, [])


def test_a_misspelled_benchmark_still_fails_the_build_when_the_tickers_have_prices(settings):
    """The sample replayed into a fresh warehouse with ^SOXX for ^SOX: NVDA and ORCL load their
    294 sessions, the benchmark none, and the build refuses to publish a mart without them."""
    from pipeline.build.run import IncompleteMart

    settings = settings.replace(benchmark="^SOXX")
    with pytest.raises(IncompleteMart) as refused:
        daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))
    assert str(refused.value) == (
        "marts.relative_performance would have no rows for NVDA, ORCL: bars stored for NVDA 294 against ^SOXX 0, "
        "ORCL 294 against ^SOXX 0; check --tickers and --benchmark (THESIS_TICKERS, THESIS_TICKERS_FILE, "
        "THESIS_BENCHMARK)"
    )
    assert not settings.paths.published.exists()
