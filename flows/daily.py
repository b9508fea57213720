"""Flow `daily`: every source, then the build. The scheduled deployment runs this."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.parameters import Day
from flows.secrets import with_secret_user_agent
from flows.tasks import PrefectSteps
from pipeline import daily as core
from pipeline import preflight
from pipeline.settings import load_settings


@flow(name="daily")
def daily(
    data_dir: str | None = None,
    replay_from: str | None = None,
    tickers: list[str] | None = None,
    benchmark: str | None = None,
    anchor_date: Day | None = None,
    as_of: Day | None = None,
) -> core.DailyResult:
    """Fetch live (or replay `replay_from`, a folder with prices/ and sec/), load, validate, build,
    publish. A parameter left empty takes its value from the THESIS_* settings; a live run's SEC
    User-Agent comes from THESIS_SEC_USER_AGENT or the Secret block `thesis-sec-user-agent`."""
    settings = load_settings(
        data_dir=data_dir, tickers=tickers, benchmark=benchmark, anchor_date=anchor_date, as_of=as_of
    )
    replay = Path(replay_from) if replay_from else None
    if replay is None:
        settings = with_secret_user_agent(settings)
    preflight.run(settings, replay)
    return core.daily(settings, *core.sources(settings, replay), PrefectSteps())
