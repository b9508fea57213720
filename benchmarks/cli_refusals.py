"""How fast `thesis` refuses bad input: each case timed as a whole process, median of N.

    .venv/bin/python benchmarks/cli_refusals.py [--runs N]

Each refusal must come in one line before any warehouse, raw zone or orchestrator is touched;
the target is under 2 s on a loaded 2-core machine. Prints one figure per line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THESIS = Path(sys.executable).with_name("thesis")
CASES = {
    "--from /nonexistent": (["run", "--from", "/nonexistent"], {}),
    "live run without THESIS_SEC_USER_AGENT": (["run"], {}),
    "THESIS_ANCHOR_DATE=soon": (["run", "--sample"], {"THESIS_ANCHOR_DATE": "soon"}),
    "a ticker the replay does not hold": (["run", "--sample", "--tickers", "NVDX"], {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("THESIS_", "PREFECT_API_URL"))}
    for name, (argv, env) in CASES.items():
        times = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                data = Path(tmp) / "var"
                started = time.perf_counter()
                done = subprocess.run(
                    [str(THESIS), *argv, "--data-dir", str(data)], capture_output=True, text=True, env={**base, **env}
                )
                times.append(time.perf_counter() - started)
                assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and not data.exists(), done
        print(f"refusal, {name}: {statistics.median(times):.2f} s (median of {args.runs})")


if __name__ == "__main__":
    main()
