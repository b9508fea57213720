"""Test session setup: no network but loopback, isolated settings, and a Prefect server for the flow tests."""

from __future__ import annotations

import collections
import fcntl
import ipaddress
import os
import pickle
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
TODAY = "2026-12-01"
os.environ["THESIS_TODAY"] = TODAY


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow by what they use (`make check` leaves them out): every case of the fault suite runs the
    pipeline into a fault and then a whole good run, and the Prefect server takes seconds to start."""
    faults = Path(__file__).parent / "faults"
    for item in items:
        if faults in item.path.parents or "prefect_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


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


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Any]) -> tuple[Path, Any]:
    """The folder `make(folder)` filled, and what it returned, made once per pytest run: the first
    xdist worker to ask makes it under a lock, the other waits and reads it. Users copy the folder
    before they change anything in it.

    It is made with the session's clock and no other THESIS_ setting, whichever test asks first."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' temp folders sit in this run's own folder
    folder, done = root / "built-once" / name, root / "built-once" / f"{name}.pickle"
    folder.parent.mkdir(exist_ok=True)
    with open(root / "built-once" / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if `make` fails
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            folder.mkdir()
            with pytest.MonkeyPatch.context() as env:
                for variable in [v for v in os.environ if v.startswith("THESIS_")]:
                    env.delenv(variable)
                env.setenv("THESIS_TODAY", TODAY)
                value = make(folder)
            done.write_bytes(pickle.dumps(value))  # written last: its presence says the folder is whole
        return folder, pickle.loads(done.read_bytes())


def copied(folder: Path, target: Path) -> Path:
    """A copy of `folder` at `target`, a link in published/ kept a link."""
    shutil.copytree(folder, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def good_run(tmp_path_factory) -> Path:
    """A data directory the bundled sample was run and published into by `thesis run --from`, once
    per pytest run. Read it, or copy it (`copied`) to change it."""
    from cli.main import main
    from pipeline.runtime.settings import SAMPLE_DIR

    def run(folder: Path) -> None:
        assert main(["run", "--from", str(SAMPLE_DIR), "--data-dir", str(folder / "var")]) == 0

    folder, _ = built_once(tmp_path_factory, "good-run", run)
    return folder / "var"


@pytest.fixture(autouse=True)
def fresh_rate_limiters():
    """Each test with the process's rate limiters new: the slots a test before it reserved (a chunk
    of fifty tickers at two a second is 25 s of them) are not this test's to wait for."""
    from pipeline.runtime import rate_limit

    rate_limit._local.clear()


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

    def run(folder: Path):
        return daily(Settings(data_dir=folder / "var"), *replay_sources(SAMPLE_DIR, mode="sample"))

    folder, result = built_once(tmp_path_factory, "sample-run", run)
    return Settings(data_dir=folder / "var"), result


@pytest.fixture(scope="session")
def real_run(realdata, tmp_path_factory):
    """../shared/realdata replayed once through the pipeline, for tests that only read what it
    made: (its settings, the daily result)."""
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.settings import Settings

    def run(folder: Path):
        return daily(Settings(data_dir=folder / "var"), *replay_sources(realdata))

    folder, result = built_once(tmp_path_factory, "real-run", run)
    return Settings(data_dir=folder / "var"), result


@pytest.fixture(scope="session")
def nvidia_filings(realdata, tmp_path_factory):
    """../shared/realdata's SEC payloads ingested once into an empty warehouse, nothing built:
    (its settings, the ingest's result). Copy the data directory (`copied`) to build on it."""
    from pipeline.ingest.filings import ingest_filings
    from pipeline.runtime.settings import Settings
    from pipeline.sources.filings import ReplaySecFilings

    def ingest(folder: Path):
        return ingest_filings(Settings(data_dir=folder / "var"), ReplaySecFilings(realdata))

    folder, result = built_once(tmp_path_factory, "nvidia-filings", ingest)
    return Settings(data_dir=folder / "var"), result


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
