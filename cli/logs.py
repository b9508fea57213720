"""Where a command's log lines and a failure's traceback go: a file under the data directory, and
the terminal only with --verbose. The terminal otherwise shows the result, or one line."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pipeline.runtime import log_file
from pipeline.runtime.log_file import log
from pipeline.runtime.settings import Settings

_installed: list[logging.Handler] = []


def start(settings: Settings, verbose: bool) -> Path:
    """Log the core's progress to DATA_DIR/logs/thesis.log (and stderr with --verbose). A command
    run again in the same process (a notebook, a test) replaces the handlers of the one before."""
    while _installed:
        handler = _installed.pop()
        log.removeHandler(handler)
        warnings_log.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [log_file.handler(settings)]
    if verbose:
        terminal = logging.StreamHandler(sys.stderr)
        terminal.setFormatter(logging.Formatter(log_file.FORMAT))
        handlers.append(terminal)
    _installed.extend(handlers)
    for handler in handlers:
        log.addHandler(handler)
        warnings_log.addHandler(handler)
    log_file.telling()
    return log_file.path(settings)


# Library warnings (pandas on a date it guesses, GX on a deprecation) go where the log goes: the
# file, and the terminal only with --verbose. Without a handler, logging would print them anyway.
warnings_log = logging.getLogger("py.warnings")
warnings_log.propagate = False
warnings_log.addHandler(logging.NullHandler())
logging.captureWarnings(True)


def quiet_exit() -> None:
    """From here to the end of the process, nothing more reaches the terminal's stderr: at
    interpreter exit, DuckDB's bindings report handles still referenced (`nanobind: leaked ...`)
    and Prefect's workers report what they could not send; the run's one line is already out."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())


def failure(exc: BaseException) -> None:
    log.error("failed: %s", exc, exc_info=exc)
