"""What every fault case checks, and how it is counted in the suite's tally.

A fault case runs the pipeline into a fault (a bad file, a failing server, a kill, a second run)
and then asserts, through these helpers, that:
- the user saw one `thesis: error:` line, no traceback and no library noise (`one_clean_line`);
- nothing published changed (`unchanged`), and the next good run completes.

Each helper records what it found in the test's user_properties; tests/conftest.py sums them over
every worker into one line at the end of the run: `faults: N tried, N clean, 0 lost, 0 tracebacks`.
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


def record(request: pytest.FixtureRequest, key: str) -> None:
    """Mark this case: `lost` (a published file changed) or `traceback` (noise reached the user)."""
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
    assert line.startswith("thesis: error: "), line
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    return line


def thesis(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path = PROJECT, timeout: float = 300
) -> subprocess.CompletedProcess:
    """The real command in a fresh interpreter: what reaches the terminal, exit noise included."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def in_process(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """`thesis ARGS` in this process: its exit code and what it printed on stderr."""
    from cli.main import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def args_for(data_dir: Path, *rest: str) -> Sequence[str]:
    return [*rest, "--data-dir", str(data_dir)]
