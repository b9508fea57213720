"""The core's steps as Prefect tasks, run on the flow's task runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

T = TypeVar("T")
R = TypeVar("R")


def name_of(fn: Callable) -> str:
    return name_of(fn.func) if isinstance(fn, partial) else fn.__name__


class PrefectSteps:
    """A `pipeline.steps.Steps` whose steps show in Prefect as tasks. Retries are the core's own
    (pipeline/retry.py), so a step runs the same with or without Prefect; nothing is cached."""

    def run(self, fn: Callable[..., R], *args: object) -> R:
        return task(fn, name=name_of(fn), cache_policy=NO_CACHE)(*args)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return task(fn, name=name_of(fn), cache_policy=NO_CACHE).map(list(items)).result()
