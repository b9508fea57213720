"""A failed flow run's state message names the step that failed and gives the one-line reason: it
is what the Prefect UI shows for the run, and what an alert about the run says (flows/alerts.py).
Prefect's own message ("Flow run encountered an exception: PayloadError: ...") names no step."""

from __future__ import annotations

import logging

from prefect.states import Failed, State

from pipeline.runtime.errors import PipelineError


class Where:
    """The step a flow run is in: a phase of the flow's own code (`phase`), or the Prefect task whose
    exception reached the flow (recorded by flows.tasks.PrefectSteps)."""

    def __init__(self, phase: str):
        self.phase = phase
        self.task: tuple[str, BaseException] | None = None

    def step(self, exc: BaseException) -> str:
        # A task's exception the core caught and went on from is not the one that failed the run.
        if self.task is not None and self.task[1] is exc:
            return self.task[0]
        return self.phase


def failed(exc: Exception, where: Where, logger: logging.Logger | logging.LoggerAdapter) -> State:
    """The run's Failed state: "step <step>: <reason>", the reason in one line as the CLI prints it.
    Its data is `exc`, so calling the flow still raises `exc`. The unforeseen keep their traceback
    in the run's log; a foreseen failure is the one line of the final state alone."""
    step = where.step(exc)
    reason = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, PipelineError):
        logger.error("step %s failed unexpectedly", step, exc_info=exc)
    return Failed(message=f"step {step}: {' '.join(reason.split())}", data=exc)
