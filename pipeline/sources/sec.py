"""SEC EDGAR over HTTP: the client interface, the live client and a recorded one.

Every live request carries the declared User-Agent, goes through one process-wide rate limiter,
and is conditional when validators from an earlier fetch are known. SEC answers overload with
403 "Request Rate Threshold Exceeded" or 429; retrying at once extends the block, so the client
waits with growing pauses and fails after a bounded total wait.

Each answer is judged by pipeline/sources/http.py in SEC's words (`SecWording`): a timeout, a
dropped connection, a 5xx or a body that is not whole JSON is transient (the caller retries it);
a 404, another 4xx, an empty body or a web page in place of JSON fails at once. The nightly bulk
archives (pipeline/sources/bulk.py) are streamed through the same client.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import requests

from pipeline.runtime.errors import MissingUserAgent, SourceError, Throttled
from pipeline.runtime.rate_limit import RateLimit, local_limiter
from pipeline.runtime.settings import Settings
from pipeline.sources.deadline import call_with_deadline
from pipeline.sources.http import (
    Answer,
    BodyCheck,
    conditional_headers,
    json_body,
    unanswered,
    validate_response,
    zip_start,
)

BASE_URL = "https://data.sec.gov"
KINDS = ("companyfacts", "submissions")
THROTTLE_FIRST_PAUSE_SECONDS = 60.0
SEC_RATE = "sec-edgar"  # the name of SEC's request rate, shared by every worker of a run
USER_AGENT = re.compile(r"\S.*\s\S+@\S+\.\S+")  # "Name email"
CIK_SEED = "the CIK in seeds/companies.csv"
CHUNK_BYTES = 1 << 20  # a streamed body is read and written a MiB at a time


def padded_cik(cik: int | str) -> str:
    return f"{int(cik):010d}"


def companyfacts_url(cik: int | str) -> str:
    return f"{BASE_URL}/api/xbrl/companyfacts/CIK{padded_cik(cik)}.json"


def submissions_url(cik: int | str) -> str:
    return f"{BASE_URL}/submissions/CIK{padded_cik(cik)}.json"


def archive_url(name: str) -> str:
    """An older-filings file named in submissions `filings.files`, e.g. CIK0001045810-submissions-001.json."""
    return f"{BASE_URL}/submissions/{name}"


def require_user_agent(user_agent: str | None) -> str:
    if not user_agent or not USER_AGENT.fullmatch(user_agent.strip()):
        got = "it is not set" if not user_agent else "its value is not of that form"
        raise MissingUserAgent(
            "THESIS_SEC_USER_AGENT must be set to 'Name email' (SEC refuses anonymous "
            f"clients); {got}; no request was made"
        )
    return user_agent.strip()


@dataclass(frozen=True)
class SecWording:
    """SEC's one line for each verdict on `subject` (e.g. "companyfacts for NVDA (CIK 0001045810)").
    `named_by` is what the user wrote that chose the URL, to check when SEC has nothing there;
    None for a URL of the project's own."""

    subject: str
    named_by: str | None = CIK_SEED

    @property
    def check(self) -> str:
        return "check THESIS_SEC_USER_AGENT" + (f" and {self.named_by}" if self.named_by else "")

    def unanswered(self, url: str, exc: BaseException) -> str:
        return f"SEC request for {self.subject} at {url} failed ({type(exc).__name__}): check the network connection"

    def throttled(self, answer: Answer) -> str:
        return f"SEC is rate-limiting this client (HTTP {answer.status}) while fetching {self.subject}"

    def not_found(self, answer: Answer) -> str:
        return f"SEC has no {self.subject} at {answer.url}" + (f": check {self.named_by}" if self.named_by else "")

    def server_error(self, answer: Answer) -> str:
        return f"SEC answered HTTP {answer.status} for {self.subject} at {answer.url}"

    def refused(self, answer: Answer) -> str:
        return f"SEC answered HTTP {answer.status} for {self.subject} at {answer.url}: {self.check}"

    def empty(self, answer: Answer) -> str:
        return f"SEC sent an empty body for {self.subject} at {answer.url}: nothing to load; try again later"

    def web_page(self, answer: Answer) -> str:
        return f"SEC sent a web page instead of JSON for {self.subject} at {answer.url}: {self.check}"

    def unreadable(self, answer: Answer) -> str:
        return f"SEC sent a truncated or invalid JSON body for {self.subject} at {answer.url}"


@dataclass(frozen=True)
class Fetched:
    """A 200 answer: the body as received (decompressed) and the validators for the next fetch."""

    url: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Streamed:
    """A 200 answer whose body is read as it is consumed: its chunks and the validators."""

    url: str
    chunks: Iterator[bytes]
    etag: str | None = None
    last_modified: str | None = None


class SecClient(Protocol):
    def get(self, url: str, subject: str, validators: Mapping[str, str | None] | None = None) -> Fetched | None:
        """The body at `url`, or None when the server says it has not changed since `validators`.

        `subject` names what was asked for (e.g. "companyfacts for CIK 0001045810") in errors.
        """
        ...

    def rate_limited(self, acquire: Callable[[int], None]) -> SecClient:
        """This client, its requests taken from `acquire`: the rate every worker of a run shares."""
        ...


class LiveSecClient:
    """requests against SEC, rate-limited, conditional, with throttling waited out."""

    def __init__(
        self,
        user_agent: str | None,
        per_second: float = 8.0,
        timeout: float = 30.0,
        max_wait_seconds: float = 900.0,
        session: requests.Session | None = None,
        acquire: Callable[[int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.user_agent = require_user_agent(user_agent)  # before any session or request exists
        self.session = session or requests.Session()
        # One request rate for every client of the process, or, through rate_limited(), of a run.
        self.acquire = acquire or local_limiter(RateLimit(SEC_RATE, per_second))
        self.timeout = timeout
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep

    def rate_limited(self, acquire: Callable[[int], None]) -> LiveSecClient:
        """This client, its requests taken from `acquire` (a run's shared rate: pipeline/runtime/steps.py)."""
        limited = copy.copy(self)
        limited.acquire = acquire
        return limited

    def headers(self, validators: Mapping[str, str | None] | None) -> dict[str, str]:
        return {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"} | conditional_headers(validators)

    def get(self, url: str, subject: str, validators: Mapping[str, str | None] | None = None) -> Fetched | None:
        answered = self.answered(url, SecWording(subject), validators, json_body, stream=False)
        if answered is None:
            return None
        response, answer, _ = answered
        return Fetched(url, answer.body, response.headers.get("ETag"), response.headers.get("Last-Modified"))

    @contextmanager
    def streamed(
        self, url: str, wording: SecWording, validators: Mapping[str, str | None] | None = None
    ) -> Iterator[Streamed | None]:
        """A zip archive at `url` read as it is consumed, or None when unchanged since `validators`;
        the connection is closed on leaving. The deadline bounds the answer and its first chunk; the
        timeout then bounds each read, not the whole body (an archive takes minutes). A body cut
        short is transient, in `wording`'s words."""
        answered = self.answered(url, wording, validators, zip_start, stream=True)
        if answered is None:
            yield None
            return
        response, answer, rest = answered

        def chunks() -> Iterator[bytes]:
            yield answer.body
            try:
                yield from rest
            except requests.RequestException as exc:
                raise unanswered(url, exc, wording) from None

        with response:
            yield Streamed(url, chunks(), response.headers.get("ETag"), response.headers.get("Last-Modified"))

    def answered(
        self, url: str, wording: SecWording, validators: Mapping[str, str | None] | None, body: BodyCheck, stream: bool
    ) -> tuple[requests.Response, Answer, Iterator[bytes]] | None:
        """The usable answer at `url` (None for a 304), throttling waited out: never sooner than SEC
        asks (Retry-After), since asking early extends its block, and at most `max_wait_seconds`."""
        waited, pause = 0.0, THROTTLE_FIRST_PAUSE_SECONDS
        while True:
            self.acquire(1)
            response, answer, rest = self.fetch(url, wording, validators, stream)
            try:
                usable = validate_response(answer, wording, body)
            except Throttled as exc:
                throttled: Throttled | None = exc
            except SourceError:
                close(response, stream)
                raise
            else:
                if usable is not None:
                    return response, answer, rest
                throttled = None
            close(response, stream)
            if throttled is None:
                return None
            wait = max(pause, throttled.retry_after or 0.0)
            if waited + wait > self.max_wait_seconds:
                raise Throttled(
                    f"{throttled}; gave up after waiting {waited:g} s"
                    + (f" (SEC asked for {wait:g} s more)" if wait > pause else "")
                    + ". Try again in about 10 minutes."
                )
            self.sleep(wait)
            waited += wait
            pause *= 2

    def fetch(
        self, url: str, wording: SecWording, validators: Mapping[str, str | None] | None, stream: bool
    ) -> tuple[requests.Response, Answer, Iterator[bytes]]:
        """One GET and its body (a streamed one's first chunk, the rest to follow), read within
        `timeout` seconds. requests' own timeout bounds each socket read only: a server dripping
        a byte at a time would hold the request for minutes."""

        def request() -> tuple[requests.Response, Answer, Iterator[bytes]]:
            headers = self.headers(validators)
            response = (
                self.session.get(url, headers=headers, timeout=self.timeout, stream=True)
                if stream
                else self.session.get(url, headers=headers, timeout=self.timeout)
            )
            rest = response.iter_content(CHUNK_BYTES) if stream else iter(())
            body = next(rest, b"") if stream else response.content
            return response, Answer(url, response.status_code, response.headers, body), rest

        try:
            return call_with_deadline(request, self.timeout, f"SEC, asked for {wording.subject} at {url},")
        except requests.RequestException as exc:  # no answer, a dropped connection, a body cut short
            raise unanswered(url, exc, wording) from None


def close(response: requests.Response, stream: bool) -> None:
    """A streamed answer not handed on is closed, its connection back in the pool (a whole one
    already is)."""
    if stream:
        response.close()


def live_client(settings: Settings) -> LiveSecClient:
    """The live client as the settings configure it; fails at once, with no request made, when the
    User-Agent is not set."""
    return LiveSecClient(
        settings.user_agent,
        settings.sec_requests_per_second,
        settings.sec_timeout_seconds,
        settings.sec_max_wait_seconds,
    )


@dataclass
class RecordedSecClient:
    """Answers from files recorded earlier, laid out like a replay folder: DIR/<kind>/<file name>.

    A URL whose file is absent is a 404, as SEC would answer.
    """

    directory: Path
    calls: list[str] = field(default_factory=list)

    def rate_limited(self, acquire: Callable[[int], None]) -> RecordedSecClient:
        return self  # recorded answers are not rate-limited

    def get(self, url: str, subject: str, validators: Mapping[str, str | None] | None = None) -> Fetched | None:
        self.calls.append(url)
        kind = "companyfacts" if "/companyfacts/" in url else "submissions"
        path = self.directory / kind / url.rsplit("/", 1)[-1]
        if not path.is_file():  # judged as SEC's own 404 would be
            validate_response(Answer(url, 404, {}, b""), SecWording(subject), json_body)
        return Fetched(url, path.read_bytes())
