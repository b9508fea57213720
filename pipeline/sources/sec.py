"""SEC EDGAR over HTTP: the client interface, the live client and a recorded one.

Every live request carries the declared User-Agent, goes through one process-wide rate limiter,
and is conditional when validators from an earlier fetch are known. SEC answers overload with
403 "Request Rate Threshold Exceeded" or 429; retrying at once extends the block, so the client
waits with growing pauses and fails after a bounded total wait.

Each answer is judged here: a timeout, a dropped connection, a 5xx or a body that is not whole
JSON is transient (the caller retries it); a 404, another 4xx, an empty body or a web page in
place of JSON fails at once.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import requests

from pipeline.errors import MissingData, MissingUserAgent, SourceError, Throttled, TransientSourceError
from pipeline.rate_limit import RateLimit, local_limiter
from pipeline.sources.deadline import call_with_deadline

BASE_URL = "https://data.sec.gov"
KINDS = ("companyfacts", "submissions")
THROTTLE_FIRST_PAUSE_SECONDS = 60.0
RATE_LIMIT_PAGE = "Request Rate Threshold Exceeded"
SEC_RATE = "sec-edgar"  # the name of SEC's request rate, shared by every worker of a run
USER_AGENT = re.compile(r"\S.*\s\S+@\S+\.\S+")  # "Name email"


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
class Fetched:
    """A 200 answer: the body as received (decompressed) and the validators for the next fetch."""

    url: str
    body: bytes
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
    """requests against data.sec.gov, rate-limited, conditional, with throttling waited out."""

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
        """This client, its requests taken from `acquire` (a run's shared rate: pipeline/steps.py)."""
        limited = copy.copy(self)
        limited.acquire = acquire
        return limited

    def headers(self, validators: Mapping[str, str | None] | None) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = str(validators["etag"])
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = str(validators["last_modified"])
        return headers

    def get(self, url: str, subject: str, validators: Mapping[str, str | None] | None = None) -> Fetched | None:
        waited, pause = 0.0, THROTTLE_FIRST_PAUSE_SECONDS
        while True:
            self.acquire(1)
            response = self.fetch(url, subject, validators)
            if not is_throttled(response):
                return answer(response, url, subject)
            # Never sooner than SEC asks (Retry-After): asking early extends its block.
            wait = max(pause, retry_after(response) or 0.0)
            if waited + wait > self.max_wait_seconds:
                raise Throttled(
                    f"SEC is rate-limiting this client (HTTP {response.status_code}) while fetching "
                    f"{subject}; gave up after waiting {waited:g} s"
                    + (f" (SEC asked for {wait:g} s more)" if wait > pause else "")
                    + ". Try again in about 10 minutes."
                )
            self.sleep(wait)
            waited += wait
            pause *= 2

    def fetch(self, url: str, subject: str, validators: Mapping[str, str | None] | None) -> requests.Response:
        """One GET, its body read whole within `timeout` seconds. requests' own timeout bounds each
        socket read only: a server dripping a byte at a time would hold the request for minutes."""
        try:
            return call_with_deadline(
                lambda: self.session.get(url, headers=self.headers(validators), timeout=self.timeout),
                self.timeout,
                f"SEC, asked for {subject} at {url},",
            )
        except requests.RequestException as exc:  # no answer, a dropped connection, a body cut short
            raise TransientSourceError(
                f"SEC request for {subject} at {url} failed ({type(exc).__name__}): check the network connection"
            ) from None


def retry_after(response: requests.Response) -> float | None:
    """The seconds a `Retry-After` header asks for: a number, or an HTTP date measured from the
    answer's own `Date` (no clock of ours is involved); None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        until, sent = parsedate_to_datetime(value), parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return max((until - sent).total_seconds(), 0.0)


def is_throttled(response: requests.Response) -> bool:
    return response.status_code == 429 or (
        response.status_code == 403 and RATE_LIMIT_PAGE.lower() in response.text.lower()
    )


def not_found(url: str, subject: str) -> MissingData:
    return MissingData(f"SEC has no {subject} at {url}: check the CIK in seeds/companies.csv")


def answer(response: requests.Response, url: str, subject: str) -> Fetched | None:
    status = response.status_code
    if status == 304:
        return None
    if status == 404:
        raise not_found(url, subject)
    if status >= 500:
        raise TransientSourceError(f"SEC answered HTTP {status} for {subject} at {url}")
    if status != 200:
        raise SourceError(
            f"SEC answered HTTP {status} for {subject} at {url}: check THESIS_SEC_USER_AGENT and the CIK "
            "in seeds/companies.csv"
        )
    check_body(response, url, subject)
    return Fetched(url, response.content, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def check_body(response: requests.Response, url: str, subject: str) -> None:
    """A 200 whose body is whole JSON; one cut short is transient, an empty one or a web page is not."""
    body = response.content
    if not body.strip():
        raise SourceError(f"SEC sent an empty body for {subject} at {url}: nothing to load; try again later")
    if response.headers.get("Content-Type", "").startswith("text/html") or body.lstrip()[:1] == b"<":
        raise SourceError(
            f"SEC sent a web page instead of JSON for {subject} at {url}: check THESIS_SEC_USER_AGENT and the CIK "
            "in seeds/companies.csv"
        )
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than any SEC payload
        raise TransientSourceError(f"SEC sent a truncated or invalid JSON body for {subject} at {url}") from None


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
        if not path.is_file():
            raise not_found(url, subject)
        return Fetched(url, path.read_bytes())
