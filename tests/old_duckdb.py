"""DuckDB 1.5, the release analysts run, in a throwaway environment: what it makes of a file.

The environment is made once and kept under .pytest_cache, so later sessions on the same checkout
skip the install. Where it cannot be installed (no package registry), the tests that need it skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VERSION = "1.5.6"
_PROXIES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}

# Runs inside the old environment: {"database": path, "statements": [sql, ...]} on stdin, and for
# each statement {"rows": [...]} or {"error": "..."} on stdout. Each statement gets its own
# result, so one that fails does not hide whether the others run.
_RUNNER = """
import json, sys
import duckdb
job = json.load(sys.stdin)
con = duckdb.connect(job["database"], read_only=True)
results = []
for statement in job["statements"]:
    try:
        results.append({"rows": con.execute(statement).fetchall()})
    except duckdb.Error as exc:
        results.append({"error": f"{type(exc).__name__}: {exc}"})
print(json.dumps({"version": duckdb.__version__, "results": results}, default=str))
"""


class OldDuckDB:
    def __init__(self, python: Path) -> None:
        self.python = python

    def run(self, database: Path, statements: list[str]) -> list[dict]:
        """Each statement's {"rows": [[...], ...]} or {"error": "..."}, in order; values as JSON
        (dates and decimals as text)."""
        done = subprocess.run(
            [str(self.python), "-I", "-c", _RUNNER],
            text=True,
            capture_output=True,
            timeout=120,
            input=json.dumps({"database": str(database), "statements": statements}),
        )
        if done.returncode != 0:
            raise RuntimeError(f"DuckDB {VERSION} could not open {database}: {done.stderr.strip()}")
        answer = json.loads(done.stdout)
        assert answer["version"] == VERSION
        return answer["results"]


def _installed(python: Path) -> bool:
    if not python.exists():
        return False
    check = subprocess.run(
        [str(python), "-I", "-c", f"import duckdb; assert duckdb.__version__ == {VERSION!r}"],
        capture_output=True,
        timeout=120,
    )
    return check.returncode == 0


def old_duckdb(cache_dir: Path) -> OldDuckDB:
    """DuckDB `VERSION` in a virtual environment under `cache_dir`, installed unless it is there.

    Call it from a session-scoped fixture with `request.config.cache.mkdir(...)`: a skip raised
    here is then raised once per session, not once per test."""
    env_dir = cache_dir / f"duckdb-{VERSION}"
    python = env_dir / "bin" / "python"
    if _installed(python):
        return OldDuckDB(python)
    # The test session points the proxy variables at a closed port to keep tests offline; the
    # install is the one step here that may reach the package registry.
    env = {name: value for name, value in os.environ.items() if name not in _PROXIES}
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():
        steps = [
            [str(uv), "venv", "--quiet", "--python", sys.executable, str(env_dir)],
            [str(uv), "pip", "install", "--quiet", "--python", str(python), f"duckdb=={VERSION}"],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(env_dir)],
            [str(python), "-m", "pip", "install", "--quiet", f"duckdb=={VERSION}"],
        ]
    shutil.rmtree(env_dir, ignore_errors=True)  # a half-made environment of an interrupted session
    for step in steps:
        try:
            done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"installing duckdb=={VERSION} took over 10 minutes: {' '.join(step)}")
        if done.returncode != 0:
            said = " ".join((done.stderr.strip() or done.stdout.strip() or "no output").split())
            pytest.skip(
                f"could not install duckdb=={VERSION} into a throwaway environment "
                f"(is the package registry reachable?): `{' '.join(step)}` said: {said[-500:]}"
            )
    if not _installed(python):
        pytest.skip(f"duckdb=={VERSION} installed into {env_dir} but does not import")
    return OldDuckDB(python)
