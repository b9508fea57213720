"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

import logging
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext

from flows.parameters import Day, Runner
from flows.secrets import with_secret_user_agent
from flows.tasks import steps_for
from pipeline import daily as core
from pipeline import preflight, trading_calendar
from pipeline.settings import load_settings

# Outside a flow run (the flow's function called directly), its lines go where the core's do.
log = logging.getLogger("pipeline.flows.daily")


def run_log() -> logging.Logger | logging.LoggerAdapter:
    """The flow run's logger (its lines are in the run's log in Prefect), or `log` outside a run."""
    return get_run_logger() if FlowRunContext.get() else log


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
) -> core.DailyResult | None:
    """Fetch live (or replay `replay_from`, a folder with prices/ and sec/), load, validate, build,
    publish; with `sec_bulk`, every SEC filer from SEC's bulk archives (`replay_from`'s sec/bulk/).
    A parameter left empty takes its value from the THESIS_* settings; a live run's SEC
    User-Agent comes from THESIS_SEC_USER_AGENT or the Secret block `thesis-sec-user-agent`.
    `task_runner` `dask` fans the fetching and parsing out on Dask (`dask_address`, or a local
    cluster); the warehouse is written by this flow's process alone.

    A live run on a day the NYSE is closed (in New York) does nothing and returns None: the schedule
    is every weekday, and a holiday has no bars to fetch. A replay runs on any day."""
    if replay_from is None:
        today = trading_calendar.today()
        closed = trading_calendar.closure(today)
        if closed is not None:
            run_log().info("%s is not an NYSE session (%s): nothing to fetch", today, closed)
            return None
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
