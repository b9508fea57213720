"""The run's log file, DATA_DIR/logs/thesis.log: the core's log lines (logger `pipeline`) at INFO and
above, from whichever process runs the pipeline: the command line, or a flow run that `thesis
serve` or a Prefect worker started."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.runtime.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The run's story (what was fetched, loaded, skipped, built) is told at INFO; DEBUG is for a
# developer who asks for it.
LEVEL = logging.INFO
log = logging.getLogger("pipeline")


def path(settings: Settings) -> Path:
    return settings.paths.logs / "thesis.log"


def handler(settings: Settings) -> logging.FileHandler:
    """A handler appending to DATA_DIR/logs/thesis.log (its folder made) in the log's format."""
    file = path(settings)
    file.parent.mkdir(parents=True, exist_ok=True)
    opened = logging.FileHandler(file, encoding="utf-8")
    opened.setFormatter(logging.Formatter(FORMAT))
    return opened


def telling(logger: logging.Logger = log) -> None:
    """`logger` lets INFO through, unless it was set to let more through (DEBUG)."""
    if logger.level == logging.NOTSET or logger.level > LEVEL:
        logger.setLevel(LEVEL)


@contextmanager
def kept(settings: Settings) -> Iterator[None]:
    """The core's lines in DATA_DIR/logs/thesis.log for the duration, unless they go there already
    (a flow run the command line started: the command keeps the file to its end)."""
    target = os.path.abspath(path(settings))
    if any(isinstance(h, logging.FileHandler) and h.baseFilename == target for h in log.handlers):
        yield
        return
    try:
        opened = handler(settings)
    except OSError:
        # An unwritable data directory: the run's own checks (pipeline/preflight.py) name it in one
        # line, which a traceback from here would bury.
        yield
        return
    level = log.level
    log.addHandler(opened)
    telling()
    try:
        yield
    finally:
        log.removeHandler(opened)
        opened.close()
        log.setLevel(level)
