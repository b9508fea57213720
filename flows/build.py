"""Flow `build`: seeds, transforms, validation of the marts, the scorecard, and publishing."""

from __future__ import annotations

from prefect import flow

from flows.parameters import Day
from flows.tasks import PrefectSteps
from pipeline import build as core
from pipeline.settings import load_settings


@flow(name="build")
def build(
    data_dir: str | None = None,
    tickers: list[str] | None = None,
    tickers_file: str | None = None,
    benchmark: str | None = None,
    anchor_date: Day | None = None,
    as_of: Day | None = None,
) -> core.BuildResult:
    """Build and publish what is loaded. A parameter left empty takes its value from the settings."""
    settings = load_settings(
        data_dir=data_dir,
        tickers=tickers,
        tickers_file=tickers_file,
        benchmark=benchmark,
        anchor_date=anchor_date,
        as_of=as_of,
    )
    return core.build(settings, steps=PrefectSteps())
