"""The raw zone: payloads exactly as received, each with a small metadata record beside it.

    <data_dir>/raw/prices/<TICKER>.<received UTC>.<sha8>.parquet       a yfinance frame
    <data_dir>/raw/prices/<name>.<sha8>.csv                            an imported CSV export
    <data_dir>/raw/sec/companyfacts/CIK<10 digits>.<received UTC>.<sha8>.json   SEC JSON as received
    <data_dir>/raw/sec/submissions/CIK<10 digits>[-submissions-NNN].<received UTC>.<sha8>.json
    <data_dir>/raw/sec/bulk/{companyfacts,submissions}.zip             the latest nightly bulk archives
    <data_dir>/raw/<...>/<payload file>.meta.json                      call, parameters, time, sha256
    <data_dir>/raw/_quarantine/<prices|sec/...>/<payload file>          a payload that failed, moved here
    <data_dir>/raw/_quarantine/<...>/<payload file>.meta.json           with its metadata
    <data_dir>/raw/_quarantine/<...>/<payload file>.why.txt             and a note: when, which run, why

Files are written once, beside their final name and renamed into place, and never changed (but
the bulk archives: each night's replaces the last, see pipeline/sources/bulk.py); a
payload that fails parsing or a critical expectation is moved whole to `_quarantine/`, where no
replay reads it, so it cannot block every later run.
The warehouse can be rebuilt from this folder alone (`thesis run --from <data_dir>/raw`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.runtime.errors import PayloadError, ValidationFailed
from pipeline.runtime.settings import Settings
from warehouse.files import sha256_bytes, write_atomic

if TYPE_CHECKING:  # a frame is passed in: a replay's check for nothing new imports no pandas
    import pandas as pd

META_SUFFIX = ".meta.json"
QUARANTINE = "_quarantine"
NOTE_SUFFIX = ".why.txt"
PARTS = ("prices", "sec")  # what a replay folder may hold
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayloadFile:
    path: Path
    sha256: str
    meta: Mapping[str, Any] = field(default_factory=dict)  # JSON as written beside the payload

    @property
    def ticker(self) -> str | None:
        ticker = self.meta.get("ticker")
        return str(ticker) if ticker else None

    @property
    def received_at(self) -> dt.datetime | None:
        """When it was received, as its metadata says; None for a file with none."""
        received = self.meta.get("received_at")
        return dt.datetime.fromisoformat(str(received)) if received else None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Replay order: when it was received, then by name; later payloads win on overlap."""
        return (str(self.meta.get("received_at", "")), self.path.name)


@dataclass(frozen=True)
class Loaded:
    """A payload loaded before: what it is about (`subject`: the ticker a price file stated, the
    company and kind of an SEC body) and, once a payload about the same subject received after it
    was loaded too, when it was received (`superseded_since`)."""

    subject: str | None
    superseded_since: dt.datetime | None = None

    def skips(self, payload: PayloadFile, subject: str | None) -> bool:
        """Whether `payload`, of the same bytes, need not load again: it is about the same subject
        (the same bytes under another's name are read, for the read to refuse them), and it was not
        received again after a later payload about its subject replaced its rows (then it is the
        subject's latest word, whatever its hash)."""
        again = payload.received_at
        replaced = self.superseded_since is not None and again is not None and again > self.superseded_since
        return self.subject == subject and not replaced


def loaded_payloads(rows: Iterable[tuple[str, str | None, dt.datetime | None]]) -> dict[str, Loaded]:
    """sha256 -> Loaded, from the (sha256, subject, received_at) of every payload loaded before."""
    rows = list(rows)
    latest: dict[str | None, dt.datetime] = {}
    for _, subject, received in rows:
        if received is not None and (subject not in latest or received > latest[subject]):
            latest[subject] = received
    return {
        sha: Loaded(subject, received if received is not None and latest[subject] > received else None)
        for sha, subject, received in rows
    }


def store(directory: Path, stem: str, suffix: str, data: bytes, meta: Mapping[str, object]) -> PayloadFile:
    """Store one payload and its metadata; the payload first, so a listed payload is whole."""
    digest = sha256_bytes(data)
    path = directory / f"{stem}.{digest[:8]}{suffix}"
    record = {**meta, "sha256": digest, "bytes": len(data), "file": path.name}
    write_atomic(path, data)
    write_atomic(meta_path(path), json.dumps(record, indent=2, default=str).encode())
    return PayloadFile(path, digest, record)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def store_frame(
    directory: Path, ticker: str, data: bytes, meta: Mapping[str, object], received_at: dt.datetime
) -> PayloadFile:
    """A frame as received (`data`, its parquet_bytes), named for its ticker and when it came."""
    stem = f"{ticker}.{received_at:%Y%m%dT%H%M%SZ}"
    return store(directory, stem, ".parquet", data, {**meta, "ticker": ticker, "received_at": received_at.isoformat()})


def store_copy(
    directory: Path, source: Path, data: bytes, meta: Mapping[str, object], received_at: dt.datetime
) -> PayloadFile:
    """A copy of `source`, whose bytes are `data`. The original name is kept in front: a ticker
    read from the name still reads the same."""
    return store(
        directory,
        source.name.removesuffix(source.suffix),
        source.suffix,
        data,
        {**meta, "original_path": str(source), "received_at": received_at.isoformat()},
    )


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + META_SUFFIX)


def read_payload(path: Path) -> PayloadFile:
    return PayloadFile(path, sha256_bytes(path.read_bytes()), read_meta(path))


def payload_paths(directory: Path, suffixes: Iterable[str]) -> list[Path]:
    """The payload files in `directory` with one of `suffixes`: no metadata, no hidden temporaries."""
    wanted = tuple(suffixes)
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.endswith(wanted) and not p.name.endswith(META_SUFFIX) and not p.name.startswith(".")
    )


def read_meta(path: Path) -> dict:
    sidecar = meta_path(path)
    if not sidecar.exists():
        return {}
    try:
        meta = json.loads(sidecar.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise PayloadError(f"{sidecar.name}: not a JSON object; the metadata of {path.name} is damaged")
    return meta


def list_payloads(directory: Path, suffixes: Iterable[str]) -> list[PayloadFile]:
    """Every payload in `directory` with one of `suffixes`, in replay order, duplicates dropped."""
    found = [read_payload(p) for p in payload_paths(directory, suffixes)]
    unique = {payload.sha256: payload for payload in sorted(found, key=lambda p: p.sort_key, reverse=True)}
    return sorted(unique.values(), key=lambda p: p.sort_key)


def replay_parts(folder: Path) -> tuple[str, ...]:
    """The parts (prices/, sec/) a replay folder holds; PayloadError when it holds neither, or when
    one of them is there but is no folder (it would replay as if nothing were there)."""
    for part in PARTS:
        if (folder / part).exists() and not (folder / part).is_dir():
            raise PayloadError(f"{folder / part} is a file, not a folder of payloads to replay")
    parts = tuple(part for part in PARTS if (folder / part).is_dir())
    if not parts:
        raise PayloadError(f"{folder} has neither a prices/ nor a sec/ folder to replay")
    return parts


def folder_digest(folder: Path) -> str:
    """sha256 of every file under the replay folder's parts: their paths and bytes."""
    digest = hashlib.sha256()
    for part in PARTS:
        for path in sorted(p for p in (folder / part).rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\0".encode())
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


def quarantine(raw_dir: Path, payloads: Iterable[PayloadFile], reason: str, run_id: str, at: dt.datetime) -> list[Path]:
    """Move each payload that sits in the raw zone `raw_dir` (and its metadata) to
    `raw_dir/_quarantine/`, in the same sub-folder, beside a note saying why. Payloads elsewhere (a
    replayed folder that is not this raw zone, the bundled sample) are never moved. Returns where
    the moved ones went."""
    moved = []
    for payload in payloads:
        try:
            relative = payload.path.resolve().relative_to(raw_dir.resolve())
        except ValueError:
            continue
        if relative.parts[0] == QUARANTINE:
            continue
        target = raw_dir / QUARANTINE / relative
        # The note first: a kill before the moves leaves the payload where it was, to fail again.
        write_atomic(note_path(target), f"{at.isoformat()} run {run_id}: {reason}\n".encode())
        os.replace(payload.path, target)
        if meta_path(payload.path).exists():
            os.replace(meta_path(payload.path), meta_path(target))
        log.warning("quarantined %s: %s", target, reason)
        moved.append(target)
    return moved


def quarantine_failing(
    settings: Settings,
    run_id: str,
    reason: str,
    report_path: Path,
    rows: Iterable[Mapping[str, str]],
    batch: pd.DataFrame,
    columns: Sequence[str],
    payloads: Iterable[PayloadFile],
) -> ValidationFailed:
    """The failure of a batch on critical expectations, `reason` saying which: the payloads holding
    one of the failing `rows` (identified by `columns`; the batch's `payload_sha256` says which
    payload holds each) are quarantined, those in this run's raw zone, and the error says where
    they went. The one rule of both ingest paths, prices and SEC."""
    failing = {tuple(str(r[c]) for c in columns) for r in rows}
    keys = zip(*(batch[c].astype(str) for c in columns), strict=True)
    holding = {sha for sha, key in zip(batch["payload_sha256"], keys, strict=True) if key in failing}
    moved = quarantine(
        settings.paths.raw, [p for p in payloads if p.sha256 in holding], reason, run_id, settings.clock.stamp()
    )
    return ValidationFailed(reason + quarantine_note(moved), report_path)


def quarantine_note(moved: list[Path]) -> str:
    """`; moved to DIR: a.csv, b.csv` for a failure's one line, or nothing."""
    if not moved:
        return ""
    return f"; moved to {moved[0].parent}: {', '.join(p.name for p in moved)}"


def note_path(path: Path) -> Path:
    return path.with_name(path.name + NOTE_SUFFIX)


def note_quarantined(folder: Path, part: str) -> str | None:
    """One line naming the payloads a replay of `folder` (a raw zone) skips because they are in its
    `_quarantine/<part>`, or None when there are none."""
    held = folder / QUARANTINE / part
    skipped = sorted(
        p.name
        for p in held.rglob("*")
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((META_SUFFIX, NOTE_SUFFIX))
    )
    if not skipped:
        return None
    return f"skipped {len(skipped)} quarantined payload(s) in {held} (see each {NOTE_SUFFIX}): {', '.join(skipped)}"
