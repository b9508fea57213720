"""Where SEC's nightly bulk archives come from: EDGAR live, or a replayed folder.

    companyfacts.zip   every filer's companyfacts, members CIK##########.json
    submissions.zip    every filer's submissions, members CIK##########.json and
                       CIK##########-submissions-NNN.json (older filings)

The live source streams each archive to DATA_DIR/raw/sec/bulk/<name> (with <name>.meta.json
beside it: URL, HTTP validators, sha256) and asks again with If-None-Match / If-Modified-Since,
so an unchanged nightly file (about 1.4 GB) is not downloaded again. Unlike the rest of the raw
zone each night's archive replaces the last: companyfacts and submissions are cumulative (every
fact version as filed), so the latest archive alone rebuilds the warehouse, and meta.bulk_members
records what each loaded member was. A replay reads DIR/sec/bulk/<name>.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import requests

from pipeline.errors import SourceError, Throttled, TransientSourceError
from pipeline.rate_limit import RateLimit, local_limiter
from pipeline.raw_zone import meta_path, read_meta
from pipeline.retry import retrying
from pipeline.settings import Settings
from pipeline.sources.sec import SEC_RATE, is_throttled, not_found, require_user_agent
from warehouse.files import write_atomic, write_atomic_stream

ARCHIVES = {
    "companyfacts.zip": "https://www.sec.gov/Archives/edgar/daily-index/xbrl/companyfacts.zip",
    "submissions.zip": "https://www.sec.gov/Archives/edgar/daily-index/bulkdata/submissions.zip",
}
CHUNK_BYTES = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class BulkArchives:
    """The archives of this run (archive name -> the local zip) and notes worth a log line."""

    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class BulkSource(Protocol):
    @property
    def mode(self) -> str: ...  # read-only: a frozen dataclass's field satisfies it

    def archives(self, settings: Settings) -> BulkArchives:
        """The bulk archives to read, on local disk."""
        ...


def bulk_folder(directory: Path) -> Path:
    """Where a raw zone (or a replay folder) keeps the bulk archives."""
    return directory / "sec" / "bulk"


@dataclass(frozen=True)
class ReplaySecBulk:
    """DIR/sec/bulk/companyfacts.zip and DIR/sec/bulk/submissions.zip, whichever are there."""

    directory: Path
    mode: str = "replay"

    def archives(self, settings: Settings) -> BulkArchives:
        folder = bulk_folder(self.directory)
        found = BulkArchives({name: folder / name for name in ARCHIVES if (folder / name).is_file()})
        found.notes += [
            f"{folder} has no {name}: nothing from it to replay" for name in ARCHIVES if name not in found.paths
        ]
        return found


@dataclass(frozen=True)
class LiveSecBulk:
    """The archives from sec.gov, each downloaded only when SEC says it changed."""

    user_agent: str
    urls: Mapping[str, str] = field(default_factory=lambda: dict(ARCHIVES))
    mode: str = "live"

    def archives(self, settings: Settings) -> BulkArchives:
        found = BulkArchives()
        for name, url in self.urls.items():
            path = bulk_folder(settings.raw_dir) / name
            fresh = retrying(
                partial(self.download, url, path, settings),
                settings.fetch_retries,
                settings.retry_backoff_seconds,
                f"SEC bulk archive {name}",
                retry_throttled=False,
            )
            if not fresh:
                found.notes.append(f"{name}: unchanged at {url} since it was downloaded to {path}")
            found.paths[name] = path
        return found

    def download(self, url: str, path: Path, settings: Settings) -> bool:
        """Stream `url` to `path` unless the copy there is current (HTTP 304); True when downloaded."""
        before = read_meta(path) if path.is_file() else {}
        headers = {"User-Agent": self.user_agent}
        if before.get("etag"):
            headers["If-None-Match"] = str(before["etag"])
        if before.get("last_modified"):
            headers["If-Modified-Since"] = str(before["last_modified"])
        local_limiter(RateLimit(SEC_RATE, settings.sec_requests_per_second))(1)  # two requests a night
        subject = f"the bulk archive {path.name}"
        try:
            # The timeout bounds each socket read, not the whole body: the archive takes minutes.
            with requests.get(url, headers=headers, stream=True, timeout=settings.sec_timeout_seconds) as response:
                if response.status_code == 304:
                    return False
                judge(response, url, subject)
                received_at = settings.clock.stamp()
                sha256, size = write_atomic_stream(path, zip_chunks(response, url, subject))
        except requests.RequestException as exc:  # no answer, a dropped connection, a body cut short
            raise TransientSourceError(
                f"SEC request for {subject} at {url} failed ({type(exc).__name__}): check the network connection"
            ) from None
        meta = {
            "source": "sec",
            "kind": "bulk",
            "url": url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "received_at": received_at.isoformat(),
            "sha256": sha256,
            "bytes": size,
            "file": path.name,
        }
        write_atomic(meta_path(path), json.dumps(meta, indent=2).encode())
        return True


def judge(response: requests.Response, url: str, subject: str) -> None:
    """Nothing for a 200; otherwise the error the answer means (throttling is not retried: SEC's
    block lasts about 10 minutes and retrying early extends it)."""
    status = response.status_code
    if status in (403, 429) and is_throttled(response):
        raise Throttled(
            f"SEC is rate-limiting this client (HTTP {status}) for {subject}; try again in about 10 minutes"
        )
    if status == 404:
        raise not_found(url, subject)
    if status >= 500:
        raise TransientSourceError(f"SEC answered HTTP {status} for {subject} at {url}")
    if status != 200:
        raise SourceError(f"SEC answered HTTP {status} for {subject} at {url}: check THESIS_SEC_USER_AGENT")


def zip_chunks(response: requests.Response, url: str, subject: str) -> Iterator[bytes]:
    """The body in chunks; a body that does not start as a zip (a web page) fails before it is kept."""
    chunks = response.iter_content(CHUNK_BYTES)
    first = next(chunks, b"")
    if not first.startswith(ZIP_MAGIC):
        raise SourceError(f"SEC sent something other than a zip archive for {subject} at {url}: nothing was kept")
    yield first
    yield from chunks


def live_bulk(settings: Settings) -> LiveSecBulk:
    """The live source; fails at once, with no request made, when the User-Agent is not set."""
    return LiveSecBulk(require_user_agent(settings.user_agent))
