"""What a flow run tells, whoever started it (`thesis run`, `thesis serve`, a Prefect worker): the
core's log lines at INFO and above in the run's log in Prefect and in DATA_DIR/logs/thesis.log,
and a foreseen failure (a `PipelineError`) as one ERROR line with its message, no traceback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from prefect.client.schemas.objects import State

from flows import failure
from pipeline.runtime import log_file
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.run_parameters import RunParameters
from pipeline.runtime.settings import Settings, load_settings

R = TypeVar("R")
log = log_file.log


class ToldOnce(logging.Filter):
    """On Prefect's run loggers, drops a record that carries a foreseen failure with its traceback:
    the task's "Task run failed with exception", and the engine's "Engine execution exited with
    unexpected exception" (in the process a worker or `serve` starts, it raises a failed run's
    error again as the process ends). The failure is told in one line: the failed task's
    "Finished in state Failed(...)", or the flow's own (`told`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], PipelineError))


# From the import of the flows on, before Prefect's engine runs one.
for name in ("prefect.flow_runs", "prefect.task_runs"):
    if not any(isinstance(f, ToldOnce) for f in logging.getLogger(name).filters):
        logging.getLogger(name).addFilter(ToldOnce())


@contextmanager
def to_prefect() -> Iterator[None]:
    """The core's lines go to the flow run's log, through Prefect's own handlers for the loggers
    PREFECT_LOGGING_EXTRA_LOGGERS names (those of `prefect.extra`: the APILogHandler). Prefect
    attaches them when it is imported; a worker's flow run imports Prefect before this package
    could name `pipeline` there (flows/__init__.py), so they are attached here, for the run."""
    added = [h for h in logging.getLogger("prefect.extra").handlers if h not in log.handlers]
    level = log.level
    for handler in added:
        log.addHandler(handler)
    # Prefect sets no level on its extra loggers: `pipeline` would let only WARNING through.
    log_file.telling()
    try:
        yield
    finally:
        for handler in added:
            log.removeHandler(handler)
        log.setLevel(level)


def told(body: Callable[[RunParameters, Settings], R]) -> Callable[[RunParameters], R | State]:
    """A flow's `body(parameters, settings)`, with its settings from the parameters and the
    environment, telling its run as this module says. A failure ends the run Failed with the step
    that failed and its one-line reason (flows/failure.py: what `prefect flow-run inspect`, the UI
    and an alert show; a caller in this process gets the error raised again, as from any flow)."""

    @functools.wraps(body)
    def run(parameters: RunParameters) -> Any:
        with ExitStack() as stack:
            where = stack.enter_context(failure.tracked())
            stack.enter_context(to_prefect())
            try:
                settings = load_settings(**parameters.settings_overrides())
                stack.enter_context(log_file.kept(settings))
                return body(parameters, settings)
            except Exception as exc:
                return failure.failed(exc, where, log)

    return run
