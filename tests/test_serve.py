"""`thesis serve` against the session's Prefect server: it registers a deployment of its own and
leaves the work pool's `daily/daily` as it was; the command it prints starts a run of it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

from pipeline.runtime.settings import SAMPLE_DIR

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

POOL_PARAMETERS = {"data_dir": "/srv/thesis/var", "replay_from": None, "tickers": ["NVDA", "ORCL"]}
POOL_PULL_STEPS = [{"prefect.deployments.steps.set_working_directory": {"directory": "/srv/thesis"}}]


def read(name: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(name)


@contextlib.contextmanager
def deleted_after(name: str) -> Iterator[None]:
    """`name`, a deployment the test makes, deleted afterwards: the deployment tests on this server
    deploy prefect.yaml's own."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        yield
    finally:
        with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
            client.delete_deployment(client.read_deployment_by_name(name).id)


@pytest.fixture
def pool_deployment(prefect_api) -> Iterator[str]:
    """`daily/daily` in the process work pool `thesis`, as `prefect deploy` leaves it: its own
    defaults and pull steps (tests/test_deployment.py's, where those ran first)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name="thesis", type="process"))
        try:
            client.read_deployment_by_name("daily/daily")
        except ObjectNotFound:
            pass
        else:
            yield "daily/daily"
            return
        client.create_deployment(
            flow_id=client.create_flow_from_name("daily"),
            name="daily",
            work_pool_name="thesis",
            entrypoint="flows/daily.py:daily",
            parameters=POOL_PARAMETERS,
            pull_steps=POOL_PULL_STEPS,
        )
    with deleted_after("daily/daily"):
        yield "daily/daily"


@pytest.fixture
def registered_only(monkeypatch):
    """`thesis serve` that returns once it has registered its deployment and printed how to
    trigger it, instead of running its runs until Ctrl-C."""
    import flows.serve

    monkeypatch.setattr(flows.serve, "until_interrupted", lambda runner: None)
    with deleted_after("daily/daily-serve"):
        yield


def test_serve_leaves_the_pool_s_deployment_as_it_was_and_prints_a_command_that_runs_its_own(
    pool_deployment, registered_only, prefect_api, tmp_path, capsys
):
    from cli.main import main

    before = read(pool_deployment)
    assert before.work_pool_name == "thesis"
    data_dir = tmp_path / "served"
    assert main(["serve", "--data-dir", str(data_dir), "--from", str(SAMPLE_DIR)]) == 0

    after = read(pool_deployment)
    assert (after.id, after.parameters, after.pull_steps, after.work_pool_name) == (
        before.id,
        before.parameters,
        before.pull_steps,
        "thesis",
    )
    served = read("daily/daily-serve")
    assert served.id != before.id and served.work_pool_name is None
    assert served.parameters["data_dir"] == str(data_dir) and served.parameters["replay_from"] == str(SAMPLE_DIR)

    out = capsys.readouterr().out
    [command] = [line.strip() for line in out.splitlines() if "deployment run" in line]
    assert command.startswith(f"PREFECT_API_URL={prefect_api} ")
    assert command.endswith(" deployment run daily/daily-serve")
    # As a user pastes it: another directory, a shell without PREFECT_API_URL.
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=99
    )
    assert done.returncode == 0, done.stdout + done.stderr
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[served.id])))
    # The one run asked for; the server schedules the cron's runs beside it.
    [triggered] = [run for run in runs if not run.auto_scheduled]
    assert triggered.parameters["data_dir"] == str(data_dir)


def test_serve_refuses_a_name_a_work_pool_serves_and_changes_nothing(
    pool_deployment, registered_only, prefect_api, tmp_path, capsys
):
    from prefect.client.orchestration import get_client

    from cli.main import main

    with get_client(sync_client=True) as client:
        client.create_deployment(
            flow_id=client.create_flow_from_name("daily"),
            name="daily-serve",
            work_pool_name="thesis",
            parameters=POOL_PARAMETERS,
            pull_steps=POOL_PULL_STEPS,
        )
    before = read("daily/daily-serve")
    assert main(["serve", "--data-dir", str(tmp_path / "served")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "thesis: error: the deployment daily/daily-serve belongs to the work pool 'thesis'"
    )
    after = read("daily/daily-serve")
    assert (after.id, after.parameters, after.pull_steps) == (before.id, POOL_PARAMETERS, POOL_PULL_STEPS)
