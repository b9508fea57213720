"""Writing files so that no reader ever sees half of one, and sweeping up what a killed writer left."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

# temporary_beside's names, and the WAL DuckDB keeps beside such a file while it writes it.
TEMPORARY = re.compile(r"\..+\.tmp-\d+(\.wal)?")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temporary_beside(path: Path) -> Path:
    """A hidden name next to `path` for this process: written, then renamed over `path`."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside `path`, then rename into place, so no reader sees half a file."""
    write_atomic_stream(path, [data])


def write_atomic_stream(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    """write_atomic for a body that arrives in chunks (a download larger than memory); an error
    raised by `chunks` leaves `path` as it was. Returns the body's sha256 and size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    digest, size = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def remove_temporaries(root: Path) -> list[Path]:
    """Delete every temporary_beside file or folder under `root`: what a killed writer left. Only
    for a caller that knows no writer is at work there (one holding the run lock)."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in [n for n in (*dirs, *files) if TEMPORARY.fullmatch(n)]:
            path = Path(folder) / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                dirs.remove(name)
            else:
                path.unlink(missing_ok=True)
            found.append(path)
    return found
