"""Every HTTP answer of every source judged one way: usable, worth asking again, or a failure.

The shape is the meltano SDK's RESTStream.validate_response: one function takes the answer (its
status, headers and body) and returns it when it is usable, or raises the project's error:
TransientSourceError when asking again may succeed (a 5xx, a body cut short, no answer at all),
Throttled when the source asks us to slow down (carrying the Retry-After it asked for, which
pipeline/runtime/retry.py and the SEC client honour), and SourceError or MissingData, the one line saying
what to do, when asking again would only bring the same answer. What differs between Yahoo, the
SEC API and the SEC bulk archives is only how each words a verdict (`Wording`) and what its body
must be (`json_body`, `zip_start`, or a source's own check built on them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol

from pipeline.runtime.errors import MissingData, SourceError, Throttled, TransientSourceError

# SEC answers overload with a 403 carrying this page as often as with a 429.
RATE_LIMIT_PAGE = "Request Rate Threshold Exceeded"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Answer:
    """What a source answered, whichever HTTP library received it. `headers` is the library's own
    case-insensitive mapping; `body` is the whole body, or a streamed answer's first chunk."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class Wording(Protocol):
    """One source's one line for each verdict, for one request."""

    def unanswered(self, url: str, exc: BaseException) -> str: ...  # no answer, a dropped connection
    def throttled(self, answer: Answer) -> str: ...
    def not_found(self, answer: Answer) -> str: ...
    def server_error(self, answer: Answer) -> str: ...
    def refused(self, answer: Answer) -> str: ...  # any other 4xx
    def empty(self, answer: Answer) -> str: ...
    def web_page(self, answer: Answer) -> str: ...
    def unreadable(self, answer: Answer) -> str: ...  # a body that is not what the endpoint sends


# A check of a 200's body: returns what it read, raises the verdict on one that is not usable.
BodyCheck = Callable[[Answer, Wording], object]


def validate_response(
    answer: Answer, wording: Wording, body: BodyCheck, passes: frozenset[int] = frozenset()
) -> Answer | None:
    """`answer` when usable, None when the server says it has not changed (304); else the error
    it means. Statuses in `passes` are returned unjudged: a library that answers them itself."""
    status = answer.status
    if status == 304:
        return None
    if is_throttled(answer):
        raise Throttled(wording.throttled(answer), retry_after(answer.headers))
    if status == 404:
        raise MissingData(wording.not_found(answer))
    if status >= 500:
        raise TransientSourceError(wording.server_error(answer))
    if status in passes:
        return answer
    if status != 200:
        raise SourceError(wording.refused(answer))
    body(answer, wording)
    return answer


def unanswered(url: str, exc: BaseException, wording: Wording) -> TransientSourceError:
    """The error for a request that got no whole answer: worth asking again."""
    return TransientSourceError(wording.unanswered(url, exc))


def json_body(answer: Answer, wording: Wording) -> object:
    """The JSON document a 200 holds. An empty body or a web page will not change by asking again;
    a body cut short (or nested deeper than any real answer) may be whole next time."""
    if not answer.body.strip():
        raise SourceError(wording.empty(answer))
    if answer.content_type.startswith("text/html") or answer.body.lstrip()[:1] == b"<":
        raise SourceError(wording.web_page(answer))
    try:
        return json.loads(answer.body)
    except (ValueError, RecursionError):
        raise TransientSourceError(wording.unreadable(answer)) from None


def zip_start(answer: Answer, wording: Wording) -> None:
    """A streamed 200 whose first chunk starts a zip archive; anything else (a web page, nothing)
    fails before a byte of it is kept."""
    if not answer.body.startswith(ZIP_MAGIC):
        raise SourceError(wording.unreadable(answer))


def is_throttled(answer: Answer) -> bool:
    return answer.status == 429 or (answer.status == 403 and RATE_LIMIT_PAGE.lower().encode() in answer.body.lower())


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds a `Retry-After` header asks for: a number, or an HTTP date measured from the
    answer's own `Date` (no clock of ours is involved); None when absent or unreadable."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        until, sent = parsedate_to_datetime(value), parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return max((until - sent).total_seconds(), 0.0)


def conditional_headers(validators: Mapping[str, object] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the validators an earlier answer sent (its ETag and
    Last-Modified), so an unchanged resource comes back as a bodiless 304."""
    validators = validators or {}
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = str(validators["etag"])
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = str(validators["last_modified"])
    return headers
