"""Where SEC's nightly bulk archives come from: EDGAR live, or a replayed folder.

    companyfacts.zip   every filer's companyfacts, members CIK##########.json
    submissions.zip    every filer's submissions, members CIK##########.json and
                       CIK##########-submissions-NNN.json (older filings)

The live source streams each archive through the SEC client (pipeline/sources/sec.py: its
User-Agent, rate, judge and throttling waits) to DATA_DIR/raw/sec/bulk/<name> (with
<name>.meta.json beside it: URL, HTTP validators, sha256) and asks again conditionally,
so an unchanged nightly file (about 1.4 GB) is not downloaded again. Unlike the rest of the raw
zone each night's archive replaces the last: companyfacts and submissions are cumulative (every
fact version as filed), so the latest archive alone rebuilds the warehouse, and meta.bulk_members
records what each loaded member was. A replay reads DIR/sec/bulk/<name>.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

from pipeline.payloads.raw_zone import meta_path, read_meta
from pipeline.runtime.retry import retrying
from pipeline.runtime.settings import Settings
from pipeline.sources.http import Answer
from pipeline.sources.sec import LiveSecClient, SecWording, live_client
from warehouse.files import write_atomic, write_atomic_stream

ARCHIVES = {
    "companyfacts.zip": "https://www.sec.gov/Archives/edgar/daily-index/xbrl/companyfacts.zip",
    "submissions.zip": "https://www.sec.gov/Archives/edgar/daily-index/bulkdata/submissions.zip",
}


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
class ArchiveWording(SecWording):
    """SEC's words for an archive at a URL of the project's own, whose body must be a zip."""

    named_by: str | None = None

    def unreadable(self, answer: Answer) -> str:
        return f"SEC sent something other than a zip archive for {self.subject} at {answer.url}: nothing was kept"


@dataclass(frozen=True)
class LiveSecBulk:
    """The archives from sec.gov, each downloaded only when SEC says it changed."""

    client: LiveSecClient
    urls: Mapping[str, str] = field(default_factory=lambda: dict(ARCHIVES))
    mode: str = "live"

    def archives(self, settings: Settings) -> BulkArchives:
        found = BulkArchives()
        for name, url in self.urls.items():
            path = bulk_folder(settings.paths.raw) / name
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
        with self.client.streamed(url, ArchiveWording(f"the bulk archive {path.name}"), before) as answer:
            if answer is None:
                return False
            received_at = settings.clock.stamp()
            sha256, size = write_atomic_stream(path, answer.chunks)
        meta = {
            "source": "sec",
            "kind": "bulk",
            "url": url,
            "etag": answer.etag,
            "last_modified": answer.last_modified,
            "received_at": received_at.isoformat(),
            "sha256": sha256,
            "bytes": size,
            "file": path.name,
        }
        write_atomic(meta_path(path), json.dumps(meta, indent=2).encode())
        return True


def live_bulk(settings: Settings) -> LiveSecBulk:
    """The live source; fails at once, with no request made, when the User-Agent is not set."""
    return LiveSecBulk(live_client(settings))
