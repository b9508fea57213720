"""Retrying a call that fails for a passing reason (throttling, a timeout, a dropped connection)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TypeVar

from pipeline.runtime.errors import SourceError, Throttled, TransientSourceError

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
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

    def once(keys: list[None]) -> dict[None, T | SourceError]:
        try:
            return {None: call()}
        except TransientSourceError as exc:
            if isinstance(exc, Throttled) and not retry_throttled:
                raise
            return {None: exc}

    answer = retrying_each(once, [None], retries, backoff_seconds, what, sleep)[None]
    if isinstance(answer, SourceError):
        raise answer
    return answer


def retrying_each(
    call: Callable[[list[K]], Mapping[K, T | SourceError]],
    keys: Iterable[K],
    retries: int,
    backoff_seconds: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[K, T | SourceError]:
    """`call(keys)` answers each key with a result or an error. The keys answered with a
    TransientSourceError are asked again, up to `retries` times, waiting `backoff_seconds` and
    doubling, or longer when a source's Retry-After asks for it; those still failing then get their
    error with how many attempts were made. Every other answer is final at once."""
    answers: dict[K, T | SourceError] = {}
    pending = list(keys)
    pause = backoff_seconds
    for attempt in range(1, retries + 2):
        answers.update(call(pending))
        pending = [k for k in pending if isinstance(answers[k], TransientSourceError)]
        if not pending or attempt > retries:
            break
        first = answers[pending[0]]
        more = f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""
        # Never sooner than a source asked (Retry-After): asking early only meets the same refusal.
        asked = [e.retry_after or 0.0 for k in pending if isinstance(e := answers[k], Throttled)]
        wait = max([pause, *asked])
        log.warning("%s: %s%s; retrying in %g s (attempt %d of %d)", what, first, more, wait, attempt + 1, retries + 1)
        sleep(wait)
        pause *= 2
    for key in pending:
        exc = answers[key]
        assert isinstance(exc, TransientSourceError)  # what keeps a key pending
        answers[key] = type(exc)(f"{exc}; gave up after {attempt} attempt{'s' if attempt > 1 else ''}, try again later")
    return answers
