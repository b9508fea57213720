"""The live path, with Yahoo replaced by recorded frames or by a loopback server that never answers."""

import datetime as dt
import os
import shutil
import socket
import threading
import time

import duckdb
import pandas as pd
import pytest

from pipeline.daily import daily, replay_sources
from pipeline.errors import DeadlineExceeded, MissingData, Throttled
from pipeline.ingest_prices import ingest_prices
from pipeline.settings import SAMPLE_DIR
from pipeline.sources.deadline import call_with_deadline
from pipeline.sources.filings import ReplaySecFilings
from pipeline.sources.prices import YahooPrices
from pipeline.sources.yahoo import LiveYahooClient, RecordedYahooClient

SAMPLE_FILINGS = ReplaySecFilings(SAMPLE_DIR, mode="sample")


@pytest.fixture
def recorded(tmp_path):
    """`history()` frames for NVDA, ORCL and ^SOX: the sample's, 2025-01-02 .. 2026-03-06."""
    directory = tmp_path / "recorded"
    directory.mkdir()
    for path in (SAMPLE_DIR / "prices").glob("*.parquet"):
        shutil.copy(path, directory / f"{path.name.split('.')[0]}.parquet")
    return directory


def stored(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_first_fetch_from_history_start_then_incremental_with_revisions(settings, recorded):
    client = RecordedYahooClient(recorded)
    daily(settings, YahooPrices(client), SAMPLE_FILINGS)
    assert {start for _, start, _ in client.calls} == {settings.history_start}
    raw_zone = sorted(p.name for p in (settings.raw_dir / "prices").glob("*.parquet"))
    assert [name.split(".")[0] for name in raw_zone] == ["NVDA", "ORCL", "^SOX"]

    # Yahoo revises the last bar (it was the partial intraday bar) and adds none.
    nvda = pd.read_parquet(recorded / "NVDA.parquet")
    nvda.loc[nvda.index[-1], ["Close", "Adj Close", "High"]] = 199.5
    nvda.to_parquet(recorded / "NVDA.parquet")
    client.calls.clear()
    daily(settings, YahooPrices(client), SAMPLE_FILINGS)

    # 2026-03-06 minus the 10-day lookback
    assert {start for _, start, _ in client.calls} == {dt.date(2026, 2, 24)}
    assert stored(settings, "select count(*), count(distinct date) from raw.prices where ticker = 'NVDA'") == [
        (294, 294)  # the NYSE sessions from 2025-01-02 to 2026-03-06
    ]
    assert stored(settings, "select close from raw.prices where ticker = 'NVDA' and date = '2026-03-06'") == [(199.5,)]
    assert stored(settings, "select count(*) from raw.price_events where ticker = 'NVDA' and event = 'dividend'") == [
        (4,)
    ]


def test_raw_zone_alone_rebuilds_the_same_marts(settings, recorded):
    daily(settings, YahooPrices(RecordedYahooClient(recorded)), SAMPLE_FILINGS)
    before = pd.read_parquet(settings.parquet_dir / "relative_performance.parquet")
    settings.warehouse_path.unlink()
    settings.analyst_db_path.unlink()
    daily(settings, *replay_sources(settings.raw_dir))
    pd.testing.assert_frame_equal(before, pd.read_parquet(settings.parquet_dir / "relative_performance.parquet"))


def test_a_misspelled_ticker_is_named_and_nothing_is_loaded(settings, recorded):
    settings = settings.replace(tickers=("NVDA", "NVDX"))
    with pytest.raises(MissingData, match=r"no prices for NVDX \(misspelled or delisted"):
        daily(settings, YahooPrices(RecordedYahooClient(recorded)), SAMPLE_FILINGS)
    assert stored(settings, "select count(*) from raw.prices") == [(0,)]


class ThrottledFirst:
    """Throttled on the first `times` calls, then the recorded answer."""

    def __init__(self, inner, times):
        self.inner, self.times, self.calls = inner, times, 0

    def history(self, ticker, start, end):
        self.calls += 1
        if self.calls <= self.times:
            raise Throttled(f"Yahoo Finance is rate-limiting requests (while fetching {ticker})")
        return self.inner.history(ticker, start, end)


def test_throttling_backs_off_and_recovers(settings, recorded):
    client = ThrottledFirst(RecordedYahooClient(recorded), times=2)
    result = ingest_prices(settings, YahooPrices(client))
    assert client.calls == 2 + 3  # two refusals, then NVDA, ORCL and ^SOX
    assert result.rows == 3 * 294


def test_throttling_that_persists_fails_with_one_line(settings, recorded):
    client = ThrottledFirst(RecordedYahooClient(recorded), times=99)
    with pytest.raises(Throttled) as failure:
        ingest_prices(settings, YahooPrices(client))
    assert client.calls == settings.fetch_retries + 1
    assert str(failure.value) == (
        "Yahoo Finance is rate-limiting requests (while fetching NVDA); gave up after 3 attempts"
    )


def test_deadline_cuts_a_call_that_hangs():
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"never gave no answer within 0\.2 s"):
        call_with_deadline(threading.Event().wait, 0.2, "never")
    assert time.monotonic() - started < 2


def test_live_client_gives_up_on_a_silent_network(tmp_path, monkeypatch):
    """A proxy on loopback that accepts and never answers stands in for dropped packets."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{silent.getsockname()[1]}")
    client = LiveYahooClient(tmp_path / "cache", deadline_seconds=2)
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded, match=r"Yahoo Finance \(NVDA\) gave no answer within 2 s"):
            client.history("NVDA", dt.date(2026, 1, 2), None)
    finally:
        silent.close()
    assert time.monotonic() - started < 5
    assert os.listdir(tmp_path / "cache")  # yfinance's caches live in the data directory
