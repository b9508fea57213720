"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows import failure, run_log
from flows.artifacts import run_artifacts
from flows.parameters import takes_run_parameters
from flows.secrets import with_secret_user_agent
from flows.tasks import steps_for
from pipeline import daily as core
from pipeline import preflight
from pipeline.runtime.run_parameters import RunParameters
from pipeline.runtime.settings import Settings


@flow(name="daily")
@takes_run_parameters("daily")
@run_log.told
def daily(parameters: RunParameters, settings: Settings) -> core.DailyResult:
    """Fetch live (or replay `replay_from`, a folder with prices/ and sec/), load, validate, build,
    publish; with `sec_bulk`, every SEC filer from SEC's bulk archives (`replay_from`'s sec/bulk/).
    A parameter left empty takes its value from the THESIS_* settings; a live run's SEC
    User-Agent comes from THESIS_SEC_USER_AGENT or the Secret block `thesis-sec-user-agent`.
    `task_runner` `dask` fans the fetching and parsing out on Dask (`dask_address`, or a local
    cluster); the warehouse is written by this flow's process alone.

    A run does the same on any day: a live one fetches what the warehouse lacks up to the last
    completed NYSE session.

    Each run leaves Prefect artifacts: its summary, its validations, and a link to its report. A
    failed run's state says the step that failed and why (flows/failure.py)."""
    replay = Path(parameters.replay_from) if parameters.replay_from else None
    if replay is None:
        settings = with_secret_user_agent(settings)
    preflight.run(settings, replay)
    failure.phase("daily")
    sample = replay is not None and core.replay_mode(replay) == "sample"
    with run_artifacts(settings, sample), steps_for(settings) as steps:
        return core.daily(settings, *core.sources(settings, replay), steps)
