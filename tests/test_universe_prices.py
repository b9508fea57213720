"""A universe of many tickers: fetched in chunks, a failing ticker named while the rest load,
unchanged payloads skipped by their hash, and the live multi-ticker client through yfinance."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipeline.build.summary import ticker_lines
from pipeline.daily import replay_sources
from pipeline.ingest.prices import ingest_prices
from pipeline.runtime.rate_limit import RateLimit, local_limiter
from pipeline.runtime.settings import SAMPLE_DIR
from pipeline.runtime.steps import Direct
from pipeline.sources.filings import ReplaySecFilings
from pipeline.sources.prices import YahooPrices
from pipeline.sources.yahoo import LiveYahooClient, RecordedYahooClient
from tests.conftest import summary_lines
from tests.faults.network_servers import FaultServer, aim, forget_time_zones, yahoo_answer
from tests.ledger import ledger_known_on

# 20 NYSE sessions: 2026-02-02 .. 2026-03-02 (Presidents' Day, 2026-02-16, closed).
SESSIONS = [d for d in pd.bdate_range("2026-02-02", "2026-03-02") if d != pd.Timestamp("2026-02-16")]


def flat_history(days: list[pd.Timestamp], price: float) -> pd.DataFrame:
    """A `history()` frame of flat bars, stamped at New York midnight as yfinance stamps them."""
    index = pd.DatetimeIndex(days, name="Date").tz_localize("America/New_York")
    columns = {c: price for c in ("Open", "High", "Low", "Close", "Adj Close")}
    return pd.DataFrame({**columns, "Volume": 1000, "Dividends": 0.0, "Stock Splits": 0.0}, index=index)


def stored(settings, sql):
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def universe(tmp_path):
    """200 made-up tickers, U000 .. U199, U199 the benchmark; ticker i has 1 + i % 20 sessions."""
    directory = tmp_path / "recorded"
    directory.mkdir()
    tickers = [f"U{i:03d}" for i in range(200)]
    for i, ticker in enumerate(tickers):
        flat_history(SESSIONS[: 1 + i % 20], 10.0 + i).to_parquet(directory / f"{ticker}.parquet")
    return directory, tickers


class CountedSteps(Direct):
    """Steps run directly, with a limiter that lets every request through and counts them."""

    def __init__(self):
        self.limits, self.acquired = [], []

    def limiter(self, limit):
        self.limits.append(limit)
        return self.acquired.append


@pytest.mark.slow  # two hundred tickers, or a whole run
def test_two_hundred_tickers_in_chunks_of_fifty(settings, universe):
    directory, tickers = universe
    settings = settings.replace(
        tickers=tickers[:-1], benchmark=tickers[-1], price_chunk_size=50, yahoo_requests_per_second=3
    )
    client = RecordedYahooClient(directory)
    steps = CountedSteps()
    result = ingest_prices(settings, YahooPrices(client), steps=steps)
    assert [(len(chunk), start) for chunk, start in client.calls] == [(50, settings.history_start)] * 4
    assert steps.limits == [RateLimit("yahoo-finance", 3, 50)]  # one rate for every chunk
    assert steps.acquired == [50, 50, 50, 50]
    assert sorted(t for chunk, _ in client.calls for t in chunk) == tickers
    # 10 rounds of 1 + 2 + ... + 20 sessions
    assert result.rows == 10 * 210
    assert stored(settings, "select count(*), count(distinct ticker) from raw.prices") == [(2100, 200)]
    # The summary lists 40 tickers and counts the other 160: U<i> has 1 + i % 20 bars from
    # 2026-02-02, so U040 .. U199 hold 160 + 8 x (0 + 1 + ... + 19) = 1,680, the longest to 2026-03-02.
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        lines = ticker_lines(con)
    assert lines[:3] == ["Prices stored:", "  U000        1 bars  2026-02-02 .. 2026-02-02", lines[2]]
    assert [line.split()[0] for line in lines[1:41]] == tickers[:40]
    assert lines[41:] == ["  and 160 more tickers: 1,680 bars  2026-02-02 .. 2026-03-02, every one in raw.prices"]
    assert stored(settings, "select count(*) from raw.prices where ticker = 'U019'") == [(20,)]
    assert result.failed == {}


@pytest.mark.slow  # two hundred tickers, or a whole run
def test_a_failed_ticker_is_listed_and_the_others_load(settings, universe):
    directory, tickers = universe
    (directory / "U007.parquet").unlink()  # Yahoo has nothing for it
    settings = settings.replace(
        tickers=tickers[:-1], benchmark=tickers[-1], price_chunk_size=50, yahoo_requests_per_second=50
    )
    result = ingest_prices(settings, YahooPrices(RecordedYahooClient(directory)))
    assert result.failed == {"U007": "Yahoo Finance returned no prices for U007 (misspelled or delisted ticker?)"}
    assert result.rows == 10 * 210 - 8  # U007 had 1 + 7 sessions
    assert stored(settings, "select count(distinct ticker) from raw.prices") == [(199,)]
    [(failed,)] = stored(settings, f"select failed from meta.runs where run_id = '{result.run_id}'")
    assert json.loads(failed) == result.failed


@pytest.fixture
def published(sample_run, tmp_path):
    """A copy of a data directory the bundled sample was run and published into."""
    settings, _ = sample_run
    copy = tmp_path / "var"
    shutil.copytree(settings.data_dir, copy, symlinks=True)
    return copy


@pytest.mark.slow  # two hundred tickers, or a whole run
def test_the_command_names_a_failed_ticker_in_its_exit_status(published, tmp_path, monkeypatch, capsys):
    """ORCL brings nothing today; its stored bars stay, NVDA and ^SOX load, the build publishes,
    and `thesis run` ends with the failed tickers in one line and exit status 3."""
    import pipeline.daily
    from cli.main import main

    recorded = tmp_path / "recorded"
    recorded.mkdir()
    for ticker in ("NVDA", "^SOX"):
        [path] = (SAMPLE_DIR / "prices").glob(f"{ticker}.*.parquet")
        shutil.copy(path, recorded / f"{ticker}.parquet")
    monkeypatch.setenv("THESIS_SEC_USER_AGENT", "Universe Test universe@example.com")
    monkeypatch.setenv("THESIS_TODAY", "2026-03-09")  # a Monday: the sample's bars end on Friday
    monkeypatch.setenv("THESIS_GUIDANCE_LEDGER", str(ledger_known_on("2026-03-09", tmp_path / "ledger.csv")))
    monkeypatch.setattr(pipeline.daily, "live_prices", lambda settings: YahooPrices(RecordedYahooClient(recorded)))
    monkeypatch.setattr(pipeline.daily, "live_filings", lambda settings: ReplaySecFilings(SAMPLE_DIR, mode="sample"))
    capsys.readouterr()
    assert main(["run", "--data-dir", str(published)]) == 3
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "failed: ORCL (Yahoo Finance returned no prices for ORCL (misspelled or delisted ticker?))"
    ]
    lines = summary_lines(out)
    assert lines[1].endswith(" loaded with 1 failure (see Failed below).")
    assert "Failed (not loaded; the rest was):" in lines


def test_an_unchanged_replay_skips_every_payload_by_hash(settings):
    prices, _ = replay_sources(SAMPLE_DIR, mode="sample")
    first = ingest_prices(settings, prices)
    assert (first.payloads, first.skipped) == (3, 0)  # NVDA, ORCL and ^SOX, one file each
    again = ingest_prices(settings, prices)
    assert (again.payloads, again.rows, again.skipped) == (0, 0, 3)
    [(message,)] = stored(settings, f"select message from meta.runs where run_id = '{again.run_id}'")
    assert message == "no new price payloads to load; 3 unchanged payload(s) skipped"
    assert not (settings.paths.staged / "prices" / again.run_id).exists()


MSFT_BARS, AAPL_BARS = 252, 49  # counted in ../shared/realdata/README.md


@pytest.fixture
def yahoo(realdata, monkeypatch, tmp_path):
    """A loopback Yahoo serving the recorded chart answers (MSFT, AAPL), and its 404 for any other symbol."""
    forget_time_zones(tmp_path / "yfinance", "MSFT", "AAPL", "NVDX")
    server = FaultServer(yahoo_answer)
    aim(monkeypatch.setattr, server.url, server.url)
    yield server
    server.close()
    forget_time_zones(tmp_path / "yfinance", "MSFT", "AAPL", "NVDX")


def test_the_live_client_downloads_many_tickers_and_names_an_unknown_one(settings, yahoo):
    client = LiveYahooClient(settings.paths.cache / "yfinance", deadline_seconds=10)
    answers = client.download(["MSFT", "AAPL", "NVDX"], dt.date(2020, 1, 1))
    assert {t: len(a) for t, a in answers.items() if isinstance(a, pd.DataFrame)} == {
        "MSFT": MSFT_BARS,
        "AAPL": AAPL_BARS,
    }
    assert str(answers["NVDX"]) == "Yahoo Finance does not know NVDX (HTTP 404): check the ticker"
    assert yahoo.count("/v8/finance/chart/NVDX") == 1  # a 404 is not asked again

    settings = settings.replace(tickers=("MSFT", "NVDX"), benchmark="AAPL")
    result = ingest_prices(settings, YahooPrices(client))
    assert result.failed == {"NVDX": "Yahoo Finance does not know NVDX (HTTP 404): check the ticker"}
    assert result.rows == MSFT_BARS + AAPL_BARS
    assert stored(settings, "select ticker, count(*) from raw.prices group by ticker order by ticker") == [
        ("AAPL", AAPL_BARS),
        ("MSFT", MSFT_BARS),
    ]
    # MSFT's recorded answer lists 4 dividends (../shared/realdata/README.md)
    assert stored(settings, "select count(*) from raw.price_events where ticker = 'MSFT' and event = 'dividend'") == [
        (4,)
    ]


def test_a_run_at_another_rate_keeps_to_its_own_not_the_first_runs():
    # A process that ran at 1 request a second (a notebook, a test) and runs again at 1,000.
    first = local_limiter(RateLimit("a-service", 1))
    again = local_limiter(RateLimit("a-service", 1000))
    assert first.__self__.interval == 1.0
    assert again.__self__.interval == 0.001
    # Runs at the same rate share one limiter: together they keep to it.
    assert local_limiter(RateLimit("a-service", 1)).__self__ is first.__self__
