"""Loopback stand-ins for Yahoo's chart API and SEC EDGAR: recorded bodies, and faults on demand.

Each server answers a path as the real one would (a recorded body, or the real 404), unless a
fault is planned for that path (and query): then it serves the fault on the first `times`
requests (None: on every one) and recovers. The live clients reach these servers through their own
libraries (yfinance and curl_cffi, requests); only the base URL is changed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
DRIP_SECONDS = 0.2  # one byte this often: each socket read succeeds, the whole answer takes days
# A hang or a drip ends at the latest after this long, or when the server closes: a client with no
# deadline of its own fails a test slowly instead of holding it forever.
GIVE_UP_SECONDS = 20

# (status, body, content type)
Answer = tuple[int, bytes, str]
JSON = "application/json"
HTML = "text/html; charset=utf-8"


@dataclass
class Fault:
    kind: str  # one of FAULT_KINDS
    path: str
    times: int | None = None  # None: every request; 1: the first, then the server recovers
    query: str = ""  # only requests whose query holds this


# kind -> what the server does instead of answering
FAULT_KINDS = {
    "http-500": "answers HTTP 500",
    "http-503": "answers HTTP 503",
    "http-429": "answers HTTP 429 Too Many Requests",
    "http-404": "answers HTTP 404",
    "http-403": "answers HTTP 403 (not SEC's rate-limit page)",
    "empty": "answers 200 with an empty body",
    "html": "answers 200 with a web page",
    "invalid-json": "answers 200 with the first half of the body, whole as far as HTTP goes",
    "cut": "declares the whole body's length, sends half and closes",
    "drop": "closes the connection without answering",
    "hang": "never answers",
    "drip": "sends the answer one byte every 0.2 s",
    "no-bars": "answers 200 with Yahoo's recorded answer that holds no bars, for the symbol asked for",
    "wrong-symbol": "answers 200 with Yahoo's recorded chart of MSFT, whatever symbol was asked for",
    "json-shape": "answers 200 with JSON that is not the document asked for",
    "ragged": "answers 200 with Yahoo's recorded chart of MSFT for the symbol asked for, one close short",
}
PAGE = b"<!DOCTYPE html><html><head><title>Yahoo</title></head><body>Will be right back...</body></html>"


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up mid-answer is what a fault is for: nothing to print."""


class FaultServer:
    """An HTTP server on 127.0.0.1 in a thread; `answer(path)` is its healthy behaviour."""

    def __init__(self, answer: Callable[[str], Answer]):
        self.answer = answer
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (path, query)
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._httpd = QuietServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def plan(self, kind: str, path: str, times: int | None = None, query: str = "") -> None:
        assert kind in FAULT_KINDS, kind
        self.faults.append(Fault(kind, path, times, query))

    def count(self, path: str, query: str = "") -> int:
        """Requests for `path` whose query holds `query`."""
        return sum(1 for p, q in self.requests if p == path and query in q)

    def close(self) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def fault_for(self, path: str, query: str) -> str | None:
        with self._lock:
            self.requests.append((path, query))
            for fault in self.faults:
                seen = self.count(path, fault.query)
                if fault.path == path and fault.query in query and (fault.times is None or seen <= fault.times):
                    return fault.kind
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet: the tests read server.requests
                pass

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                kind = server.fault_for(path, query)
                if kind is None:
                    self.send(*server.answer(path))
                else:
                    self.serve_fault(kind, server.answer(path))

            def send(self, status: int, body: bytes, content_type: str, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)

            def serve_fault(self, kind: str, healthy: Answer) -> None:
                _, body, content_type = healthy
                if kind.startswith("http-"):
                    self.send(int(kind[5:]), b'{"error": "' + kind.encode() + b'"}', JSON)
                elif kind == "empty":
                    self.send(200, b"", JSON)
                elif kind == "html":
                    self.send(200, PAGE, HTML)
                elif kind == "invalid-json":
                    self.send(200, body[: len(body) // 2], content_type)
                elif kind == "cut":
                    self.send(200, body[: len(body) // 2], content_type, length=len(body))
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif kind == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif kind == "hang":
                    server.closing.wait(GIVE_UP_SECONDS)
                elif kind == "drip":
                    self.drip(body, content_type)
                elif kind == "no-bars":
                    asked = self.path.partition("?")[0].rsplit("/", 1)[-1].encode()
                    empty = (REALDATA / "yahoo" / "AAPL.chart_weekend_empty_1m.json").read_bytes()
                    self.send(200, empty.replace(b'"symbol":"AAPL"', b'"symbol":"' + asked + b'"'), JSON)
                elif kind == "wrong-symbol":
                    self.send(200, (REALDATA / "yahoo" / CHARTS["MSFT"]).read_bytes(), JSON)
                elif kind == "json-shape":
                    self.send(200, b'{"unexpected": true}', JSON)
                elif kind == "ragged":
                    asked = self.path.partition("?")[0].rsplit("/", 1)[-1]
                    chart = json.loads((REALDATA / "yahoo" / CHARTS["MSFT"]).read_bytes())
                    result = chart["chart"]["result"][0]
                    result["meta"]["symbol"] = asked
                    result["indicators"]["quote"][0]["close"].pop()
                    self.send(200, json.dumps(chart).encode(), JSON)

            def drip(self, body: bytes, content_type: str) -> None:
                self.send(200, b"", content_type, length=len(body))
                for byte in body[: int(GIVE_UP_SECONDS / DRIP_SECONDS)]:
                    if server.closing.wait(DRIP_SECONDS):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the client gave up: what the deadline is for
                        return

        return Handler


# The chart answers recorded in REALDATA/yahoo, by symbol.
CHARTS = {
    "MSFT": "MSFT.chart_2021-02_to_2022-01_dividends.json",
    "AAPL": "AAPL.chart_2020-08-31_to_2020-11-06_split_dividend.json",
}


def yahoo_answer(path: str) -> Answer:
    """Yahoo's chart API: a symbol's recorded answer, or Yahoo's own 404."""
    symbol = path.removeprefix("/v8/finance/chart/")
    if symbol in CHARTS:
        return 200, (REALDATA / "yahoo" / CHARTS[symbol]).read_bytes(), JSON
    return 404, YAHOO_NOT_FOUND, JSON


YAHOO_NOT_FOUND = (
    b'{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}'
)


def sec_answer(path: str) -> Answer:
    """EDGAR: the recorded submissions and companyfacts in REALDATA/sec, else SEC's 404."""
    folders = {"/submissions/": "submissions", "/api/xbrl/companyfacts/": "companyfacts"}
    for prefix, folder in folders.items():
        recorded = REALDATA / "sec" / folder / path.removeprefix(prefix)
        if path.startswith(prefix) and recorded.is_file():
            return 200, recorded.read_bytes(), JSON
    return 404, b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>", "application/xml"


def aim(setattr: Callable[[object, str, object], None], yahoo: str, sec: str) -> None:
    """Point yfinance's chart and quote endpoints (as its modules imported them) at `yahoo` and the
    SEC client at `sec`, with `setattr` (monkeypatch.setattr in process, the builtin in a child
    process)."""
    import yfinance.base
    import yfinance.scrapers.history
    import yfinance.scrapers.quote

    import pipeline.sources.sec

    setattr(yfinance.base, "_BASE_URL_", yahoo)
    setattr(yfinance.scrapers.history, "_BASE_URL_", yahoo)
    setattr(yfinance.scrapers.quote, "_QUOTE_SUMMARY_URL_", f"{yahoo}/v10/finance/quoteSummary")
    setattr(pipeline.sources.sec, "BASE_URL", sec)


def forget_time_zones(cache_dir: Path, *symbols: str) -> None:
    """yfinance keeps the time zone it looked up for a ticker (in a cache it opens once a process,
    wherever a later client points it) and its first answers in memory: forgotten, each test's
    first request for a ticker is the time-zone lookup, as on a machine that never asked."""
    import yfinance
    import yfinance.cache
    import yfinance.data

    yfinance.set_tz_cache_location(str(cache_dir))  # where it opens the cache, if nobody has yet
    for symbol in symbols:
        yfinance.cache.get_tz_cache().store(symbol, None)
    yfinance.data.YfData.cache_get.cache_clear()


# Imported at a child interpreter's start (PYTHONPATH), so `thesis` itself runs aimed at the servers.
SITECUSTOMIZE = """
from tests.faults.network_servers import aim
aim(setattr, {yahoo!r}, {sec!r})
"""
