"""The Prefect flows in process against the session's Prefect server, the SEC User-Agent's Secret
block, and `thesis serve`'s deployment (built from prefect.yaml, not served)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from pipeline.runtime.settings import SAMPLE_DIR

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

BUILD_TASKS = {
    "load_claims",
    "transform_and_validate",
    "score_claims",
    "score_timeline",
    "export",
    "report",
    "publish_version",
}


def task_runs(flow_run_id, expected: int):
    """The flow run's task runs, once `expected` of them are recorded: the server records them from
    events, a moment after the flow returns."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if len(runs) >= expected and all(r.state and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                return runs
            time.sleep(0.2)


def test_daily_flow_records_its_run_in_the_warehouse_and_in_prefect(prefect_api, sample_flow_run):
    from prefect.client.orchestration import get_client

    data_dir, state = sample_flow_run
    result = state.result()

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select flow, mode, status from meta.runs where run_id = ?", [result.run_id]).fetchall() == [
            ("daily", "sample", "succeeded")
        ]

    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
    assert flow_run.state.is_completed()
    assert flow_run.parameters["data_dir"] == str(data_dir)
    assert flow_run.parameters["replay_from"] == str(SAMPLE_DIR)
    # Replayed sources fetch nothing: the sample's four price files are staged by one mapped task (one
    # chunk), then come the build's steps, named after the core's functions.
    runs = task_runs(flow_run_id, len(BUILD_TASKS) + 1)
    assert sorted(r.name.rsplit("-", 1)[0] for r in runs) == sorted([*BUILD_TASKS, "stage_files"])
    assert all(r.state.is_completed() for r in runs)


def test_a_malformed_parameter_is_refused_before_the_flow_body(prefect_api, tmp_path, monkeypatch):
    from prefect.exceptions import ParameterTypeError

    import flows.daily
    import flows.run_log

    called = []
    monkeypatch.setattr(flows.run_log, "load_settings", lambda **flags: called.append(flags))
    with pytest.raises(ParameterTypeError) as refused:
        flows.daily.daily(anchor_date="soon", data_dir=str(tmp_path / "never"))
    assert "anchor_date: Input should be a valid date" in str(refused.value)
    assert called == []
    assert not (tmp_path / "never").exists()


@contextmanager
def secret_block(value: str):
    """The Secret block `thesis-sec-user-agent` holding `value`, for the duration."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client

    from flows.secrets import SEC_USER_AGENT_BLOCK

    Secret(value=value).save(SEC_USER_AGENT_BLOCK, overwrite=True)
    try:
        yield
    finally:
        with get_client(sync_client=True) as client:
            block = client.read_block_document_by_name(SEC_USER_AGENT_BLOCK, block_type_slug="secret")
            client.delete_block_document(block.id)


class Stop(Exception):
    pass


def test_a_live_run_reads_the_sec_user_agent_from_the_secret_block(prefect_api, tmp_path, monkeypatch):
    import pipeline.daily
    from flows.daily import daily
    from flows.secrets import with_secret_user_agent
    from pipeline.runtime.settings import load_settings

    agent = "Thesis Tests tests@example.com"
    seen = []

    def sources(settings, replay_from):  # in place of the live sources: no request leaves the test
        seen.append(settings.user_agent)
        raise Stop

    monkeypatch.setattr(pipeline.daily, "sources", sources)
    with secret_block(agent):
        assert with_secret_user_agent(load_settings()).user_agent == agent
        with pytest.raises(Stop):
            daily(data_dir=str(tmp_path / "var"))
        assert seen == [agent]
        monkeypatch.setenv("THESIS_SEC_USER_AGENT", "From Environment env@example.com")
        # The environment's wins.
        assert with_secret_user_agent(load_settings()).user_agent == "From Environment env@example.com"
        with pytest.raises(Stop):
            daily(data_dir=str(tmp_path / "var"))
        assert seen == [agent, "From Environment env@example.com"]


def test_a_live_run_without_the_block_or_the_variable_stops_with_one_line(prefect_api, tmp_path):
    from flows.daily import daily
    from flows.secrets import with_secret_user_agent
    from pipeline.runtime.errors import PipelineError
    from pipeline.runtime.settings import load_settings

    assert with_secret_user_agent(load_settings()).user_agent is None
    with pytest.raises(PipelineError) as stopped:
        daily(data_dir=str(tmp_path / "var"))
    message = str(stopped.value)
    assert message.startswith("THESIS_SEC_USER_AGENT must be set to 'Name email'") and "\n" not in message
    assert "no request was made" in message


def test_thesis_serve_help_mentions_data_dir(capsys):
    from cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    assert "--data-dir" in capsys.readouterr().out


def test_the_served_deployment_is_prefect_yaml_s_with_the_given_parameters(tmp_path):
    from flows.serve import daily_deployment, deployment_spec

    deployment = daily_deployment({"data_dir": str(tmp_path), "tickers": ["NVDA"], "anchor_date": "2025-08-01"})
    spec = deployment_spec("daily")
    assert deployment.name == "daily-serve" and deployment.description == spec["description"]
    assert deployment.parameters == {
        "data_dir": str(tmp_path),
        "replay_from": None,
        "tickers": ["NVDA"],
        "benchmark": None,
        "anchor_date": "2025-08-01",
        "as_of": None,
    }
    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
        ("30 18 * * 1-5", "America/New_York")
    ]
    assert set(deployment.tags) == {"thesis", "daily"}
    assert deployment.concurrency_limit == 1
    assert deployment.enforce_parameter_schema
    assert deployment.entrypoint == "flows.daily.daily"


@pytest.fixture
def serving(monkeypatch):
    """serve_daily with no Prefect API configured, recording the temporary server it starts and the
    deployment it serves instead of starting and serving them."""
    import flows.serve

    seen: dict[str, object] = {}

    @contextmanager
    def temporary_server(home: Path):
        seen["home"] = home
        yield "http://127.0.0.1:1/api"

    monkeypatch.setattr(flows.serve, "configured_api_url", lambda: None)
    monkeypatch.setattr(flows.serve, "temporary_server", temporary_server)
    monkeypatch.setattr(flows.serve, "serve", lambda deployment, api_url: seen.setdefault("deployment", deployment))
    return seen


def test_thesis_serve_keeps_everything_under_data_dir(serving, tmp_path, monkeypatch, capsys):
    from cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--data-dir", "elsewhere", "--tickers", "nvda"]) == 0
    data_dir = tmp_path / "elsewhere"
    assert serving["home"] == data_dir / "prefect"
    assert serving["deployment"].parameters["data_dir"] == str(data_dir)
    assert serving["deployment"].parameters["tickers"] == ["NVDA"]
    out = capsys.readouterr().out
    assert "http://127.0.0.1:1/api" in out and str(data_dir) in out
    assert not (tmp_path / "var").exists()


def test_serve_uses_the_configured_prefect_api(serving, monkeypatch, tmp_path, capsys):
    import flows.serve

    monkeypatch.setattr(flows.serve, "configured_api_url", lambda: "http://127.0.0.1:2/api")
    flows.serve.serve_daily({"data_dir": str(tmp_path)})
    assert "home" not in serving
    assert serving["deployment"].parameters["data_dir"] == str(tmp_path)
    assert "http://127.0.0.1:2/api" in capsys.readouterr().out
