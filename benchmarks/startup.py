"""How long `thesis --version` takes as a whole process, against `python -c pass`.

    .venv/bin/python benchmarks/startup.py [--runs N]

The two run interleaved, N times each; printed: the median wall and CPU time (user + sys) of each,
and each one's peak resident memory. The goal is `thesis --version` within 0.2 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from processes import Timing, clean_environment, medians, timed

THESIS = Path(sys.executable).with_name("thesis")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    env = clean_environment()
    contenders = {"thesis --version": [str(THESIS), "--version"], "python -c pass": [sys.executable, "-c", "pass"]}
    timings: dict[str, list[Timing]] = {name: [] for name in contenders}
    for _ in range(args.runs):
        for name, command in contenders.items():
            timings[name].append(timed(command, env))
    for name, runs in timings.items():
        median = medians(runs)
        print(
            f"{name}: wall {median.wall * 1000:.0f} ms, CPU {median.cpu * 1000:.0f} ms, "
            f"peak RSS {median.peak / 2**20:.1f} MiB (medians of {args.runs})"
        )


if __name__ == "__main__":
    main()
