"""Incremental builds: new sessions and one changed company derive only their rows, and the marts
equal a full rebuild's (`thesis build --full`) exactly."""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipeline.build.run import build
from pipeline.daily import daily, replay_sources
from pipeline.ingest.filings import ingest_filings
from pipeline.ingest.prices import ingest_prices
from pipeline.runtime.settings import SAMPLE_DIR
from pipeline.sources.filings import ReplaySecFilings
from pipeline.sources.prices import ReplayPrices

TABLES = ("marts.relative_performance", "marts.leverage", "marts.capex_slope", "intermediate.metric_quarters")
ORACLE = 1341439
CUT = pd.Timestamp("2026-02-27")  # the first load ends here; the sample goes on to 2026-03-06


def price_csvs(folder, keep) -> None:
    """The sample's bars where `keep(date)`, as yfinance CSV exports named for their tickers."""
    folder.mkdir(parents=True)
    for path in (SAMPLE_DIR / "prices").glob("*.parquet"):
        frame = pd.read_parquet(path)
        days = frame.index.tz_localize(None).normalize()
        frame = frame[keep(days)]
        frame.index = days[keep(days)].strftime("%Y-%m-%d").rename("Date")
        frame.to_csv(folder / f"{path.name.split('.')[0]}.csv")


def marts(settings) -> dict[str, list[tuple]]:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return {table: con.sql(f"select * from {table} order by all").fetchall() for table in TABLES}


def last_build(settings) -> tuple:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(
            "select full_build, changed_tickers, changed_ciks from meta.builds order by built_at desc limit 1"
        ).fetchone()


@pytest.fixture
def loaded_to_the_cut(settings, tmp_path):
    """The sample loaded and built up to CUT: prices to that day, and the SEC payloads."""
    first = tmp_path / "first"
    price_csvs(first / "prices", lambda days: days <= CUT)
    shutil.copytree(SAMPLE_DIR / "sec", first / "sec")
    daily(settings, *replay_sources(first))
    assert last_build(settings)[0] is True  # the first build is a full one
    return settings


@pytest.mark.slow  # a load to the cut, then a full build to compare
def test_new_sessions_derive_from_the_first_changed_one_and_equal_a_full_build(loaded_to_the_cut, tmp_path):
    settings = loaded_to_the_cut
    # What a daily fetch brings: the lookback's sessions again, and the new ones.
    price_csvs(tmp_path / "later" / "prices", lambda days: days > CUT - pd.Timedelta(days=10))
    ingest_prices(settings, ReplayPrices(tmp_path / "later"))
    build(settings)
    assert last_build(settings) == (False, 3, 0)  # NVDA, ORCL and ^SOX; no company
    incremental = marts(settings)
    rows = {r[1] for r in incremental["marts.relative_performance"] if str(r[0]) == "2026-03-06"}
    assert rows == {"NVDA", "ORCL"}

    build(settings.replace(full_build=True))
    assert last_build(settings)[0] is True
    assert marts(settings) == incremental


@pytest.mark.slow  # a load to the cut, then a full build to compare
def test_one_changed_company_derives_only_its_quarters(loaded_to_the_cut, tmp_path):
    settings = loaded_to_the_cut
    sec = tmp_path / "restated" / "sec" / "companyfacts"
    sec.mkdir(parents=True)
    source = SAMPLE_DIR / "sec" / "companyfacts" / f"CIK{ORACLE:010d}.json"
    payload = json.loads(source.read_text())
    # A 10-Q/A restating Oracle's latest quarter-end equity 1 billion higher, filed after the first load.
    equity = payload["facts"]["us-gaap"]["StockholdersEquity"]["units"]["USD"]
    latest = max(equity, key=lambda f: (f["end"], f["filed"]))
    equity.append(
        {**latest, "val": latest["val"] + 1e9, "accn": "0001341439-26-999999", "form": "10-Q/A", "filed": "2026-03-05"}
    )
    (sec / source.name).write_text(json.dumps(payload))
    ingest_filings(settings, ReplaySecFilings(tmp_path / "restated"))
    build(settings)
    assert last_build(settings) == (False, 0, 1)
    incremental = marts(settings)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        equity_now = con.execute(
            "select stockholders_equity from marts.leverage where cik = ? and period_end = ?",
            [ORACLE, latest["end"]],
        ).fetchone()[0]
    assert equity_now == latest["val"] + 1e9

    build(settings.replace(full_build=True))
    assert marts(settings) == incremental
