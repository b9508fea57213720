"""Network faults, once and always, between the live clients and loopback stand-ins for Yahoo and SEC.

Yahoo is reached through yfinance and curl_cffi, SEC through requests: only their base URLs point
at the servers of tests/faults/network_servers.py, which serve the recorded bodies of
../shared/realdata. "once": a path's first request gets the fault, then the server recovers;
"always": every request gets it.

- Transient (5xx, 429, a body cut short or not whole JSON, a dropped connection, a hang, a drip)
  is retried: once, the source loads everything; always, `thesis run` ends in one line naming
  what failed and what to do, after 1 + THESIS_FETCH_RETRIES requests.
- Permanent (404, another 4xx, an empty body, a web page, JSON of another shape, no bars) fails
  with one line after a single request, whether or not the server would have recovered.

Failing runs are `thesis run` in this process, on a copy of a data directory the bundled sample
was published into: each must leave its published files as they were. Runs that recover are the
source's ingest step, as `thesis run` calls it, on a new data directory: the build after it needs
prices for the configured tickers, and the recorded chart answers (MSFT, AAPL) share no dates.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from pipeline.ingest.filings import ingest_filings, live_filings
from pipeline.ingest.prices import ingest_prices, live_prices
from pipeline.runtime.settings import Settings, load_settings
from tests.faults.harness import PROJECT, one_clean_line, refused, snapshot, thesis, unchanged
from tests.faults.network_servers import (
    REALDATA,
    SITECUSTOMIZE,
    FaultServer,
    aim,
    forget_time_zones,
    sec_answer,
    yahoo_answer,
)

if not REALDATA.is_dir():
    pytest.skip(f"recorded payloads not found at {REALDATA} (they sit beside the project)", allow_module_level=True)

RETRIES = 1
ATTEMPTS = f"gave up after {RETRIES + 1} attempts"
ENV = {
    "THESIS_SEC_USER_AGENT": "Thesis Fault Suite faults@example.com",
    "THESIS_FETCH_RETRIES": str(RETRIES),
    "THESIS_RETRY_BACKOFF_SECONDS": "0.01",
    "THESIS_FETCH_TIMEOUT_SECONDS": "2",
    "THESIS_SEC_TIMEOUT_SECONDS": "2",
    # SEC throttling is waited out in pauses of 0.05, 0.1, 0.2 s (first pause set below): the
    # first two fit in 0.25 s, the third does not, so throttling that persists costs 3 requests.
    "THESIS_SEC_MAX_WAIT_SECONDS": "0.25",
    "THESIS_TODAY": "2026-09-11",  # a Friday after the recorded SEC answers and the guidance ledger
}
RECORDED_PRICES = {"THESIS_TICKERS": "MSFT", "THESIS_BENCHMARK": "AAPL"}  # chart answers in REALDATA/yahoo
FIRST_THROTTLE_PAUSE = 0.05
NVDA, MSFT = "/v8/finance/chart/NVDA", "/v8/finance/chart/MSFT"  # NVDA: the first ticker by default
SYMBOLS = ("NVDA", "NVDX", "MSFT", "AAPL")
# yfinance's two requests for a ticker: its time zone (a 1-day range), then the bars asked for.
TIMEZONE, HISTORY = "range=1d", "period1="
SUBMISSIONS = "/submissions/CIK0001045810.json"
ARCHIVE = "/submissions/CIK0001045810-submissions-001.json"  # listed in the recorded submissions' filings.files
FACTS = "/api/xbrl/companyfacts/CIK0001045810.json"
NVIDIA = "NVDA (CIK 0001045810)"
# Counted in ../shared/realdata/README.md.
MSFT_BARS, AAPL_BARS = 252, 49
NVDA_FACTS, NVDA_RECENT_FILINGS = 26_903, 1_007

YAHOO_TRANSIENT = {
    "http-500": "Yahoo Finance answered HTTP 500 for NVDA",
    "http-503": "Yahoo Finance answered HTTP 503 for NVDA",
    "http-429": "Yahoo Finance is rate-limiting requests (while fetching NVDA)",
    "invalid-json": "Yahoo Finance sent a truncated or invalid answer for NVDA",
    "cut": "Yahoo Finance request for NVDA failed",
    "drop": "Yahoo Finance request for NVDA failed",
    "hang": "Yahoo Finance (NVDA) gave no answer within 2 s",
    "drip": "Yahoo Finance (NVDA) gave no answer within 2 s",
}
YAHOO_PERMANENT = {
    "http-404": ("NVDA", "no prices"),
    "http-403": ("Yahoo Finance refused the request for NVDA (HTTP 403)", "check the ticker"),
    "empty": ("Yahoo Finance sent an empty answer for NVDA",),
    "html": ("Yahoo Finance sent a web page instead of prices for NVDA", "blocking this client"),
    "json-shape": ("Yahoo Finance answered NVDA in a form yfinance could not read",),
}
SEC_TRANSIENT = {
    "http-500": f"SEC answered HTTP 500 for companyfacts for {NVIDIA}",
    "http-503": f"SEC answered HTTP 503 for companyfacts for {NVIDIA}",
    "invalid-json": f"SEC sent a truncated or invalid JSON body for companyfacts for {NVIDIA}",
    "cut": f"SEC request for companyfacts for {NVIDIA}",
    "drop": f"SEC request for companyfacts for {NVIDIA}",
    "hang": f"companyfacts for {NVIDIA}",  # requests' read timeout or the deadline, both 2 s
    "drip": f"{FACTS}, gave no answer within 2 s",  # cut by the deadline, not by a socket timeout
}
SEC_PERMANENT = {
    "http-404": (f"SEC has no companyfacts for {NVIDIA}", "check the CIK in seeds/companies.csv"),
    "http-403": (f"SEC answered HTTP 403 for companyfacts for {NVIDIA}", "THESIS_SEC_USER_AGENT"),
    "empty": (f"SEC sent an empty body for companyfacts for {NVIDIA}",),
    "html": (f"SEC sent a web page instead of JSON for companyfacts for {NVIDIA}",),
}
ONCE, ALWAYS = 1, None
TIMES = pytest.mark.parametrize("times", [ONCE, ALWAYS], ids=["once", "always"])


@dataclass
class Servers:
    yahoo: FaultServer
    sec: FaultServer


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Servers]:
    forget_time_zones(tmp_path / "yfinance", *SYMBOLS)
    running = Servers(FaultServer(yahoo_answer), FaultServer(sec_answer))
    aim(monkeypatch.setattr, running.yahoo.url, running.sec.url)
    monkeypatch.setattr("pipeline.sources.sec.THROTTLE_FIRST_PAUSE_SECONDS", FIRST_THROTTLE_PAUSE)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    yield running
    running.yahoo.close()
    running.sec.close()
    forget_time_zones(tmp_path / "yfinance", *SYMBOLS)  # nor for the next test in this process


@pytest.fixture(scope="module")
def nvidia_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's seeds with one company, NVIDIA, whose EDGAR answers are recorded."""
    folder = tmp_path_factory.mktemp("seeds")
    shutil.copy(PROJECT / "seeds" / "concept_map.csv", folder)
    header, *rows = (PROJECT / "seeds" / "companies.csv").read_text().splitlines()
    (folder / "companies.csv").write_text("\n".join([header, *(r for r in rows if r.startswith("NVDA,"))]) + "\n")
    return folder


@pytest.fixture
def fresh(servers: Servers, tmp_path: Path, nvidia_only: Path) -> Settings:
    """Settings of a new data directory whose every source the servers have recorded answers for."""
    return load_settings(data_dir=tmp_path / "fresh", seeds_dir=nvidia_only, tickers="MSFT", benchmark="AAPL")


def failed_run(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture, data_dir: Path, *expected: str) -> str:
    """`thesis run` in this process: exit 1, one clean line holding `expected`, exports untouched."""
    exports = data_dir / "published"
    before = snapshot(exports)
    assert before, "the sample published nothing"
    capsys.readouterr()
    assert main(["run", "--data-dir", str(data_dir)]) == 1
    line = one_clean_line(request, capsys.readouterr().err, *expected)
    unchanged(request, before, exports)
    return line


# Yahoo ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_", [TIMEZONE, HISTORY], ids=["timezone", "history"])
@pytest.mark.parametrize("kind", sorted(YAHOO_TRANSIENT))
def test_yahoo_transient_fault_once_is_retried_and_every_bar_loads(servers, fresh, kind, request_):
    """yfinance asks first for the ticker's time zone, then for its bars: either may fail."""
    servers.yahoo.plan(kind, MSFT, times=ONCE, query=request_)
    result = ingest_prices(fresh, live_prices(fresh))
    assert result.rows == MSFT_BARS + AAPL_BARS
    assert servers.yahoo.count(MSFT, request_) == 2  # the fault, then the answer
    assert servers.yahoo.count(MSFT, HISTORY) == 1 + (request_ == HISTORY)


@pytest.mark.parametrize("kind", sorted(YAHOO_TRANSIENT))
def test_yahoo_transient_fault_always_ends_in_one_line(request, capsys, servers, data_dir, kind):
    servers.yahoo.plan(kind, NVDA, times=ALWAYS)
    failed_run(request, capsys, data_dir, YAHOO_TRANSIENT[kind], ATTEMPTS, "try again later")
    assert servers.yahoo.count(NVDA, TIMEZONE) == RETRIES + 1


@TIMES
@pytest.mark.parametrize("kind", sorted(YAHOO_PERMANENT))
def test_yahoo_permanent_fault_fails_at_once(request, capsys, servers, data_dir, kind, times):
    servers.yahoo.plan(kind, NVDA, times=times)
    line = failed_run(request, capsys, data_dir, *YAHOO_PERMANENT[kind])
    assert "gave up after" not in line
    assert servers.yahoo.count(NVDA) == 1


def test_yahoo_answer_without_bars_fails_at_once(request, capsys, servers, data_dir):
    """Yahoo's recorded answer for a weekend: a time zone, and no bars."""
    servers.yahoo.plan("no-bars", NVDA, times=ALWAYS)
    failed_run(request, capsys, data_dir, "NVDA", "no prices")
    assert (servers.yahoo.count(NVDA, TIMEZONE), servers.yahoo.count(NVDA, HISTORY)) == (1, 1)  # one attempt


def test_an_unknown_ticker_is_named_after_one_request_and_the_others_load(servers, fresh):
    """Yahoo answers 404 to yfinance's time-zone lookup, the first request for a ticker: not retried,
    and the tickers Yahoo knows load without it."""
    settings = fresh.replace(tickers=("MSFT", "NVDX"))
    result = ingest_prices(settings, live_prices(settings))
    assert result.failed == {"NVDX": "Yahoo Finance does not know NVDX (HTTP 404): check the ticker"}
    assert result.rows == MSFT_BARS + AAPL_BARS
    assert servers.yahoo.count("/v8/finance/chart/NVDX") == 1


def test_when_no_ticker_is_known_the_run_fails_in_one_line(request, capsys, monkeypatch, servers, data_dir):
    monkeypatch.setenv("THESIS_TICKERS", "NVDX")  # and the benchmark ^SOX, which the server does not know either
    failed_run(request, capsys, data_dir, "Yahoo Finance does not know NVDX (HTTP 404)", "no prices loaded")
    assert servers.yahoo.count("/v8/finance/chart/NVDX") == 1


# SEC -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted({*SEC_TRANSIENT, "http-429"}))
def test_sec_transient_fault_once_is_retried_and_every_filing_loads(servers, fresh, kind):
    servers.sec.plan(kind, SUBMISSIONS, times=ONCE)
    result = ingest_filings(fresh, live_filings(fresh))
    assert (result.filings, result.facts) == (NVDA_RECENT_FILINGS, NVDA_FACTS)
    assert servers.sec.count(SUBMISSIONS) == 2


@pytest.fixture
def sec_after_prices(monkeypatch: pytest.MonkeyPatch, servers: Servers, nvidia_only: Path) -> Servers:
    """Prices that load (from recorded answers), so that the run reaches SEC, for NVIDIA alone:
    whether the run is orchestrated (its companies fetched at once) or not, NVIDIA's fault is the one."""
    for name, value in {**RECORDED_PRICES, "THESIS_SEEDS_DIR": str(nvidia_only), "THESIS_HYPERSCALERS": "NVDA"}.items():
        monkeypatch.setenv(name, value)
    return servers


@pytest.mark.parametrize("kind", sorted(SEC_TRANSIENT))
def test_sec_transient_fault_always_ends_in_one_line_naming_the_url(request, capsys, sec_after_prices, data_dir, kind):
    """A drip keeps each socket read within requests' timeout: only the deadline on the whole answer
    ends it, where the whole body would take 4,039,082 × 0.2 s."""
    sec = sec_after_prices.sec
    sec.plan(kind, FACTS, times=ALWAYS)
    started = time.monotonic()
    failed_run(request, capsys, data_dir, SEC_TRANSIENT[kind], sec.url + FACTS, ATTEMPTS, "try again later")
    assert sec.count(FACTS) == RETRIES + 1
    assert time.monotonic() - started < 20  # two attempts of at most 2 s, and the rest of the run


def test_sec_throttling_always_is_waited_out_in_the_client_then_one_line(request, capsys, sec_after_prices, data_dir):
    """Not retried on top of the client's wait, which would extend SEC's block (once: above)."""
    sec = sec_after_prices.sec
    sec.plan("http-429", FACTS, times=ALWAYS)
    failed_run(request, capsys, data_dir, "SEC is rate-limiting this client (HTTP 429)", f"companyfacts for {NVIDIA}")
    assert sec.count(FACTS) == 3


@TIMES
@pytest.mark.parametrize("kind", sorted(SEC_PERMANENT))
def test_sec_permanent_fault_fails_at_once(request, capsys, sec_after_prices, data_dir, kind, times):
    sec = sec_after_prices.sec
    sec.plan(kind, FACTS, times=times)
    line = failed_run(request, capsys, data_dir, *SEC_PERMANENT[kind], sec.url + FACTS)
    assert "gave up after" not in line
    assert sec.count(FACTS) == 1


def test_an_archive_file_sec_lists_but_does_not_serve_is_a_note(servers, fresh):
    """The recorded submissions list one older-filings file; the server, like SEC at times, answers 404."""
    result = ingest_filings(fresh, live_filings(fresh))
    assert (result.filings, result.facts) == (NVDA_RECENT_FILINGS, NVDA_FACTS)  # companyfacts still fetched
    [note] = [n for n in result.notes if "CIK0001045810-submissions-001.json" in n]
    assert "404" in note and "not loaded" in note
    assert servers.sec.count(ARCHIVE) == 1  # a 404 is not retried


# The real command in a child process: what reaches the terminal, exit noise included -----------


@pytest.mark.parametrize(
    ("fixture", "server", "path", "expected"),
    [
        ("servers", "yahoo", NVDA, "Yahoo Finance answered HTTP 500 for NVDA"),
        ("sec_after_prices", "sec", FACTS, f"SEC answered HTTP 500 for companyfacts for {NVIDIA}"),
    ],
    ids=["yahoo", "sec"],
)
def test_the_command_prints_one_line_and_nothing_at_exit(request, data_dir, tmp_path, fixture, server, path, expected):
    servers = request.getfixturevalue(fixture)  # its settings reach the child through the environment
    getattr(servers, server).plan("http-500", path, times=ALWAYS)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(yahoo=servers.yahoo.url, sec=servers.sec.url))
    before = snapshot(data_dir / "published")
    done = thesis(
        "run", "--data-dir", str(data_dir), env={"PYTHONPATH": f"{site}{os.pathsep}{PROJECT}"}, request=request
    )
    refused(request, done.returncode, done.stderr, expected, ATTEMPTS)
    assert done.returncode == 1
    unchanged(request, before, data_dir / "published")
