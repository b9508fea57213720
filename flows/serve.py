"""`thesis serve`: the `daily` flow served on the schedule prefect.yaml declares, without a work pool.

The deployment's description, schedules, tags, concurrency limit and parameters come from the
`daily` entry of prefect.yaml, so `serve` and `prefect deploy` schedule the same thing; the
command's flags override the yaml's parameters. Its name is its own, `daily-serve`: registering a
deployment updates whichever one has its flow and name, and `daily/daily` is the one a work pool
serves, whose defaults and pull steps `thesis serve` must never rewrite.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import yaml

from flows.server import configured_api_url, temporary_server
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.settings import PROJECT, load_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.runner import Runner

PREFECT_YAML = PROJECT / "prefect.yaml"
DEPLOYMENT = "daily"  # the entry of prefect.yaml that `thesis serve` reads
SERVED = "daily-serve"  # the name it serves under: none of prefect.yaml's, so no pool's deployment
SCHEDULE_KEYS = ("timezone", "day_or", "active", "parameters", "slug")


def deployment_spec(name: str = DEPLOYMENT, prefect_yaml: Path = PREFECT_YAML) -> dict[str, Any]:
    """The entry named `name` under `deployments:` in prefect.yaml."""
    entries = (yaml.safe_load(prefect_yaml.read_text()) or {}).get("deployments") or []
    for entry in entries:
        if entry.get("name") == name:
            return entry
    raise ValueError(f"{prefect_yaml} declares no deployment named {name!r}")


def daily_deployment(parameters: dict[str, Any], prefect_yaml: Path = PREFECT_YAML) -> RunnerDeployment:
    """The `daily` deployment as prefect.yaml declares it, with `parameters` over the yaml's."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.daily import daily

    spec = deployment_spec(DEPLOYMENT, prefect_yaml)
    schedules = []
    for entry in spec.get("schedules") or []:
        if "cron" not in entry:
            raise ValueError(f"{prefect_yaml}: `thesis serve` reads cron schedules only, not {entry}")
        schedules.append(Cron(entry["cron"], **{k: entry[k] for k in SCHEDULE_KEYS if k in entry}))
    # Prefect types to_deployment() as maybe-async; called outside an event loop it returns the deployment.
    return daily.to_deployment(  # type: ignore[return-value]
        name=SERVED,
        description=spec.get("description"),
        schedules=schedules,
        tags=spec.get("tags"),
        concurrency_limit=spec.get("concurrency_limit"),
        parameters={**(spec.get("parameters") or {}), **parameters},
        enforce_parameter_schema=spec.get("enforce_parameter_schema", True),
        # flows.daily.daily, not a file path relative to where `thesis serve` was started.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_daily(parameters: dict[str, Any]) -> None:
    """Serve `daily` until interrupted, against the configured Prefect API, or else a temporary
    server whose database lies under the data directory (DATA_DIR/prefect)."""
    parameters = dict(parameters)
    # Absolute, so a run means the same folders whatever directory it is started in.
    data_dir = Path(parameters.get("data_dir") or load_settings().data_dir).resolve()
    parameters["data_dir"] = str(data_dir)
    deployment = daily_deployment(parameters)
    api_url = configured_api_url()
    if api_url is not None:
        print(f"Prefect API: {api_url}; data in {data_dir}.", flush=True)
        serve(deployment, api_url)
        return
    home = data_dir / "prefect"
    with temporary_server(home) as api_url:
        print(
            f"No PREFECT_API_URL: started a Prefect server at {api_url} (its database and log in {home}), "
            f"stopped with this command. Data in {data_dir}.",
            flush=True,
        )
        serve(deployment, api_url)


def serve(deployment: RunnerDeployment, api_url: str) -> None:
    """Register `deployment`, say how to trigger a run of it, and run its runs (scheduled or
    triggered) until interrupted (Ctrl-C); its schedule is paused then."""
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    register(deployment, runner)
    print(
        f"Serving {deployment.full_name} until Ctrl-C. Trigger a run from another terminal:\n"
        f"  {trigger_command(deployment, api_url)}",
        flush=True,
    )
    until_interrupted(runner)


def register(deployment: RunnerDeployment, runner: Runner) -> UUID:
    """Register `deployment` with the API for `runner`; refused, with nothing changed, where a
    deployment of that flow and name already belongs to a work pool (a worker's, not ours)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    name = deployment.full_name
    with get_client(sync_client=True) as client:
        try:
            existing = client.read_deployment_by_name(name)
        except ObjectNotFound:
            existing = None
    if existing is not None and existing.work_pool_name:
        raise PipelineError(
            f"the deployment {name} belongs to the work pool {existing.work_pool_name!r}: `thesis serve` "
            "changes no deployment a work pool serves; delete or rename that one"
        )
    # Prefect types add_deployment() as maybe-async; called outside an event loop it returns the id.
    return runner.add_deployment(deployment)  # type: ignore[return-value]


def trigger_command(deployment: RunnerDeployment, api_url: str) -> str:
    """The shell command that starts a run of `deployment` now, from any directory and shell: the
    API named (without it, `prefect` would look in a database of its own and not find the
    deployment), and this environment's `prefect`."""
    prefect = Path(sys.executable).with_name("prefect")
    name = deployment.full_name
    # The assignment unquoted, or the shell would take it for the command's name.
    return f"PREFECT_API_URL={shlex.quote(api_url)} " + shlex.join([str(prefect), "deployment", "run", name])


def until_interrupted(runner: Runner) -> None:
    from prefect.exceptions import TerminationSignal

    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        return
