"""The live path, with Yahoo replaced by recorded frames or by a loopback server that never answers."""

import datetime as dt
import logging
import re
import shutil
import socket
import threading
import time

import duckdb
import pandas as pd
import pytest

from pipeline.daily import daily, replay_sources
from pipeline.ingest.prices import ingest_prices
from pipeline.runtime.errors import DeadlineExceeded, MissingData, SourceError, Throttled, TransientSourceError
from pipeline.runtime.settings import SAMPLE_DIR
from pipeline.sources.deadline import call_with_deadline
from pipeline.sources.filings import ReplaySecFilings
from pipeline.sources.prices import YahooPrices
from pipeline.sources.yahoo import LiveYahooClient, RecordedYahooClient, judge

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
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow  # several whole runs
def test_first_fetch_from_history_start_then_incremental_with_revisions(settings, recorded):
    client = RecordedYahooClient(recorded)
    daily(settings, YahooPrices(client), SAMPLE_FILINGS)
    assert client.calls == [(("NVDA", "ORCL", "^SOX"), settings.history_start)]  # one chunk
    raw_zone = sorted(p.name for p in (settings.paths.raw / "prices").glob("*.parquet"))
    assert [name.split(".")[0] for name in raw_zone] == ["NVDA", "ORCL", "^SOX"]

    # Yahoo revises the last bar (it was the partial intraday bar) and adds none.
    nvda = pd.read_parquet(recorded / "NVDA.parquet")
    nvda.loc[nvda.index[-1], ["Close", "Adj Close", "High"]] = 199.5
    nvda.to_parquet(recorded / "NVDA.parquet")
    client.calls.clear()
    daily(settings, YahooPrices(client), SAMPLE_FILINGS)

    # 2026-03-06 minus the 10-day lookback
    assert client.calls == [(("NVDA", "ORCL", "^SOX"), dt.date(2026, 2, 24))]
    assert stored(settings, "select count(*), count(distinct date) from raw.prices where ticker = 'NVDA'") == [
        (294, 294)  # the NYSE sessions from 2025-01-02 to 2026-03-06
    ]
    assert stored(settings, "select close from raw.prices where ticker = 'NVDA' and date = '2026-03-06'") == [(199.5,)]
    assert stored(settings, "select count(*) from raw.price_events where ticker = 'NVDA' and event = 'dividend'") == [
        (4,)
    ]


@pytest.mark.slow  # several whole runs
def test_raw_zone_alone_rebuilds_the_same_marts(settings, recorded):
    daily(settings, YahooPrices(RecordedYahooClient(recorded)), SAMPLE_FILINGS)
    before = pd.read_parquet(settings.paths.parquet / "relative_performance")
    settings.paths.warehouse.unlink()
    settings.paths.analyst_copy.unlink()
    daily(settings, *replay_sources(settings.paths.raw))
    pd.testing.assert_frame_equal(before, pd.read_parquet(settings.paths.parquet / "relative_performance"))


def test_a_misspelled_ticker_is_named_and_the_others_load(settings, recorded):
    settings = settings.replace(tickers=("NVDA", "NVDX"))
    result = ingest_prices(settings, YahooPrices(RecordedYahooClient(recorded)))
    assert result.failed == {"NVDX": "Yahoo Finance returned no prices for NVDX (misspelled or delisted ticker?)"}
    # 294 NYSE sessions from 2025-01-02 to 2026-03-06, for NVDA and the benchmark
    assert stored(settings, "select ticker, count(*) from raw.prices group by ticker order by ticker") == [
        ("NVDA", 294),
        ("^SOX", 294),
    ]
    assert stored(settings, f"select failed from meta.runs where run_id = '{result.run_id}'") == [
        ('{"NVDX": "Yahoo Finance returned no prices for NVDX (misspelled or delisted ticker?)"}',)
    ]


def test_when_no_ticker_brings_prices_the_run_fails_in_one_line(settings, recorded):
    settings = settings.replace(tickers=("NVDX",), benchmark="SOXX")
    with pytest.raises(MissingData) as failure:
        ingest_prices(settings, YahooPrices(RecordedYahooClient(recorded)))
    assert str(failure.value) == (
        "Yahoo Finance returned no prices for NVDX (misspelled or delisted ticker?); "
        "no prices loaded for any ticker (SOXX failed too)"
    )
    assert stored(settings, "select count(*) from raw.prices") == [(0,)]


class ThrottledFirst:
    """Throttled on the first `times` calls, then the recorded answer."""

    def __init__(self, inner, times):
        self.inner, self.times, self.calls = inner, times, 0

    def download(self, tickers, start):
        self.calls += 1
        if self.calls <= self.times:
            return {t: Throttled(f"Yahoo Finance is rate-limiting requests (while fetching {t})") for t in tickers}
        return self.inner.download(tickers, start)


@pytest.mark.slow
def test_throttling_backs_off_and_recovers(settings, recorded):
    client = ThrottledFirst(RecordedYahooClient(recorded), times=2)
    result = ingest_prices(settings, YahooPrices(client))
    assert client.calls == 2 + 1  # two refusals, then NVDA, ORCL and ^SOX in one chunk
    assert result.rows == 3 * 294


@pytest.mark.slow
def test_throttling_that_persists_fails_with_one_line(settings, recorded):
    client = ThrottledFirst(RecordedYahooClient(recorded), times=99)
    with pytest.raises(Throttled) as failure:
        ingest_prices(settings, YahooPrices(client))
    assert client.calls == settings.fetch_retries + 1
    assert str(failure.value) == (
        "Yahoo Finance is rate-limiting requests (while fetching NVDA); gave up after 3 attempts, try again later; "
        "no prices loaded for any ticker (ORCL, ^SOX failed too)"
    )


def test_deadline_cuts_a_call_that_hangs():
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"never gave no answer within 0\.2 s"):
        call_with_deadline(threading.Event().wait, 0.2, "never")
    assert time.monotonic() - started < 2


@pytest.mark.slow
def test_live_client_gives_up_on_a_silent_network(tmp_path, monkeypatch):
    """A proxy on loopback that accepts and never answers stands in for dropped packets."""
    import yfinance

    located, locate = [], yfinance.set_tz_cache_location
    monkeypatch.setattr(yfinance, "set_tz_cache_location", lambda where: (located.append(where), locate(where)))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{silent.getsockname()[1]}")
    client = LiveYahooClient(tmp_path / "cache", deadline_seconds=2)
    started = time.monotonic()
    try:
        [(ticker, answer)] = client.download(["NVDA"], dt.date(2026, 1, 2)).items()
    finally:
        silent.close()
    assert ticker == "NVDA"
    assert isinstance(answer, DeadlineExceeded)
    assert str(answer) == "Yahoo Finance (NVDA) gave no answer within 2 s"
    assert time.monotonic() - started < 5
    # yfinance's caches go into the data directory, not ~/.cache (it opens them once a process, so
    # whether files appear there depends on which test used yfinance first).
    assert located == [str(tmp_path / "cache")]


CHART = "https://query2.finance.yahoo.com/v8/finance/chart/%5ESOX"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error", "words"),
    [
        (500, b"", "text/plain", TransientSourceError, "HTTP 500 for ^SOX"),
        (429, b"Too Many Requests", "text/plain", Throttled, "rate-limiting requests (while fetching ^SOX)"),
        (200, b'{"chart": {"result": [', "application/json", TransientSourceError, "truncated or invalid"),
        (404, b'{"chart": {"error": {}}}', "application/json", MissingData, "does not know ^SOX"),
        (403, b"", "text/plain", SourceError, "refused the request for ^SOX (HTTP 403)"),
        (200, b"  ", "application/json", SourceError, "an empty answer for ^SOX"),
        (200, b"<html></html>", "text/html", SourceError, "a web page instead of prices for ^SOX"),
    ],
)
def test_each_answer_without_data_gets_its_error(status, body, content_type, error, words):
    with pytest.raises(error, match=re.escape(words)) as raised:
        judge(CHART, status, {"Content-Type": content_type}, body)
    assert type(raised.value) is error  # a permanent answer must not pass for a transient one, nor the reverse


@pytest.mark.parametrize("status", [200, 304, 401])
def test_answers_yfinance_deals_with_pass(status):
    # 401: yfinance fetches a new crumb
    judge(CHART, status, {"Content-Type": "application/json"}, b'{"chart": {"result": []}}')


def test_yfinance_log_lines_go_to_the_run_log():
    """The run's log is a handler on the `pipeline` logger (cli/logs.py); yfinance's logger has none of
    its own, so without being routed there its warnings would be printed on the terminal."""
    seen: list[logging.LogRecord] = []
    run_log = logging.Handler()
    run_log.emit = seen.append
    logging.getLogger("pipeline").addHandler(run_log)
    try:
        logging.getLogger("yfinance").warning("Cookie fetch from fc.yahoo.com failed, continuing without it")
    finally:
        logging.getLogger("pipeline").removeHandler(run_log)
    assert [(r.name, r.getMessage()) for r in seen] == [
        ("yfinance", "Cookie fetch from fc.yahoo.com failed, continuing without it")
    ]
