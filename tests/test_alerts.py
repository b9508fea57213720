"""`thesis alerts`: the automations it sets up, on the session's real Prefect server, send through a
webhook block to a receiver on loopback: one message for a failed run of the deployment, one for a
run not finished in time, none for a run that succeeds."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import pytest

from pipeline.runtime.settings import SAMPLE_DIR

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

WAIT = 120.0  # seconds for the server's triggers and actions services to send what they will


class Receiver:
    """An HTTP server on a free loopback port recording the JSON of every POST."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def deployment(name: str) -> UUID:
    """A deployment `daily/<name>` of the daily flow, served by no worker: its runs start only
    when a test runs them."""
    from flows.daily import daily

    # Prefect types these as maybe-async; called outside an event loop they return their values.
    return daily.to_deployment(name=name).apply()  # type: ignore[union-attr]


def run(deployment_id: UUID, **parameters: str):
    """A run of the deployment, executed in this process as a worker's would be; its final state."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow

    from flows.daily import daily

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    return flow_run, run_flow(daily, flow_run=flow_run, return_type="state")


@pytest.fixture
def alerts(prefect_api, receiver):
    """The alerts for two deployments of `daily` through one webhook block: `daily/on-time` with an
    hour's bound, `daily/overdue` with Prefect's shortest, 10 s. Removed afterwards."""
    from prefect.client.orchestration import get_client

    from flows.alerts import set_up, webhook_block

    ids = {name: deployment(name) for name in ("on-time", "overdue")}
    block = webhook_block(receiver.url, name="thesis-alerts-test")
    made = [
        set_up(block, "custom-webhook/thesis-alerts-test", dt.timedelta(hours=1), "daily/on-time"),
        set_up(block, "custom-webhook/thesis-alerts-test", dt.timedelta(seconds=10), "daily/overdue"),
    ]
    yield ids, block, made
    with get_client(sync_client=True) as client:
        for alerts in made:
            for automation_id in alerts.automations.values():
                client.delete_automation(automation_id)
        for deployment_id in ids.values():
            client.delete_deployment(deployment_id)
        client.delete_block_document(block)


def test_a_failed_run_and_a_late_one_notify_once_each_and_a_success_not_at_all(alerts, receiver, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from flows.alerts import set_up

    ids, block, made = alerts
    # Set up again: the same automations, updated in place.
    again = set_up(block, made[0].block, made[0].late_after, "daily/on-time")
    assert again.automations == made[0].automations
    assert str(again) == (
        "Alerts for daily/on-time go to the notification block custom-webhook/thesis-alerts-test: a failed or crashed "
        "run, and a run not finished 60 minutes after it was due (automations 'thesis: daily/on-time failed', "
        "'thesis: daily/on-time late')."
    )

    # Due a minute ago, and nobody runs it: first, so its wait runs while the others do. The
    # server marks runs late by the real time, not the pipeline's clock.
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # noqa: TID251
    with get_client(sync_client=True) as client:
        late = client.create_flow_run_from_deployment(ids["overdue"], state=Scheduled(scheduled_time=due))
    _, state = run(ids["on-time"], replay_from=str(SAMPLE_DIR), data_dir=str(tmp_path / "var"))
    assert state.is_completed(), state
    nowhere = tmp_path / "nowhere"
    failed, state = run(ids["on-time"], replay_from=str(nowhere), data_dir=str(tmp_path / "var"))
    assert state.is_failed()
    # The failing step and the pipeline's one line (pipeline/preflight.py, replay_folder).
    assert state.message == f"step preflight: no such folder to replay: {nowhere}"

    deadline = time.monotonic() + WAIT
    while len(receiver.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # anything more would come at once: the success ended before the failure began
    by_run = {m["subject"].split(" run ")[1].split(" ")[0]: m for m in receiver.messages}
    assert len(receiver.messages) == 2, receiver.messages
    assert set(by_run) == {failed.name, late.name}

    failure = by_run[failed.name]
    assert failure["subject"] == f"daily/on-time run {failed.name} ({failed.id}): Failed"
    assert failure["body"] == (
        f"daily/on-time run {failed.name} ({failed.id}) ended Failed: "
        f"step preflight: no such folder to replay: {nowhere}"
    )
    assert failure["text"] == f"{failure['subject']}\n{failure['body']}"

    overdue = by_run[late.name]
    assert overdue["subject"] == f"daily/overdue run {late.name} ({late.id}): not finished after 10 s"
    assert f"daily/overdue run {late.name} ({late.id}) was due at " in overdue["body"]
    assert overdue["body"].endswith("and has not ended 10 s later; it is Late.")


def test_alerts_are_set_up_only_on_a_configured_prefect_server(capsys):
    from cli.main import main

    assert main(["alerts", "--webhook", "http://127.0.0.1:9/hook"]) == 1
    assert capsys.readouterr().err == (
        "thesis: error: set PREFECT_API_URL to the Prefect server the `daily` deployment runs on (alerts live there)\n"
    )


def test_a_lateness_bound_under_a_minute_is_refused_naming_the_flag(capsys):
    from cli.main import main

    assert main(["alerts", "--webhook", "http://127.0.0.1:9/hook", "--late-after", "0.5"]) == 1
    assert capsys.readouterr().err == (
        "thesis: error: --late-after='0.5' is not valid: Input should be greater than or equal to 1\n"
    )


def stage_files(item: str) -> None:
    from pipeline.runtime.errors import PayloadError

    raise PayloadError(f"prices/{item}.csv has no header\nrow")


def load_staged(item: str) -> None:
    raise KeyError(item)


@pytest.mark.parametrize(
    ("ingest", "message"),
    [
        # A task's failure: its name, and the pipeline's line made one line.
        (lambda steps: steps.map(stage_files, ["NVDA"]), "step stage_files: prices/NVDA.csv has no header row"),
        # An unforeseen one: its type too, as the command line says it.
        (lambda steps: steps.run(load_staged, "NVDA"), "step load_staged: KeyError: 'NVDA'"),
        # The flow's own code between tasks.
        (lambda steps: stage_files("ORCL"), "step daily: prices/ORCL.csv has no header row"),
    ],
    ids=["task", "unforeseen", "flow"],
)
def test_a_failed_run_s_state_names_the_step_that_failed(prefect_api, tmp_path, monkeypatch, ingest, message):
    import pipeline.daily
    from flows.daily import daily

    monkeypatch.setattr(pipeline.daily, "ingest_prices", lambda settings, source, run_id, steps: ingest(steps))
    state = daily(replay_from=str(SAMPLE_DIR), data_dir=str(tmp_path / "var"), return_state=True)
    assert state.is_failed()
    assert state.message == message
