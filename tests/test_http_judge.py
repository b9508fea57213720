"""The one HTTP judge (pipeline/sources/http.py) and what its callers make of a verdict."""

from __future__ import annotations

import pytest
import requests

from pipeline.runtime.errors import MissingData, SourceError, Throttled, TransientSourceError
from pipeline.runtime.retry import retrying_each
from pipeline.sources.bulk import ArchiveWording
from pipeline.sources.http import Answer, conditional_headers, json_body, validate_response, zip_start
from pipeline.sources.sec import LiveSecClient, SecWording

URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json"
ARCHIVE = "https://www.sec.gov/Archives/edgar/daily-index/xbrl/companyfacts.zip"
SEC = SecWording("companyfacts for AAPL (CIK 0000320193)")
BULK = ArchiveWording("the bulk archive companyfacts.zip")


def answer(status: int, body: bytes = b"", url: str = URL, **headers: str) -> Answer:
    return Answer(url, status, requests.structures.CaseInsensitiveDict(headers), body)


@pytest.mark.parametrize(
    ("status", "body", "error", "line"),
    [
        (404, b"", MissingData, f"SEC has no companyfacts for AAPL (CIK 0000320193) at {URL}: check the CIK"),
        (503, b"", TransientSourceError, "SEC answered HTTP 503 for companyfacts for AAPL (CIK 0000320193)"),
        (403, b"Forbidden", SourceError, "HTTP 403 for companyfacts for AAPL (CIK 0000320193) at " + URL),
        (403, b"<p>Request Rate Threshold Exceeded</p>", Throttled, "rate-limiting this client (HTTP 403)"),
        (200, b" ", SourceError, "SEC sent an empty body"),
        (200, b"<!doctype html>", SourceError, "a web page instead of JSON"),
        (200, b'{"facts": {', TransientSourceError, "truncated or invalid JSON"),
    ],
)
def test_each_sec_answer_gets_its_verdict(status, body, error, line):
    with pytest.raises(error) as raised:
        validate_response(answer(status, body), SEC, json_body)
    assert type(raised.value) is error and line in str(raised.value) and "\n" not in str(raised.value)


def test_a_usable_answer_is_returned_and_an_unchanged_one_is_none():
    ok = answer(200, b'{"cik": 320193}')
    assert validate_response(ok, SEC, json_body) is ok
    assert validate_response(answer(304), SEC, json_body) is None


def test_throttling_carries_the_wait_the_source_asked_for():
    dated = answer(429, **{"Retry-After": "Sat, 05 Dec 2026 22:02:00 GMT", "Date": "Sat, 05 Dec 2026 22:00:00 GMT"})
    with pytest.raises(Throttled) as raised:
        validate_response(dated, SEC, json_body)
    assert raised.value.retry_after == 120.0


def test_a_refused_archive_names_only_the_user_agent_and_a_page_is_not_a_zip():
    with pytest.raises(SourceError) as refused:
        validate_response(answer(401, url=ARCHIVE), BULK, zip_start)
    assert str(refused.value).endswith(": check THESIS_SEC_USER_AGENT")
    with pytest.raises(SourceError) as page:
        validate_response(answer(200, b"<html></html>", url=ARCHIVE), BULK, zip_start)
    assert type(page.value) is SourceError and "something other than a zip archive" in str(page.value)
    assert validate_response(answer(200, b"PK\x03\x04rest", url=ARCHIVE), BULK, zip_start) is not None


def test_conditional_headers_come_from_the_validators_kept():
    assert conditional_headers(None) == {}
    assert conditional_headers({"etag": '"v1"', "last_modified": None, "sha256": "ab"}) == {"If-None-Match": '"v1"'}
    assert conditional_headers({"etag": None, "last_modified": "Wed, 04 Mar 2026 10:00:00 GMT"}) == {
        "If-Modified-Since": "Wed, 04 Mar 2026 10:00:00 GMT"
    }


def test_a_retry_waits_at_least_what_the_source_asked_for():
    waits: list[float] = []
    asked = iter([Throttled("slow down", retry_after=45.0), "bars"])
    result = retrying_each(lambda keys: {k: next(asked) for k in keys}, ["NVDA"], 2, 10.0, "Yahoo", waits.append)
    assert result == {"NVDA": "bars"} and waits == [45.0]


class StreamingSession:
    """Answers a streamed GET with a zip whose body breaks off after its first chunk."""

    def __init__(self, statuses: list[int]):
        self.statuses = statuses
        self.asked: list[dict] = []

    def get(self, url, headers, timeout, stream=False):
        self.asked.append({"headers": headers, "stream": stream})
        response = requests.Response()
        response.status_code = self.statuses.pop(0)
        response.url = url

        def chunks(size):
            yield b"PK\x03\x04first"
            raise requests.exceptions.ChunkedEncodingError("connection broken")

        response.iter_content = chunks
        response.close = lambda: None
        return response


def test_the_bulk_archive_streams_through_the_sec_client():
    """Throttling is waited out as for any SEC request, the request is conditional, and a body cut
    short is transient in the archive's words."""
    session = StreamingSession([429, 200])
    waited: list[float] = []
    client = LiveSecClient("Bulk Test bulk@example.com", session=session, acquire=lambda n: None, sleep=waited.append)
    with client.streamed(ARCHIVE, BULK, {"etag": '"n1"'}) as streamed:
        assert streamed is not None
        assert next(streamed.chunks) == b"PK\x03\x04first"
        with pytest.raises(TransientSourceError) as cut:
            next(streamed.chunks)
    assert waited == [60.0]
    assert [a["stream"] for a in session.asked] == [True, True]
    assert session.asked[0]["headers"]["If-None-Match"] == '"n1"'
    assert str(cut.value) == (
        f"SEC request for the bulk archive companyfacts.zip at {ARCHIVE} failed (ChunkedEncodingError): "
        "check the network connection"
    )
