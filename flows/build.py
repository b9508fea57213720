"""Flow `build`: seeds, transforms, validation of the marts, the scorecard, and publishing."""

from __future__ import annotations

from prefect import flow

from flows import failure, run_log
from flows.artifacts import run_artifacts
from flows.parameters import takes_run_parameters
from flows.tasks import steps_for
from pipeline.build import run as core
from pipeline.runtime.run_parameters import RunParameters
from pipeline.runtime.settings import Settings


@flow(name="build")
@takes_run_parameters("build")
@run_log.told
def build(parameters: RunParameters, settings: Settings) -> core.BuildResult:
    """Build and publish what is loaded: only what new rows change, or everything with
    `full_build`. A parameter left empty takes its value from the settings. Each run leaves Prefect
    artifacts: its summary, its validations, and a link to its report."""
    failure.phase("build")
    with run_artifacts(settings), steps_for(settings) as steps:
        return core.build(settings, steps=steps)
