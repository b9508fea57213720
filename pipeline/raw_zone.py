"""The raw zone: payloads exactly as received, each with a small metadata record beside it.

    <data_dir>/raw/prices/<TICKER>.<received UTC>.<sha8>.parquet       a yfinance frame
    <data_dir>/raw/prices/<name>.<sha8>.csv                            an imported CSV export
    <data_dir>/raw/sec/companyfacts/CIK<10 digits>.<received UTC>.<sha8>.json   SEC JSON as received
    <data_dir>/raw/sec/submissions/CIK<10 digits>[-submissions-NNN].<received UTC>.<sha8>.json
    <data_dir>/raw/<...>/<payload file>.meta.json                      call, parameters, time, sha256

Files are written once, beside their final name and renamed into place, and never changed.
The warehouse can be rebuilt from this folder alone (`thesis run --from <data_dir>/raw`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from warehouse.files import sha256_bytes, write_atomic

META_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class PayloadFile:
    path: Path
    sha256: str
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def ticker(self) -> str | None:
        ticker = self.meta.get("ticker")
        return str(ticker) if ticker else None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Replay order: when it was received, then by name; later payloads win on overlap."""
        return (str(self.meta.get("received_at", "")), self.path.name)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def store(directory: Path, stem: str, suffix: str, data: bytes, meta: Mapping[str, object]) -> PayloadFile:
    """Store one payload and its metadata; the payload first, so a listed payload is whole."""
    digest = sha256_bytes(data)
    path = directory / f"{stem}.{digest[:8]}{suffix}"
    record = {**meta, "sha256": digest, "bytes": len(data), "file": path.name}
    write_atomic(path, data)
    write_atomic(meta_path(path), json.dumps(record, indent=2, default=str).encode())
    return PayloadFile(path, digest, record)


def store_frame(directory: Path, ticker: str, frame: pd.DataFrame, meta: Mapping[str, object]) -> PayloadFile:
    received_at = utc_now()
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    stem = f"{ticker}.{received_at:%Y%m%dT%H%M%SZ}"
    return store(
        directory,
        stem,
        ".parquet",
        buffer.getvalue(),
        {**meta, "ticker": ticker, "received_at": received_at.isoformat(), "rows": len(frame)},
    )


def store_copy(directory: Path, source: Path, meta: Mapping[str, object]) -> PayloadFile:
    # The original name is kept in front: a ticker read from the name still reads the same.
    return store(
        directory,
        source.name.removesuffix(source.suffix),
        source.suffix,
        source.read_bytes(),
        {**meta, "original_path": str(source), "received_at": utc_now().isoformat()},
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
    return json.loads(sidecar.read_text()) if sidecar.exists() else {}


def list_payloads(directory: Path, suffixes: Iterable[str]) -> list[PayloadFile]:
    """Every payload in `directory` with one of `suffixes`, in replay order, duplicates dropped."""
    found = [read_payload(p) for p in payload_paths(directory, suffixes)]
    unique = {payload.sha256: payload for payload in sorted(found, key=lambda p: p.sort_key, reverse=True)}
    return sorted(unique.values(), key=lambda p: p.sort_key)
