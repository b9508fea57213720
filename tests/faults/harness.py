"""What every fault case checks, and how it is counted in the suite's tally.

A fault case runs the pipeline into a fault (a bad file, a failing server, a kill, a second run)
and then asserts, through these helpers, that:
- the command refused the input (`refused`) with one `thesis: error:` line saying what to do, no
  traceback, no library noise and no "unexpected" (`one_clean_line`);
- nothing published changed (`unchanged`), and the next good run completes (`next_run_completes`);
- no command ran into the harness's own time bound (`thesis`).

Each helper records what went wrong where it sees it, in the test's user_properties; tests/conftest.py
sums them over every worker at the end of the run: `faults: N tried, N clean, 0 silently accepted,
0 unexpected, 0 hangs, 0 published files changed, 0 next runs failed, 0 tracebacks`, then the
cases per category (tests/faults/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
NOISE = ("Traceback", "nanobind", "Warning:", "Exception ignored", "leaked")


# What a case can record, and how the tally names it (tests/conftest.py prints them in this order).
OUTCOMES = {
    "accepted": "silently accepted",  # a bad input the command took: exit 0
    "unexpected": "unexpected",  # the line calls the fault unexpected: nobody foresaw it
    "hang": "hangs",  # a command ran into the harness's time bound
    "lost": "published files changed",
    "next failed": "next runs failed",  # the good run after the fault did not complete
    "traceback": "tracebacks",  # noise, or more than one line, reached the user
}


def record(request: pytest.FixtureRequest, key: str) -> None:
    """Mark this case with one of OUTCOMES."""
    assert key in OUTCOMES, key
    request.node.user_properties.append(("fault", key))


def snapshot(directory: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under `directory` (what a reader could open)."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def unchanged(request: pytest.FixtureRequest, before: Mapping[str, str], directory: Path) -> None:
    after = snapshot(directory)
    if after != before:
        record(request, "lost")
    assert after == before, f"published files changed under {directory}"


def one_clean_line(request: pytest.FixtureRequest, stderr: str, *expected: str) -> str:
    """stderr is exactly one `thesis: error:` line holding each of `expected`; returns it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if any(word in stderr for word in NOISE) or len(lines) != 1:
        record(request, "traceback")
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    [line] = lines
    if "unexpected" in line:
        record(request, "unexpected")
    assert line.startswith("thesis: error: "), line
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    return line


def refused(request: pytest.FixtureRequest, code: int, stderr: str, *expected: str) -> str:
    """The command refused its input (exit code not 0) in one clean line holding each of `expected`;
    returns the line."""
    if code == 0:
        record(request, "accepted")
    assert code != 0, f"the command exited 0; stderr:\n{stderr}"
    return one_clean_line(request, stderr, *expected)


def next_run_completes(request: pytest.FixtureRequest, code: int, stderr: str = "") -> None:
    """The good run after the fault exited 0: `code` and `stderr` as in_process or thesis gave them."""
    if code != 0:
        record(request, "next failed")
    assert code == 0, f"the next run exited {code}:\n{stderr}"


def thesis(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = PROJECT,
    timeout: float = 300,
    request: pytest.FixtureRequest | None = None,
) -> subprocess.CompletedProcess:
    """The real command in a fresh interpreter: what reaches the terminal, exit noise included.
    Past `timeout` it is a hang, recorded on `request`'s case."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        if request is not None:
            record(request, "hang")
        raise


def in_process(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """`thesis ARGS` in this process: its exit code and what it printed on stderr."""
    from cli.main import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def args_for(data_dir: Path, *rest: str) -> Sequence[str]:
    return [*rest, "--data-dir", str(data_dir)]
