"""`thesis serve`: the `daily` flow served on the schedule prefect.yaml declares, without a work pool.

The deployment's name, description, schedules, tags, concurrency limit and parameters come from
the `daily` entry of prefect.yaml, so `serve` and `prefect deploy` schedule the same thing; the
command's flags override the yaml's parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from flows.server import configured_api_url, temporary_server
from pipeline.runtime.settings import PROJECT, load_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

PREFECT_YAML = PROJECT / "prefect.yaml"
DEPLOYMENT = "daily"
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
        name=spec["name"],
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
        print(f"Serving `daily` with the Prefect API at {api_url}; data in {data_dir}.", flush=True)
        serve(deployment)
        return
    home = data_dir / "prefect"
    with temporary_server(home) as api_url:
        print(
            f"No PREFECT_API_URL: started a Prefect server at {api_url} (its database and log in {home}), "
            f"stopped with this command. Serving `daily`; data in {data_dir}.",
            flush=True,
        )
        serve(deployment)


def serve(deployment: RunnerDeployment) -> None:
    """Run `deployment`'s scheduled runs until interrupted (Ctrl-C)."""
    from prefect import serve as prefect_serve

    prefect_serve(deployment)
