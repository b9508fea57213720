"""One run at a time per data directory: DATA_DIR/run.lock, held with flock(2) for the whole run.

The kernel releases a flock when its holder exits, however it exits, so a lock left by a killed
run is free: the next run takes it over (and logs whose it was). The file names its holder (pid,
host, command, start time) for the one line a refused run prints. The holder removes the file as
it lets go; a run that locked the file in the meantime finds it unlinked and locks the new one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.runtime.errors import PipelineError
from pipeline.runtime.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2


class RunLocked(PipelineError):
    """Another run holds the data directory."""


@contextmanager
def held(settings: Settings, command: str) -> Iterator[None]:
    """Hold the data directory's run lock for the body, waiting up to settings.lock_wait_seconds."""
    path = settings.paths.lock
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = acquire(path, settings.lock_wait_seconds, settings.data_dir)
    try:
        write_holder(fd, command, settings.clock.stamp())
        yield
    finally:
        path.unlink(missing_ok=True)  # while still locked: no one can lock this file after it is gone
        os.close(fd)


def free(settings: Settings) -> bool:
    """Whether no run holds the data directory's lock, asked without taking it or making its file."""
    try:
        fd = os.open(settings.paths.lock, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def acquire(path: Path, wait: float, data_dir: Path) -> int:
    """A descriptor of `path`, flock-ed; RunLocked naming the holder once `wait` seconds pass."""
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise RunLocked(refusal(data_dir, holder, wait)) from None
            time.sleep(POLL_SECONDS)
            continue
        if is_current_file(fd, path):
            stale = read_holder(fd)
            if stale:
                log.warning("took over the run lock %s left by %s, which is no longer running", path, describe(stale))
            return fd
        os.close(fd)  # the holder removed the file as it let go: lock the one at `path` now


def is_current_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def write_holder(fd: int, command: str, started_at: dt.datetime) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started_at": started_at.isoformat(),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def read_holder(fd: int) -> dict[str, object]:
    """What the lock file says about its holder; empty while the holder has not written it yet."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def describe(holder: dict[str, object]) -> str:
    if not holder:
        return "a run that had not yet said who it is"
    return (
        f"pid {holder.get('pid')} on {holder.get('host')} (`{holder.get('command')}` since {holder.get('started_at')})"
    )


def refusal(data_dir: Path, holder: dict[str, object], wait: float) -> str:
    waited = f"waited {wait:g} s; " if wait else ""
    return (
        f"another run holds the data directory {data_dir}: {describe(holder)}; {waited}run again when it ends, "
        "or set THESIS_LOCK_WAIT_SECONDS to wait for it"
    )
