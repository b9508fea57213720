"""The SEC client against recorded HTTP answers: no network, an injected clock."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest
import requests

from pipeline.runtime.errors import (
    DeadlineExceeded,
    MissingData,
    MissingUserAgent,
    SourceError,
    Throttled,
    TransientSourceError,
)
from pipeline.runtime.rate_limit import RateLimiter
from pipeline.sources.sec import LiveSecClient, companyfacts_url, padded_cik

UA = "Thesis Pipeline research@example.com"
RATE_LIMIT_PAGE = (
    b"<html><body><h1>Your Request Originates from an Undeclared Automated Tool</h1>"
    b"Request Rate Threshold Exceeded</body></html>"
)


class FakeClock:
    """Time that only moves when somebody sleeps."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def response(status: int, body: bytes = b"", headers: dict | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content = status, body
    answer.headers.update(headers or {})
    return answer


class RecordedSession:
    """Plays back recorded answers in order and notes each request with the clock's time."""

    def __init__(self, clock: FakeClock, answers: list[requests.Response]):
        self.clock, self.answers = clock, list(answers)
        self.requests: list[tuple[float, str, dict]] = []

    def get(self, url: str, headers: dict, timeout: float) -> requests.Response:
        self.requests.append((self.clock(), url, headers))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(clock: FakeClock, session: RecordedSession, **options) -> LiveSecClient:
    return LiveSecClient(
        UA, session=session, acquire=RateLimiter(8, clock=clock, sleep=clock.sleep).wait, sleep=clock.sleep, **options
    )


def test_rate_limit_page_then_success_is_retried_with_backoff():
    clock = FakeClock()
    session = RecordedSession(clock, [response(403, RATE_LIMIT_PAGE), response(429), response(200, b"{}")])

    fetched = client(clock, session).get(companyfacts_url(1045810), "companyfacts for NVDA")

    assert fetched.body == b"{}"
    times = [t for t, _, _ in session.requests]
    assert len(times) == 3
    assert times[1] - times[0] == pytest.approx(60) and times[2] - times[1] == pytest.approx(120)


def test_throttling_past_the_bounded_wait_fails_with_one_line():
    clock = FakeClock()
    session = RecordedSession(clock, [response(429)] * 10)
    with pytest.raises(Throttled) as raised:
        client(clock, session, max_wait_seconds=200).get(companyfacts_url(1045810), "companyfacts for NVDA")
    assert len(session.requests) == 3  # waited 60 + 120 s; a further 240 s would pass the bound
    assert "\n" not in str(raised.value) and "NVDA" in str(raised.value)


def test_throttling_waits_at_least_what_retry_after_asks():
    clock = FakeClock()
    gmt = "Sat, 05 Dec 2026 22:00:00 GMT"
    session = RecordedSession(
        clock,
        [
            response(429, headers={"Retry-After": "300"}),  # longer than the first pause (60 s)
            response(429, headers={"Retry-After": "Sat, 05 Dec 2026 22:07:30 GMT", "Date": gmt}),  # 450 s
            response(429, headers={"Retry-After": "5"}),  # shorter than the pause (240 s): the pause wins
            response(200, b"{}"),
        ],
    )
    client(clock, session, max_wait_seconds=1000).get(companyfacts_url(1045810), "companyfacts for NVDA")
    times = [t for t, _, _ in session.requests]
    assert [b - a for a, b in itertools.pairwise(times)] == pytest.approx([300, 450, 240])


def test_a_retry_after_past_the_bounded_wait_gives_up_at_once_and_says_so():
    clock = FakeClock()
    session = RecordedSession(clock, [response(429, headers={"Retry-After": "3600"})])
    with pytest.raises(Throttled) as raised:
        client(clock, session, max_wait_seconds=900).get(companyfacts_url(1045810), "companyfacts for NVDA")
    assert len(session.requests) == 1 and clock() == 1000.0  # no wait that could not be completed
    assert "gave up after waiting 0 s (SEC asked for 3600 s more)" in str(raised.value)


def test_requests_are_spaced_by_the_shared_limiter():
    clock = FakeClock()
    session = RecordedSession(clock, [response(200, b"{}")] * 5)
    sec = client(clock, session)
    for _ in range(5):
        sec.get(companyfacts_url(1045810), "companyfacts for NVDA")
    times = [t for t, _, _ in session.requests]
    assert [b - a for a, b in itertools.pairwise(times)] == pytest.approx([1 / 8] * 4)


def test_headers_identify_the_client_ask_for_gzip_and_are_conditional():
    clock = FakeClock()
    session = RecordedSession(clock, [response(304)])
    fetched = client(clock, session).get(
        companyfacts_url(1045810),
        "companyfacts for NVDA",
        {"etag": '"abc"', "last_modified": "Wed, 04 Mar 2026 10:00:00 GMT"},
    )
    _, url, headers = session.requests[0]
    assert fetched is None
    assert url == "https://data.sec.gov/api/xbrl/companyfacts/CIK0001045810.json"
    assert headers["User-Agent"] == UA and headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["If-None-Match"] == '"abc"' and headers["If-Modified-Since"].startswith("Wed")


def test_404_names_the_cik():
    clock = FakeClock()
    with pytest.raises(MissingData, match="CIK 0000000042"):
        client(clock, RecordedSession(clock, [response(404)])).get(
            companyfacts_url(42), "companyfacts for X (CIK 0000000042)"
        )


@pytest.mark.parametrize(
    "answer",
    [
        requests.Timeout(),
        requests.ConnectionError(),
        requests.exceptions.ChunkedEncodingError(),  # the connection closed before the declared length
        response(503),
        response(200, b'{"cik": 1045810, "facts": {"us-gaap": {'),  # a body cut short, whole as far as HTTP goes
    ],
    ids=["timeout", "dropped", "cut", "5xx", "truncated-json"],
)
def test_passing_faults_are_transient_and_name_the_url(answer):
    clock = FakeClock()
    with pytest.raises(TransientSourceError, match=re.escape(companyfacts_url(1))):
        client(clock, RecordedSession(clock, [answer])).get(companyfacts_url(1), "companyfacts for X")


@pytest.mark.parametrize(
    "answer",
    [
        response(403, b"<html>Forbidden</html>"),  # not the rate-limit page
        response(400),
        response(200, b""),
        response(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", {"Content-Type": "text/html"}),
    ],
    ids=["403", "400", "empty", "web-page"],
)
def test_lasting_faults_are_not_transient(answer):
    """Retrying them would only delay the same answer."""
    clock = FakeClock()
    with pytest.raises(SourceError, match="companyfacts for X") as raised:
        client(clock, RecordedSession(clock, [answer])).get(companyfacts_url(1), "companyfacts for X")
    assert not isinstance(raised.value, TransientSourceError)


class SlowSession:
    """An answer that keeps coming until released, as from a server dripping a byte at a time."""

    def __init__(self):
        self.released = threading.Event()

    def get(self, url: str, headers: dict, timeout: float) -> requests.Response:
        self.released.wait(30)
        return response(200, b"{}")


def test_the_timeout_bounds_the_whole_answer_not_each_read():
    clock = FakeClock()
    session = SlowSession()
    sec = LiveSecClient(UA, session=session, acquire=RateLimiter(8, clock=clock, sleep=clock.sleep).wait, timeout=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(
            DeadlineExceeded, match=r"companyfacts for X at https://data\.sec\.gov/\S+, gave no answer within 0\.2 s"
        ):
            sec.get(companyfacts_url(1), "companyfacts for X")
    finally:
        session.released.set()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("user_agent", [None, "", "   ", "no-email-here"])
def test_missing_user_agent_fails_before_any_request(user_agent):
    clock = FakeClock()
    session = RecordedSession(clock, [])
    with pytest.raises(MissingUserAgent, match="THESIS_SEC_USER_AGENT"):
        LiveSecClient(user_agent, session=session)
    assert session.requests == []


def test_ciks_are_padded_to_ten_digits():
    assert padded_cik(1045810) == "0001045810" and padded_cik("789019") == "0000789019"
