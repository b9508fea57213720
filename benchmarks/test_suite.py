"""How long the test suite takes: the README's pytest run, timed as a whole process, N times.

    .venv/bin/python benchmarks/test_suite.py [--runs N] [--project DIR]

--project times another checkout's suite (for example a worktree of an earlier release) with this
environment's Python; run it on an idle machine and compare medians from one sitting.
Prints one figure per line: each run's wall time and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", type=Path, default=PROJECT)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.project.resolve())}
    times = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q"], cwd=args.project, env=env, capture_output=True, text=True
        )
        times.append(time.perf_counter() - started)
        tally = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"run {run}: {times[-1]:.1f} s ({tally.strip('= ')})", flush=True)
    print(f"test suite wall time, median of {args.runs}: {statistics.median(times):.1f} s")


if __name__ == "__main__":
    main()
