"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.parameters import Day, Runner
from flows.secrets import with_secret_user_agent
from flows.tasks import steps_for
from pipeline import daily as core
from pipeline import preflight
from pipeline.settings import load_settings


@flow(name="daily")
def daily(
    data_dir: str | None = None,
    replay_from: str | None = None,
    tickers: list[str] | None = None,
    tickers_file: str | None = None,
    benchmark: str | None = None,
    anchor_date: Day | None = None,
    as_of: Day | None = None,
    full_build: bool | None = None,
    task_runner: Runner | None = None,
    dask_address: str | None = None,
    sec_bulk: bool | None = None,
) -> core.DailyResult:
    """Fetch live (or replay `replay_from`, a folder with prices/ and sec/), load, validate, build,
    publish; with `sec_bulk`, every SEC filer from SEC's bulk archives (`replay_from`'s sec/bulk/).
    A parameter left empty takes its value from the THESIS_* settings; a live run's SEC
    User-Agent comes from THESIS_SEC_USER_AGENT or the Secret block `thesis-sec-user-agent`.
    `task_runner` `dask` fans the fetching and parsing out on Dask (`dask_address`, or a local
    cluster); the warehouse is written by this flow's process alone.

    A run does the same on any day: a live one fetches what the warehouse lacks up to the last
    completed NYSE session."""
    settings = load_settings(
        data_dir=data_dir,
        tickers=tickers,
        tickers_file=tickers_file,
        benchmark=benchmark,
        anchor_date=anchor_date,
        as_of=as_of,
        full_build=full_build,
        task_runner=task_runner,
        dask_address=dask_address,
        sec_bulk=sec_bulk,
    )
    replay = Path(replay_from) if replay_from else None
    if replay is None:
        settings = with_secret_user_agent(settings)
    preflight.run(settings, replay)
    with steps_for(settings) as steps:
        return core.daily(settings, *core.sources(settings, replay), steps)
