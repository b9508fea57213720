"""Retrying a call that fails for a passing reason (throttling, a timeout, a dropped connection)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import Throttled, TransientSourceError

T = TypeVar("T")
log = logging.getLogger(__name__)


def retrying(
    call: Callable[[], T],
    retries: int,
    backoff_seconds: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    retry_throttled: bool = True,
) -> T:
    """`call()`, retried up to `retries` times on a TransientSourceError, waiting `backoff_seconds`
    and doubling. The last error is raised with how many attempts were made and what to do.
    Any other error is raised at once: retrying a 404 or a web page only delays the same answer.

    SEC's throttling is waited out inside its client: retrying it again would extend SEC's block,
    so such a source passes retry_throttled=False.
    """
    pause = backoff_seconds
    for attempt in range(1, retries + 2):
        try:
            return call()
        except TransientSourceError as exc:
            if isinstance(exc, Throttled) and not retry_throttled:
                raise
            if attempt > retries:
                raise type(exc)(
                    f"{exc}; gave up after {attempt} attempt{'s' if attempt > 1 else ''}, try again later"
                ) from None
            log.warning("%s: %s; retrying in %g s (attempt %d of %d)", what, exc, pause, attempt + 1, retries + 1)
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")
