"""A live run on any day, through the recorded clients, under a clock set to that day.

Yahoo is played by frames of what it serves at that moment: a bar for every session up to the
clock's day, the day's own while its session is still open with the close so far. SEC is played
by the bundled sample's recorded bodies (filed up to 2026-03-04, before every day here).

The days, from the 2026 calendar (1 November 2026 is a Sunday; 1 September a Tuesday; 1 October
a Thursday; Easter is 5 April 2026):
- Saturday 2026-12-05: the last session is Friday 12-04.
- Good Friday 2026-04-03: the NYSE is closed, the last session is Thursday 04-02; EDGAR is open.
- Friday 2026-11-27, the day after Thanksgiving (the 26th): a half-day, closing at 13:00.
- Labor Day, Monday 2026-09-07: the NYSE and EDGAR are closed; the last session is Friday 09-04.
- Columbus Day, Monday 2026-10-12: an NYSE session, and EDGAR is closed.
- Tuesday 2026-12-01: an ordinary session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.daily import daily
from pipeline.runtime import trading_calendar
from pipeline.runtime.clock import NEW_YORK, moment
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.settings import SAMPLE_DIR, Settings
from pipeline.sources.filings import SecFilings
from pipeline.sources.prices import YahooPrices
from pipeline.sources.sec import RecordedSecClient
from pipeline.sources.yahoo import RecordedYahooClient
from tests.ledger import ledger_known_on

pytestmark = pytest.mark.slow  # each case is a whole run on its day

TICKERS = ("NVDA", "ORCL", "^SOX")
LEVEL = {"NVDA": 180.0, "ORCL": 200.0, "^SOX": 7000.0}
OPEN = dt.time(9, 30)


def final_close(ticker: str, day: dt.date) -> float:
    """A close for each day: a slow, steady climb (no jump a check would refuse)."""
    return LEVEL[ticker] * (1 + (day - dt.date(2024, 1, 1)).days / 10_000)


def yahoo_at(directory: Path, at: str) -> Path:
    """What Yahoo serves for each ticker at `at` (New York time when no offset): a bar for every
    session from 2024-07-01 to that day; the day's own while it trades, its close the price so far
    (one dollar under the final close)."""
    now = moment(at)
    today = now.astimezone(NEW_YORK).date()
    days = trading_calendar.sessions(dt.date(2024, 7, 1), today)
    if days and days[-1] == today and now < dt.datetime.combine(today, OPEN, NEW_YORK):
        days = days[:-1]  # before the open Yahoo has no bar for the day
    in_progress = bool(days) and days[-1] == today and now < trading_calendar.closes_at(today)
    directory.mkdir(parents=True, exist_ok=True)
    for ticker in TICKERS:
        closes = [final_close(ticker, d) for d in days]
        if in_progress:
            closes[-1] -= 1.0
        index = pd.DatetimeIndex([pd.Timestamp(d) for d in days], name="Date").tz_localize("America/New_York")
        frame = pd.DataFrame(
            {"Open": closes, "High": closes, "Low": closes, "Close": closes, "Adj Close": closes, "Volume": 1000},
            index=index,
        ).assign(Dividends=0.0, **{"Stock Splits": 0.0})
        frame.to_parquet(directory / f"{ticker}.parquet")
    return directory


def live_run(settings: Settings, at: str, yahoo: Path, sec: RecordedSecClient | None = None):
    """One daily run, live through the recorded clients, with the clock at `at`: its result, and the
    SEC URLs it asked for."""
    ledger = ledger_known_on(at[:10], yahoo / at.replace(":", "") / "capex_guidance.csv")
    timed = Settings(**{**dict(settings), "today": at, "guidance_ledger": ledger})
    sec = sec or RecordedSecClient(SAMPLE_DIR / "sec")
    result = daily(timed, YahooPrices(RecordedYahooClient(yahoo_at(yahoo / at.replace(":", ""), at))), SecFilings(sec))
    return result, sec.calls


def last_bars(settings: Settings) -> dict[str, dt.date]:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return dict(con.execute("select ticker, max(date) from raw.prices group by ticker").fetchall())


def message(settings: Settings, run_id: str) -> str:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute("select message from meta.runs where run_id = ?", [run_id]).fetchone()[0]


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "var", fetch_retries=0, retry_backoff_seconds=0.01, tickers=("NVDA", "ORCL"))


def test_on_a_saturday_a_live_run_into_an_empty_data_directory_loads_friday(settings, tmp_path):
    _, asked = live_run(settings, "2026-12-05", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 12, 4))
    assert asked  # EDGAR was never asked before: it is asked on any day
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        [(day, close)] = con.execute(
            "select date, adj_close from marts.relative_performance where ticker = 'NVDA' order by date desc limit 1"
        ).fetchall()
    assert (day, close) == (dt.date(2026, 12, 4), pytest.approx(final_close("NVDA", dt.date(2026, 12, 4))))


def test_on_an_ordinary_tuesday_after_the_close_the_day_s_bar_loads(settings, tmp_path):
    live_run(settings, "2026-12-01", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 12, 1))


def test_on_good_friday_prices_stop_on_thursday_and_edgar_is_asked_again(settings, tmp_path):
    _, asked_first = live_run(settings, "2026-04-03T09:00", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 4, 2))
    second, asked_second = live_run(settings, "2026-04-03T18:00", tmp_path / "yahoo")
    # No session since Thursday: nothing new from Yahoo. EDGAR was open all day: asked again.
    assert "the warehouse holds 2026-04-02, the last closed NYSE session, for every ticker" in message(
        settings, second.run_id
    )
    assert second.prices.rows == 0
    assert asked_first and asked_second == asked_first


def test_the_day_after_thanksgiving_the_bar_counts_only_after_the_13_00_close(settings, tmp_path):
    """At noon the half-day trades: Yahoo's bar for it is the price so far, left out as provisional.
    At 14:00 the session has closed (13:00) and settled (30 minutes): the final bar loads."""
    friday = dt.date(2026, 11, 27)
    noon, _ = live_run(settings, "2026-11-27T12:00", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 11, 25))  # Wednesday; Thursday was closed
    assert noon.prices.provisional == tuple(f"{t} 2026-11-27" for t in TICKERS)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.relative_performance where date = ?", [friday]).fetchone() == (
            0,
        )

    later, _ = live_run(settings, "2026-11-27T14:00", tmp_path / "yahoo")
    assert later.prices.provisional == ()
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        closes = dict(con.execute("select ticker, close from raw.prices where date = ?", [friday]).fetchall())
        [(mart_close,)] = con.execute(
            "select adj_close from marts.relative_performance where ticker = 'NVDA' and date = ?", [friday]
        ).fetchall()
    assert closes == {t: pytest.approx(final_close(t, friday)) for t in TICKERS}
    assert mart_close == pytest.approx(final_close("NVDA", friday))


def test_on_labor_day_neither_yahoo_nor_edgar_has_anything_new(settings, tmp_path):
    live_run(settings, "2026-09-05", tmp_path / "yahoo")  # the Saturday before
    monday, asked = live_run(settings, "2026-09-07T10:00", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 9, 4))
    assert asked == []
    said = message(settings, monday.run_id)
    assert "the warehouse holds 2026-09-04, the last closed NYSE session, for every ticker" in said
    assert "SEC: EDGAR has accepted no filing since the last live run (2026-09-05 21:00 UTC)" in said
    assert "it is closed today (Labor Day)" in said


def test_on_columbus_day_the_nyse_trades_and_edgar_is_closed(settings, tmp_path):
    live_run(settings, "2026-10-10", tmp_path / "yahoo")  # the Saturday before: Friday 10-09's bars
    monday, asked = live_run(settings, "2026-10-12", tmp_path / "yahoo")
    assert last_bars(settings) == dict.fromkeys(TICKERS, dt.date(2026, 10, 12))
    assert asked == []
    assert "it is closed today (Columbus Day)" in message(settings, monday.run_id)


def test_a_company_added_to_the_list_is_fetched_even_when_edgar_is_closed(settings, tmp_path):
    live_run(settings, "2026-09-05", tmp_path / "yahoo")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    companies = (SAMPLE_DIR.parent / "seeds" / "companies.csv").read_text()
    (seeds / "companies.csv").write_text(companies.replace("META,1326801", "NOTMETA,1326801"))
    (seeds / "concept_map.csv").write_text((SAMPLE_DIR.parent / "seeds" / "concept_map.csv").read_text())
    # The same CIKs under another ticker: EDGAR has nothing new, and each CIK was fetched.
    _, asked = live_run(settings.model_copy(update={"seeds_dir": seeds}), "2026-09-06", tmp_path / "yahoo")
    assert asked == []
    (seeds / "companies.csv").write_text(companies + "INTC,50863,Intel Corporation,1231\n")
    sec = RecordedSecClient(SAMPLE_DIR / "sec")
    with contextlib.suppress(PipelineError):  # the recorded answers lack Intel: SEC's 404
        live_run(settings.model_copy(update={"seeds_dir": seeds}), "2026-09-06T12:00", tmp_path / "yahoo", sec)
    assert "https://data.sec.gov/submissions/CIK0000050863.json" in sec.calls


def test_a_replay_of_the_noon_raw_zone_leaves_the_bar_out_whatever_the_clock(settings, tmp_path):
    """The noon payload says Wednesday 11-25 was the last final session when it came: replayed on
    the Saturday after, its Friday bar (the price so far) still stays out."""
    from pipeline.daily import replay_sources

    live_run(settings, "2026-11-27T12:00", tmp_path / "yahoo")
    replayed = Settings(data_dir=tmp_path / "replayed", today="2026-11-28", tickers=("NVDA", "ORCL"))
    result = daily(replayed, *replay_sources(settings.paths.raw))
    assert result.prices.provisional == tuple(f"{t} 2026-11-27" for t in TICKERS)
    assert last_bars(replayed) == dict.fromkeys(TICKERS, dt.date(2026, 11, 25))
