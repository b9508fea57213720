"""prefect.yaml as a user runs it: a process work pool, `prefect deploy`, a worker started elsewhere,
and `prefect deployment run`, against a real Prefect server on loopback.

The worker and every flow run it starts inherit this process's environment: no THESIS_*
variable (conftest removes them), NO_PROXY for loopback, and PREFECT_API_URL at the test server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pandas as pd
import pytest

from tests.conftest import PROJECT

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

PREFECT = Path(sys.executable).with_name("prefect")
RUN_TIMEOUT = 300.0  # seconds for one flow run, worker pick-up included


def prefect(env: dict[str, str], *args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    """The `prefect` command, as a user types it, with nothing to answer a prompt; its output, line
    breaks undone, is in .output."""
    done = subprocess.run(
        [str(PREFECT), *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180
    )
    done.output = " ".join((done.stdout + done.stderr).split())  # rich wraps long lines at COLUMNS
    return done


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (Linux /proc), including those in sessions of their own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop(process: subprocess.Popen) -> None:
    """The process, the rest of its process group, and any descendant that left the group."""
    below = descendants(process.pid) if Path("/proc").is_dir() else []
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def pool(prefect_server) -> dict[str, str]:
    """The process work pool `thesis`; the environment the `prefect` commands and the worker use."""
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "COLUMNS": "250"}
    created = prefect(env, "work-pool", "create", "thesis", "--type", "process", "--overwrite")
    assert created.returncode == 0, created.output
    return env


@pytest.fixture(scope="session")
def worker(pool, tmp_path_factory) -> Iterator[Path]:
    """`prefect worker start --pool thesis`, started outside the project (the pull step must take
    the runs there), polling every second; stopped with everything it started. Yields its log."""
    where = tmp_path_factory.mktemp("worker")
    log = where / "worker.log"
    env = {**pool, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", "thesis"],
            cwd=where,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        stop(process)


@pytest.fixture(scope="session")
def deployed(pool, worker) -> dict[str, str]:
    """Every deployment of prefect.yaml, deployed from the project root while the worker starts."""
    deploy = prefect(pool, "--no-prompt", "deploy", "--all")
    assert deploy.returncode == 0, deploy.output
    return pool


def created_run(answer: subprocess.CompletedProcess) -> UUID:
    assert answer.returncode == 0, answer.output
    return UUID(re.search(r"UUID: ([0-9a-f-]{36})", answer.output).group(1))


def finished(flow_run_id: UUID, worker_log: Path):
    """The flow run once it reaches a final state."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + RUN_TIMEOUT
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            flow_run = client.read_flow_run(flow_run_id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            time.sleep(0.5)
    pytest.fail(
        f"flow run {flow_run_id} not finished after {RUN_TIMEOUT:g} s; the worker's log:\n"
        + worker_log.read_text()[-5000:]
    )


def test_the_deployment_is_registered_as_prefect_yaml_declares_it(deployed, prefect_api):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("daily/daily")
    assert deployment.work_pool_name == "thesis"
    assert deployment.entrypoint == "flows/daily.py:daily"
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == [
        ("30 18 * * 1-5", "America/New_York", True)
    ]
    assert deployment.global_concurrency_limit.limit == 1
    assert set(deployment.tags) == {"thesis", "daily"}
    assert deployment.enforce_parameter_schema
    assert deployment.parameters == dict.fromkeys(
        ["data_dir", "replay_from", "tickers", "benchmark", "anchor_date", "as_of"]
    )
    # The directory `prefect deploy` ran in, resolved then: runs go there wherever the worker is.
    assert deployment.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT)}}]


def test_a_worker_runs_the_deployment_on_the_real_payloads(realdata, deployed, worker, prefect_api, tmp_path):
    replay = shutil.copytree(realdata, tmp_path / "realdata")
    data_dir = tmp_path / "var"
    answer = prefect(
        deployed,
        "deployment",
        "run",
        "daily/daily",
        "--param",
        f"replay_from={replay}",
        "--param",
        f"data_dir={data_dir}",
    )
    flow_run = finished(created_run(answer), worker)
    # The entrypoint flows/daily.py is relative: found only because the pull step left the worker's
    # directory for the project's.
    assert flow_run.state.is_completed(), f"{flow_run.state}\n{worker.read_text()[-5000:]}"
    assert set(flow_run.tags) >= {"thesis", "daily"}

    rows = pd.read_parquet(data_dir / "published" / "current" / "parquet" / "relative_performance")
    nvda = rows.set_index(["ticker", "date"]).loc[("NVDA", dt.date(2026, 2, 27))]
    # From the CSVs: NVDA 173.4889 -> 176.9742, ^SOX 5527.61 -> 8098.37 since the 2025-08-01 anchor.
    assert nvda["excess_return_since_anchor"] == pytest.approx(-0.445, abs=0.001)


def test_a_parameter_of_the_wrong_type_is_refused_when_the_run_is_created(deployed):
    answer = prefect(deployed, "deployment", "run", "daily/daily", "--param", "tickers=NVDA")
    assert answer.returncode != 0
    assert (
        "Error creating flow run: Validation failed for field 'tickers'. Failure reason: 'NVDA' is not "
        "valid under any of the given schemas"
    ) in answer.output


def test_a_malformed_date_is_refused_when_the_run_is_created(deployed, tmp_path):
    data_dir = tmp_path / "never"
    answer = prefect(
        deployed, "deployment", "run", "daily/daily", "--param", "anchor_date=soon", "--param", f"data_dir={data_dir}"
    )
    assert answer.returncode != 0
    assert "Validation failed for field 'anchor_date'" in answer.output and "'soon'" in answer.output
    assert not data_dir.exists()
