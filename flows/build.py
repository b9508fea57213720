"""Flow `build`: seeds, transforms, validation of the marts, the scorecard, and publishing."""

from __future__ import annotations

from prefect import flow

from flows.parameters import Day, Runner
from flows.tasks import steps_for
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
    full_build: bool | None = None,
    task_runner: Runner | None = None,
    dask_address: str | None = None,
) -> core.BuildResult:
    """Build and publish what is loaded: only what new rows change, or everything with
    `full_build`. A parameter left empty takes its value from the settings."""
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
    )
    with steps_for(settings) as steps:
        return core.build(settings, steps=steps)
