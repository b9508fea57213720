"""A flow run that a Prefect process worker starts tells its story where the on-call engineer looks:
the core's log lines in the run's log in Prefect and in DATA_DIR/logs/thesis.log, and a foreseen
failure as one ERROR line with its message, without a traceback. Against the session's Prefect
server, with one worker of a pool of its own, started with --run-once after the runs are created."""

from __future__ import annotations

import os
import subprocess
import time
from uuid import UUID

import pandas as pd
import pytest

from pipeline.runtime.settings import SAMPLE_DIR
from tests.test_deployment import PREFECT, RUN_TIMEOUT, stop

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

POOL = "thesis-worker-logs"  # not `thesis`: test_deployment.py's worker serves that one


def run_logs(flow_run_id: UUID, last: str) -> list:
    """The flow run's log in Prefect, oldest first, once a line starting with `last` is in: the
    worker's process sends its lines in batches, the last as it exits."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), sort=LogSort.TIMESTAMP_ASC
            )
            if any(log.message.startswith(last) for log in logs) or time.monotonic() > deadline:
                return logs
            time.sleep(0.2)


def test_a_worker_s_run_carries_the_pipeline_s_lines_and_a_foreseen_failure_in_one_line(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments.runner import EntrypointType
    from prefect.workers.process import ProcessWorker

    from flows.daily import daily

    # The bundled sample, whose three price files hold these bars; the run fails at the build's first
    # step, reading the claims, after the sources are loaded.
    bars = sum(len(pd.read_parquet(path)) for path in (SAMPLE_DIR / "prices").glob("*.parquet"))
    claims = tmp_path / "no-claims.yml"
    claims_dir = tmp_path / "claims" / "var"
    no_folder = tmp_path / "no-such-folder"
    with get_client(sync_client=True) as client:
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process", base_job_template=template), overwrite=True)
        # flows.daily.daily: the project is installed, so the worker finds it from any directory.
        deployment = daily.to_deployment(name="worker-logs", entrypoint_type=EntrypointType.MODULE_PATH)
        deployment_id = deployment.apply(work_pool_name=POOL)
        without_claims = client.create_flow_run_from_deployment(
            deployment_id,
            parameters={"replay_from": str(SAMPLE_DIR), "data_dir": str(claims_dir)},
            job_variables={"env": {"THESIS_CLAIMS": str(claims)}},
        ).id
        # Refused by the run's checks, in the flow itself, before any task.
        nothing_to_replay = client.create_flow_run_from_deployment(
            deployment_id, parameters={"replay_from": str(no_folder), "data_dir": str(tmp_path / "other" / "var")}
        ).id

    worker_log = tmp_path / "worker.log"
    with open(worker_log, "wb") as output:
        # One poll picks up both runs; with a --limit, --run-once waits for them to end before it exits.
        worker = subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", POOL, "--type", "process", "--run-once", "--limit", "2"],
            cwd=tmp_path,
            env={**os.environ, "PREFECT_API_URL": prefect_api},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        worker.wait(timeout=RUN_TIMEOUT)
    finally:
        stop(worker)

    with get_client(sync_client=True) as client:
        states = {run: client.read_flow_run(run).state for run in (without_claims, nothing_to_replay)}
    told = f"{claims}: cannot read the claims: [Errno 2] No such file or directory: '{claims}'"
    assert states[without_claims].is_failed(), f"{states}\n{worker_log.read_text()[-5000:]}"
    # The claims are read by the build's first task, load_claims (pipeline/build/run.py).
    assert states[without_claims].message == f"step load_claims: {told}"
    assert states[nothing_to_replay].is_failed()
    assert states[nothing_to_replay].message == f"step preflight: no such folder to replay: {no_folder}"

    logs = run_logs(without_claims, "Finished in state")
    messages = [log.message for log in logs]
    # The core's lines, from the flow and from its tasks.
    loaded = f"loaded {bars} bars for NVDA, ORCL, ^SOX from 3 payload(s)"
    assert any(m.startswith(loaded) for m in messages), messages
    assert [log.name for log in logs if log.message.startswith(loaded)] == ["pipeline.ingest.prices"]
    # The failure: once, told by the task that failed, with no traceback anywhere.
    errors = [log.message for log in logs if log.level >= 40]
    assert len(errors) == 1 and errors[0].startswith("Finished in state Failed(") and told in errors[0], messages
    assert not [m for m in messages if "Traceback" in m]

    logs = run_logs(nothing_to_replay, "Finished in state")
    errors = [log.message for log in logs if log.level >= 40]
    assert errors == [f"failed: no such folder to replay: {no_folder}"], [log.message for log in logs]
    assert not [log for log in logs if "Traceback" in log.message]

    # The same story in the data directory, the failure included.
    thesis_log = (claims_dir / "logs" / "thesis.log").read_text()
    assert f"INFO pipeline.ingest.prices: {loaded}" in thesis_log
    assert f"ERROR pipeline: failed: {told}\n" in thesis_log
    assert "Traceback" not in thesis_log
