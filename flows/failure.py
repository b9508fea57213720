"""A failed flow run's state message names the step that failed and gives the one-line reason: it
is what the Prefect UI shows for the run, and what an alert about the run says (flows/alerts.py).
Prefect's own message ("Flow run encountered an exception: PayloadError: ...") names no step.

The step is the Prefect task whose exception reached the flow (`in_task`, around each task that
flows.tasks.PrefectSteps runs), else the phase of the flow's own code the run is in (`phase`):
`preflight` (the settings and checks made before anything is written), then the flow's name."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prefect.states import Failed, State

from pipeline.runtime.errors import PipelineError

# Set on a foreseen failure that the task it came out of told already (its final state, in the
# run's log), so the flow does not tell it in Prefect again.
TOLD = "told_by_its_task"


class Where:
    """The step a flow run is in: a phase of the flow's own code, or the task whose exception left it."""

    def __init__(self, phase: str):
        self.phase = phase
        self.task: tuple[str, BaseException] | None = None

    def step(self, exc: BaseException) -> str:
        # A task's exception the core caught and went on from is not the one that failed the run.
        if self.task is not None and self.task[1] is exc:
            return self.task[0]
        return self.phase


_where: ContextVar[Where | None] = ContextVar("thesis_flow_step", default=None)


@contextmanager
def tracked() -> Iterator[Where]:
    """The step of the flow run inside, `preflight` until the flow names its own phase."""
    where = Where("preflight")
    token = _where.set(where)
    try:
        yield where
    finally:
        _where.reset(token)


def phase(name: str) -> None:
    """The flow's own code is past its checks: a failure now is the flow's (`name`), or a task's."""
    where = _where.get()
    if where is not None:
        where.phase = name


@contextmanager
def in_task(name: str) -> Iterator[None]:
    """Around a step run as task `name`: its exception is the failing step's, and a foreseen one was
    told by the task's final state."""
    try:
        yield
    except Exception as exc:
        where = _where.get()
        if where is not None:
            where.task = (name, exc)
        if isinstance(exc, PipelineError):
            setattr(exc, TOLD, True)
        raise


def failed(exc: Exception, where: Where, log: logging.Logger) -> State:
    """The run's Failed state: "step <step>: <reason>", the reason in one line as the CLI prints it.
    Its data is `exc`, so calling the flow still raises `exc`. A foreseen failure is one ERROR line
    (in Prefect once: by the task that failed, where one did, else here); the unforeseen keep their
    traceback."""
    step = where.step(exc)
    if isinstance(exc, PipelineError):
        reason = str(exc)
        log.error("failed: %s", exc, extra={"send_to_api": not getattr(exc, TOLD, False)})
    else:
        reason = f"{type(exc).__name__}: {exc}"
        log.error("step %s failed unexpectedly", step, exc_info=exc)
    return Failed(message=f"step {step}: {' '.join(reason.split())}", data=exc)
