"""A command timed as a whole process: wall time, CPU time and peak resident memory.

CPU time is user + sys from RUSAGE_CHILDREN (the child and every process it waited for), which a
busy machine inflates far less than wall time; so the benchmarks run their contenders interleaved
(A B A B) and compare medians.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds, user + sys
    peak: int  # bytes resident at most


def timed(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """Run `command` to its end; RuntimeError with its stderr where it fails."""
    with tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        # wait4: this child's own peak memory (RUSAGE_CHILDREN's is the largest of all children).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {err.read().decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def medians(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall for t in timings),
        statistics.median(t.cpu for t in timings),
        int(statistics.median(t.peak for t in timings)),
    )


def clean_environment() -> dict[str, str]:
    """This environment without THESIS_* settings or a Prefect API: the commands run as a user's
    first run would, locally."""
    return {k: v for k, v in os.environ.items() if not k.startswith("THESIS_") and k != "PREFECT_API_URL"}
