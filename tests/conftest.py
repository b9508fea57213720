"""Test session setup: no network but loopback, one Prefect test server, isolated settings."""

from __future__ import annotations

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
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"
# Anything that speaks HTTP outside Python's socket module (libcurl under yfinance) goes to a
# closed loopback port instead of the internet.
for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
    os.environ[proxy] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
for name in [n for n in os.environ if n.startswith("THESIS_")]:
    del os.environ[name]


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


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """One local Prefect server for the whole session (flows need an API; it listens on loopback)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def settings(tmp_path):
    from pipeline.settings import Settings

    return Settings(data_dir=tmp_path / "var", fetch_retries=2, retry_backoff_seconds=0.01,
                    fetch_timeout_seconds=5)


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real payloads not found at {REALDATA} (they sit beside the project, in ../shared)")
    return REALDATA
