"""Request rates: a limit a source declares, and the limiter that keeps to it in one process.

A source names its limit (`RateLimit`) and asks the run's `Steps` for a limiter; run directly,
that is a `RateLimiter` shared by the process's threads; under Prefect it is a global
concurrency limit on the Prefect server, shared by every worker of every machine (flows/tasks.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """At most `per_second` requests a second to one service, across every worker of a run;
    `burst` is the most one acquire may take at once (a chunk of tickers)."""

    name: str
    per_second: float
    burst: int = 1


class RateLimiter:
    """At most `per_second` requests per second (`wait(n)` takes n), across every thread that shares it."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, count: int = 1) -> None:
        with self._lock:  # reserve the next slot; sleep outside the lock so others can queue behind
            now = self.clock()
            slot = max(now, self._next)
            self._next = slot + self.interval * count
        if slot > now:
            self.sleep(slot - now)


_local: dict[tuple[str, float], RateLimiter] = {}
_local_lock = threading.Lock()


def local_limiter(limit: RateLimit) -> Callable[[int], None]:
    """The process-wide limiter for `limit.name` at its rate: every thread of the process shares it.
    A run at another rate (its settings changed, in a notebook or a test) gets its own, not the
    first run's rate."""
    key = (limit.name, limit.per_second)
    with _local_lock:
        if key not in _local:
            _local[key] = RateLimiter(limit.per_second)
        return _local[key].wait
