"""How the pipeline's steps are run: directly, or by an orchestrator.

The core calls each step through a `Steps`; `flows/` passes one that runs them as Prefect tasks
(on its task runner: threads, or Dask). The order of the steps and their arguments live once, in
the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol, TypeVar

from pipeline.runtime.rate_limit import RateLimit, local_limiter

T = TypeVar("T")
R = TypeVar("R")


class Steps(Protocol):
    def run(self, fn: Callable[..., R], *args: object) -> R:
        """Run one step and return its result; its exception propagates."""
        ...

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run `fn` on every item, possibly in parallel (other processes, other machines: `fn` and
        the items must pickle); results in the items' order."""
        ...

    def limiter(self, limit: RateLimit) -> Callable[[int], None]:
        """A picklable callable, `acquire(n)`, that blocks until n more requests fit `limit` across
        every worker the steps run on. Called where the steps are set up, before `map`."""
        ...


def step_name(fn: Callable) -> str:
    """A step's name (its function's, through `functools.partial`): how it shows, in Prefect and on the terminal."""
    return step_name(fn.func) if isinstance(fn, partial) else fn.__name__


class Direct:
    """In this process, one step after another."""

    def run(self, fn: Callable[..., R], *args: object) -> R:
        return fn(*args)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]

    def limiter(self, limit: RateLimit) -> Callable[[int], None]:
        return local_limiter(limit)


DIRECT = Direct()
