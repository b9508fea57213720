"""Headless Chromium for tests, driven over the DevTools protocol with the websockets sync client.

Debian's `chromium` is installed when it is missing and the tests run as root; elsewhere the tests
that need it skip, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from websockets.sync.client import connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def install() -> str | None:
    """Install Debian's chromium where it is missing; returns why it cannot be had, or None."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)"
    # apt reads the proxy variables, and the test session points them at a closed port.
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXIES} | {"DEBIAN_FRONTEND": "noninteractive"}
    for command, timeout in (
        (["apt-get", "update", "-q"], 300),
        (["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"], 900),
    ):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` did not finish within {timeout} s"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"`{' '.join(command)}` failed: {last}"
    return None if CHROMIUM.exists() else f"chromium installed, but {CHROMIUM} is not there"


class DevTools:
    """One page's DevTools session: calls wait for their answer; events are kept in order."""

    def __init__(self, url: str):
        self.socket = connect(url, max_size=None, open_timeout=30)
        self.events: list[dict] = []
        self.last_id = 0

    def call(self, method: str, timeout: float = 30, **params: object) -> dict:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01))))
        return next(e for e in self.events if e.get("method") == event)

    def close(self) -> None:
        self.socket.close()


@contextmanager
def browser() -> Iterator[DevTools]:
    """Chromium on a blank page, with a fresh profile; the page's DevTools session."""
    # Chromium's helper processes may still be writing the profile as it is removed.
    with tempfile.TemporaryDirectory(prefix="thesis-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chromium did not open its DevTools port (exit code {process.poll()})")
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            # Loopback only; no proxy, whatever the environment says.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
                page = next(t for t in json.load(answer) if t["type"] == "page")
            session = DevTools(page["webSocketDebuggerUrl"])
            try:
                yield session
            finally:
                session.close()
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """Chromium and every helper process it started (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the whole group has already exited
            break
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def render(session: DevTools, path: Path, screenshot: Path, width: int = 1000) -> dict:
    """Open `path`, then return what the page shows: each chart's box and marks, and the events seen."""
    for domain in ("Runtime", "Log", "Network", "Page"):
        session.call(f"{domain}.enable")
    session.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
    session.call("Page.navigate", url=path.resolve().as_uri())
    session.wait_for("Page.loadEventFired")
    charts = session.call(
        "Runtime.evaluate",
        returnByValue=True,
        expression="""
        Array.from(document.querySelectorAll('svg.chart')).map(svg => {
            const box = svg.getBoundingClientRect();
            return {id: svg.id, width: box.width, height: box.height,
                    marks: svg.querySelectorAll('.mark').length,
                    title: svg.querySelector('.title')?.textContent, asOf: svg.querySelector('.asof')?.textContent,
                    labels: Array.from(svg.querySelectorAll('.label')).map(l => l.textContent)};
        })""",
    )["result"]["value"]
    height = session.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
    shot = session.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    return {"charts": charts, "events": list(session.events)}


def errors(events: list[dict]) -> list[str]:
    """Exceptions thrown, errors logged, and console.error calls."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            found.append(json.dumps(params["args"]))
    return found


def requested(events: list[dict]) -> list[str]:
    return [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
