"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import State

from flows.artifacts import run_artifacts
from flows.failure import Where, failed
from flows.parameters import takes_run_parameters
from flows.secrets import with_secret_user_agent
from flows.tasks import steps_for
from pipeline import daily as core
from pipeline import preflight
from pipeline.runtime.run_parameters import RunParameters
from pipeline.runtime.settings import load_settings


@flow(name="daily")
@takes_run_parameters("daily")
def daily(parameters: RunParameters) -> core.DailyResult | State:
    """Fetch live (or replay `replay_from`, a folder with prices/ and sec/), load, validate, build,
    publish; with `sec_bulk`, every SEC filer from SEC's bulk archives (`replay_from`'s sec/bulk/).
    A parameter left empty takes its value from the THESIS_* settings; a live run's SEC
    User-Agent comes from THESIS_SEC_USER_AGENT or the Secret block `thesis-sec-user-agent`.
    `task_runner` `dask` fans the fetching and parsing out on Dask (`dask_address`, or a local
    cluster); the warehouse is written by this flow's process alone.

    Each run leaves Prefect artifacts: its summary, its validations, and a link to its report.

    A run does the same on any day: a live one fetches what the warehouse lacks up to the last
    completed NYSE session.

    A failed run's state says the step that failed (`preflight`: the settings and checks made before
    anything is written; a task's name; `daily`: the flow's own code between tasks) and why."""
    where = Where("preflight")
    try:
        settings = load_settings(**parameters.settings_overrides())
        replay = Path(parameters.replay_from) if parameters.replay_from else None
        if replay is None:
            settings = with_secret_user_agent(settings)
        preflight.run(settings, replay)
        sample = replay is not None and core.replay_mode(replay) == "sample"
        with run_artifacts(settings, sample), steps_for(settings, where) as steps:
            where.phase = "daily"
            return core.daily(settings, *core.sources(settings, replay), steps)
    except Exception as exc:
        return failed(exc, where, get_run_logger())
