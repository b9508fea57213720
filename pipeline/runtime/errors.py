"""The failures the pipeline expects. Each one's message is the one line the user sees."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path


class PipelineError(Exception):
    """An expected failure: the run stops, nothing from the batch is loaded, exports stay."""


class SettingsError(PipelineError):
    """A setting, flag or flow parameter is missing or malformed."""


class SourceError(PipelineError):
    """A source could not deliver."""


class TransientSourceError(SourceError):
    """Worth retrying after a pause: throttling, a timeout, a dropped connection."""


class Throttled(TransientSourceError):
    """The source asks us to slow down; `retry_after` is how many seconds it asked for, if it said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(TransientSourceError):
    pass


class MissingData(SourceError):
    """A source answered without the data asked for (empty, partial, unknown ticker)."""


class MissingUserAgent(PipelineError):
    """SEC refuses anonymous clients; the pipeline refuses to send a request without an identity."""


class ClusterUnreachable(PipelineError):
    """The Dask scheduler the settings name does not answer."""


class SeedError(PipelineError):
    """A committed seed file (seeds/*) is missing or malformed."""


class PayloadError(PipelineError):
    """A payload file is unreadable or in no layout the pipeline knows."""


class ValidationFailed(PipelineError):
    def __init__(self, summary: str, report_path: Path):
        super().__init__(f"{summary} (report: {report_path})")
        self.summary = summary
        self.report_path = report_path


def every_one_failed(failed: Mapping[str, PipelineError], said: str) -> PipelineError:
    """One line for a batch where every item failed (no ticker brought prices, no company or bulk
    member loaded): the first item's error, then `said`, then the others named."""
    first, *others = failed
    error = failed[first]
    named = ", ".join(others[:10]) + (f" and {len(others) - 10:,} more" if len(others) > 10 else "")
    tail = f"; {said}" + (f" ({named} failed too)" if others else "")
    if isinstance(error, ValidationFailed):
        return ValidationFailed(error.summary + tail, error.report_path)
    return type(error)(f"{error}{tail}")


# What to do about a file system refusal, by errno: the advice of the one line the user sees.
_ADVICE = {
    errno.EACCES: "check the path's permissions",
    errno.EPERM: "check the path's permissions",
    errno.EROFS: "it lies on a read-only file system: choose a writable data directory",
    errno.ELOOP: "a symbolic link on the way points back at itself: remove the loop",
    errno.ENAMETOOLONG: "choose a shorter data directory path",
    errno.ENOTDIR: "a file stands where a folder is needed: move it away",
    errno.EISDIR: "a folder stands where a file is needed: move it away",
    errno.EEXIST: "a file stands where a folder is needed: move it away",
    errno.ENOSPC: "free some space",
}


def path_problem(exc: OSError) -> str | None:
    """One line for a file system refusal the pipeline foresees (permissions, a read-only file
    system, a symlink loop, a name too long, a file where a folder belongs), or None."""
    advice = _ADVICE.get(exc.errno or 0)
    if advice is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or os.strerror(exc.errno or 0)}: {advice}"


# How DuckDB words a write refused for want of space, with the file it was writing.
_NO_SPACE = re.compile(r'(?:"([^"]+)": )?No space left on device')


def storage_problem(exc: BaseException) -> str | None:
    """One line for a failure of the disk the pipeline foresees: a file system refusal
    (`path_problem`), or a full disk met by DuckDB while it wrote the working database or an
    export; else None."""
    if isinstance(exc, OSError):
        return path_problem(exc)
    full = _NO_SPACE.search(str(exc))
    if full is None:
        return None
    where = f"{full[1]}: " if full[1] else ""
    return f"{where}{os.strerror(errno.ENOSPC)}: {_ADVICE[errno.ENOSPC]}"
