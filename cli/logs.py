"""Where a command's log lines and a failure's traceback go: a file under the data directory, and
the terminal only with --verbose. The terminal otherwise shows the result, or one line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from pipeline.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("pipeline")


def start(settings: Settings, verbose: bool) -> Path:
    """Log the core's progress to DATA_DIR/logs/thesis.log (and stderr with --verbose)."""
    path = settings.logs_dir / "thesis.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(path, encoding="utf-8")]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


def failure(exc: BaseException) -> None:
    log.error("failed: %s", exc, exc_info=exc)
