"""How long the checks take: `make check` (lint, types and the tests not marked slow) and the whole
pytest suite (what `make test` runs after the same checks), each timed as a whole process, N times.

    .venv/bin/python benchmarks/test_suite.py [--runs N] [--project DIR] [--only check|suite] [TEST ...]

--project times another checkout's suite (for example a worktree of an earlier release) with this
environment's Python (`make check` there uses that checkout's .venv); run it on an idle machine
and compare medians from one sitting. The two commands are interleaved (check, suite, check,
suite, ...), so a machine that gets busier part-way weighs on both alike. mypy's cache
(.mypy_cache) is kept: after the first run a check finds it warm, as it is while developing.
TEST paths (pytest's own) time part of the suite, on a machine too busy for all of it.

Prints one line per run (wall time, CPU time of the processes it started, pytest's tally), then
each command's medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "check": ["make", "--no-print-directory", "check"],
    "suite": [sys.executable, "-m", "pytest", "-q"],
}


def children_cpu() -> float:
    """User and system CPU seconds of every finished child process so far (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], project: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, pytest's last line) of one run of `command` in `project`."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    tally = (done.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    if done.returncode != 0:
        tally = f"exit {done.returncode}: {tally}"
    return wall, children_cpu() - cpu, tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", type=Path, default=PROJECT)
    parser.add_argument("--only", choices=sorted(COMMANDS), action="append", help="time only this command")
    parser.add_argument("tests", nargs="*", help="the suite's tests to run (all by default)")
    args = parser.parse_args()
    project = args.project.resolve()
    env = {**os.environ, "PYTHONPATH": str(project)}
    names = args.only or list(COMMANDS)
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for run in range(1, args.runs + 1):
        for name in names:
            command = [*COMMANDS[name], *args.tests] if name == "suite" else COMMANDS[name]
            wall, cpu, tally = timed(command, project, env)
            figures[name].append((wall, cpu))
            print(f"{name} run {run}: {wall:.1f} s wall, {cpu:.1f} s CPU ({tally})", flush=True)
    for name in names:
        walls, cpus = zip(*figures[name], strict=True)
        print(
            f"{name}: median of {args.runs}: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU"
        )


if __name__ == "__main__":
    main()
