"""Test session setup: no network but loopback, isolated settings, and a Prefect server for the flow tests."""

from __future__ import annotations

import collections
import ipaddress
import os
import socket
import tempfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"
FIXTURES = Path(__file__).parent / "fixtures"

# Before Prefect is imported anywhere: its home, database and settings live in a temp dir.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="thesis-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)  # no test reaches a server but the one it starts
# Anything that speaks HTTP outside Python's socket module (libcurl under yfinance) goes to a
# closed loopback port instead of the internet.
for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
    os.environ[proxy] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
for name in [n for n in os.environ if n.startswith("THESIS_")]:
    del os.environ[name]
# The pipeline's clock, fixed for every test and every child process: an ordinary Tuesday after
# the close. A test of another day sets its own.
os.environ["THESIS_TODAY"] = "2026-12-01"


def summary_lines(out: str) -> list[str]:
    """What a run printed on stdout from its summary's blank first line on: before it, without a
    terminal, come the lines of its steps (cli/progress.py)."""
    lines = out.splitlines()
    return lines[lines.index("") :]


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _guard(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(address[0])):
        raise NetworkBlocked(f"tests may not reach {address[0]}:{address[1]}; only loopback is allowed")


def _guarded_connect(self, address):
    _guard(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes) else str(host)):
        raise NetworkBlocked(f"tests may not resolve {host}; only loopback is allowed")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory) -> str:
    """One real Prefect server on loopback for the tests of the flows; its API URL."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.server import temporary_server

    with temporary_server(tmp_path_factory.mktemp("prefect-server")) as api_url:
        # Only the tests that ask for prefect_api talk to it: the rest of this worker's tests run
        # the core without Prefect, as the CLI does where no API is configured.
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield api_url
        # The logs and events flow runs left queued are sent while the server still answers (as
        # prefect_test_harness does): sent at exit to a stopped server, they hold the exit up for
        # about 75 s of retries.
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=30, at_exit=False)
        EventsWorker.drain_all(timeout=30, at_exit=False)


@pytest.fixture
def prefect_api(prefect_server) -> str:
    """This test's Prefect client pointed at the test server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        yield prefect_server


@pytest.fixture(scope="session")
def sample_flow_run(prefect_server, tmp_path_factory):
    """The daily flow run once on the bundled sample against the test Prefect server, for the tests
    (of the xdist group "prefect") that read what it left: (its data directory, its final state)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.daily import daily
    from pipeline.runtime.settings import SAMPLE_DIR

    data_dir = tmp_path_factory.mktemp("sample-flow") / "var"
    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        return data_dir, daily(replay_from=str(SAMPLE_DIR), data_dir=str(data_dir), return_state=True)


@pytest.fixture
def settings(tmp_path):
    from pipeline.runtime.settings import Settings

    return Settings(data_dir=tmp_path / "var", fetch_retries=2, retry_backoff_seconds=0.01, fetch_timeout_seconds=5)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """The bundled sample run once through the pipeline, for tests that only read what it made:
    (its settings, the daily result)."""
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.settings import SAMPLE_DIR, Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("sample-run") / "var")
    return settings, daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))


@pytest.fixture(scope="session")
def real_run(realdata, tmp_path_factory):
    """../shared/realdata replayed once through the pipeline, for tests that only read what it
    made: (its settings, the daily result)."""
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("real-run") / "var")
    return settings, daily(settings, *replay_sources(realdata))


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real payloads not found at {REALDATA} (they sit beside the project, in ../shared)")
    return REALDATA


# The fault suite's tally (tests/faults): each case says it was tried and its category, and
# tests/faults/harness.py adds what went wrong. Reports reach this process from every xdist worker.
_faults: dict[str, set[str]] = {}
_categories: dict[str, str] = {}


_crash_lines: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _crash_lines.extend(value for key, value in report.user_properties if key == "crash")
    marks = {value for key, value in report.user_properties if key == "fault"}
    if "tried" not in marks:
        return
    seen = _faults.setdefault(report.nodeid, set())
    seen |= marks - {"tried"}
    for key, value in report.user_properties:
        if key == "fault category":
            _categories[report.nodeid] = value
    if report.failed:
        seen.add("failed")


def pytest_terminal_summary(terminalreporter) -> None:
    if not _faults:
        return
    from tests.faults.harness import OUTCOMES

    tried = len(_faults)
    clean = sum(1 for marks in _faults.values() if not marks)
    counts = [f"{sum(1 for marks in _faults.values() if key in marks)} {name}" for key, name in OUTCOMES.items()]
    terminalreporter.write_line(f"faults: {tried} tried, {clean} clean, {', '.join(counts)}")
    per = collections.Counter(_categories.get(nodeid, "?") for nodeid in _faults)
    terminalreporter.write_line("faults by category: " + ", ".join(f"{c} {n}" for c, n in sorted(per.items())))
    for line in _crash_lines:
        terminalreporter.write_line(line)
