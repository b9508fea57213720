"""The Prefect API a command talks to: the configured one, or a temporary server of our own.

A temporary server is `prefect server start` on a free loopback port. On a busy machine it can
take far longer than Prefect's own 20 s start-up limit, so the wait is generous and a start that
times out is tried once more.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.runtime.settings import PrefectApi

STARTUP_TIMEOUT_SECONDS = 120.0
ATTEMPTS = 2


def configured_api_url() -> str | None:
    """PREFECT_API_URL as Prefect reads it: the environment, or the active profile. Once Prefect is
    imported, a temporary_settings context (a temporary server's, a test's) may override both, so
    Prefect answers; before, none can, and the value is read without importing Prefect (a second)."""
    if "prefect.settings" not in sys.modules:
        return PrefectApi().url()
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str) -> bool:
    # Loopback only, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{api_url}/health", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def start(home: Path, log: Path, timeout: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("prefect")),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if healthy(api_url):
            return process, api_url
        time.sleep(0.5)
    stop(process)
    raise TimeoutError(f"the Prefect server did not answer within {timeout:g} s (its log: {log})")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def temporary_server(home: Path, timeout: float = STARTUP_TIMEOUT_SECONDS) -> Iterator[str]:
    """A Prefect server on loopback with its database under `home`, for the duration; yields its
    API URL, and points this process's Prefect client at it."""
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            process, api_url = start(home, home / "server.log", timeout)
            break
        except TimeoutError:
            if attempt == ATTEMPTS:
                raise
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            try:
                yield api_url
            finally:
                # The run's last log lines are still queued for the API: sent while it answers.
                APILogWorker.drain_all(timeout=5)
    finally:
        stop(process)
