"""Incremental builds: new sessions and one changed company derive only their rows, and the marts
equal a full rebuild's (`thesis build --full`) exactly."""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipeline.build.run import build, transform_and_validate
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


# A generated multi-year universe: two benchmarks, tickers at new highs and in drawdowns, one listed
# after the anchor (fewer than 252 sessions before each increment), and one whose benchmark lags it.
UNIVERSE = {"AAA": "^IDX", "BBB": "^IDX", "LATE": "^IDX", "LAGS": "^IDX2"}
ANCHOR = "2022-01-03"
LISTED = "2023-05-01"  # LATE's first bar
FIRST_LOAD_TO = "2024-03-01"


def load_bars(settings, where: str, bump: float = 1.0, tickers: tuple[str, ...] = (*UNIVERSE, "^IDX", "^IDX2")) -> None:
    """Bars of `tickers` (random walks, every weekday from 2021) where `where` holds for (ticker,
    date), loaded now; an existing bar is replaced, as a revised bar is. `bump` scales adj_close: a
    correction."""
    from warehouse.connection import connect

    with connect(settings.paths.warehouse) as con:
        con.execute(
            f"""
            insert or replace into raw.prices by name
            select ticker, date, adj_close as open, adj_close as high, adj_close as low, adj_close as close,
                   adj_close * $bump as adj_close, 1000 as volume, false as close_is_adjusted,
                   'generated' as payload_sha256, 'generated' as run_id, now() as loaded_at
            from (
                select ticker, date,
                       round(50 * exp(sum(0.04 * (hash(ticker, date) % 1000 / 1000.0 - 0.5))
                           over (partition by ticker order by date)), 4) as adj_close
                from (select unnest($tickers) as ticker),
                     (select d::date as date from range(date '2021-01-04', date '2024-07-01', interval 1 day) t(d)
                      where dayofweek(d) between 1 and 5)
                where ticker <> 'LATE' or date >= date '{LISTED}'
            )
            where {where}
            """,
            {"tickers": list(tickers), "bump": bump},
        )


@pytest.fixture
def universe(settings, tmp_path):
    tickers = tmp_path / "tickers.csv"
    tickers.write_text("ticker,benchmark\n" + "".join(f"{t},{b}\n" for t, b in UNIVERSE.items()))
    settings = settings.replace(tickers_file=tickers, benchmark="^IDX", anchor_date=ANCHOR)
    # LAGS's bar of the next session is already loaded; its benchmark's comes in a later load.
    load_bars(settings, f"date <= date '{FIRST_LOAD_TO}' or (ticker = 'LAGS' and date = date '2024-03-04')")
    transform_and_validate(settings, "20990101T000000Z-first")
    return settings


def full_rebuild_equals_the_increment(settings, tmp_path, run_id: str) -> int:
    """Rebuilds a copy of the warehouse in full and compares its relative_performance with the
    increment's, bit for bit both ways; returns the rows compared."""
    copy = settings.replace(data_dir=tmp_path / run_id, full_build=True)
    copy.paths.warehouse.parent.mkdir(parents=True)
    shutil.copy(settings.paths.warehouse, copy.paths.warehouse)
    transform_and_validate(copy, f"{run_id}-full")
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        con.execute(f"attach '{copy.paths.warehouse}' as rebuilt (read_only)")
        mart, full = "marts.relative_performance", "rebuilt.marts.relative_performance"
        assert con.sql(f"select * from {mart} except all select * from {full}").fetchall() == []
        assert con.sql(f"select * from {full} except all select * from {mart}").fetchall() == []
        describe = "select column_name, data_type from duckdb_columns() where table_name = 'relative_performance'"
        assert (
            con.sql(f"{describe} and database_name = 'rebuilt' order by column_index").fetchall()
            == con.sql(f"{describe} and database_name <> 'rebuilt' order by column_index").fetchall()
        )
        [[rows]] = con.execute(f"select count(*) from {mart}").fetchall()
        return rows


@pytest.mark.slow
def test_increments_of_a_multi_year_universe_equal_full_builds_bit_for_bit(universe, tmp_path):
    settings = universe
    before = full_rebuild_equals_the_increment(settings, tmp_path, "first")

    # The next session for every ticker (LAGS's benchmark included): one new row each.
    load_bars(settings, "date = date '2024-03-04' and ticker <> 'LAGS'")
    transform_and_validate(settings, "20990102T000000Z-day")
    assert last_build(settings)[0] is False
    assert full_rebuild_equals_the_increment(settings, tmp_path, "day") == before + 4

    # A week of sessions, BBB's second one a new high (three times its close), then a bar of 2022
    # corrected: every row of AAA from it on is derived again.
    load_bars(settings, "date between date '2024-03-05' and date '2024-03-11'")
    load_bars(settings, "ticker = 'BBB' and date = date '2024-03-06'", bump=3.0)
    transform_and_validate(settings, "20990103T000000Z-week")
    assert full_rebuild_equals_the_increment(settings, tmp_path, "week") == before + 4 + 4 * 5
    rows = (
        "select date, adj_close, return_21d, drawdown from marts.relative_performance "
        "where ticker = ? and list_contains(?::date[], date)"
    )
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        [(_, high, _, at_high), (_, next_close, _, next_drawdown)] = con.execute(
            f"{rows} order by date", ["BBB", ["2024-03-06", "2024-03-07"]]
        ).fetchall()
        [(_, _, return_21d, _)] = con.execute(rows, ["AAA", ["2022-06-30"]]).fetchall()
    assert at_high == 0 and next_drawdown == pytest.approx(next_close / high - 1, rel=1e-12)

    load_bars(settings, "ticker = 'AAA' and date = date '2022-06-01'", bump=1.5)
    transform_and_validate(settings, "20990104T000000Z-fix")
    assert last_build(settings) == (False, 1, 0)
    full_rebuild_equals_the_increment(settings, tmp_path, "fix")
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        [(_, _, corrected_21d, _)] = con.execute(rows, ["AAA", ["2022-06-30"]]).fetchall()
    # 2022-06-30 is 21 sessions after 2022-06-01: its 21-day return is measured from the corrected bar.
    assert 1 + corrected_21d == pytest.approx((1 + return_21d) / 1.5, rel=1e-12)


@pytest.mark.slow
def test_a_session_added_to_twenty_tickers_leaves_a_full_build_s_earlier_betas_bit_for_bit(settings, tmp_path):
    """DuckDB's own sliding aggregates (regr_slope, corr) round as its window operator lays out the
    rows of all the tickers: with twenty, one more session each changed the last bits of earlier
    sessions' betas in a full rebuild, which an increment then could not equal. The mart's sums of
    integers do not depend on the layout."""
    names = tuple(f"T{i:02d}" for i in range(20))
    tickers = tmp_path / "tickers.csv"
    tickers.write_text("ticker,benchmark\n" + "".join(f"{t},^IDX\n" for t in names))
    settings = settings.replace(tickers_file=tickers, benchmark="^IDX", anchor_date=ANCHOR)
    load_bars(settings, "date <= date '2024-06-27'", tickers=(*names, "^IDX"))
    transform_and_validate(settings, "20990101T000000Z-first")
    load_bars(settings, "date = date '2024-06-28'", tickers=(*names, "^IDX"))
    transform_and_validate(settings, "20990102T000000Z-day")
    assert last_build(settings)[0] is False
    # 20 tickers x 910 weekdays from 2021-01-04 to 2024-06-28, each paired with the index.
    assert full_rebuild_equals_the_increment(settings, tmp_path, "day") == 20 * 910
