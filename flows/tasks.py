"""The core's steps as Prefect tasks, on the task runner the settings choose.

`threads` maps on the flow's own thread pool. `dask` maps on a Dask cluster through prefect-dask:
a local one of `dask_workers` processes, started for the flow run and stopped after it, or the
running cluster at `dask_address`. Either way each mapped item is a task run of the flow run, and
rate limits are global concurrency limits on the Prefect server, so every worker of every
machine shares them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner

from flows import failure
from pipeline.runtime.errors import ClusterUnreachable
from pipeline.runtime.rate_limit import RateLimit
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import step_name

if TYPE_CHECKING:  # imported where used: Dask loads only in universe mode
    from prefect_dask import DaskTaskRunner

T = TypeVar("T")
R = TypeVar("R")


class PrefectSteps:
    """A `pipeline.runtime.steps.Steps` whose steps show in Prefect as tasks. Retries are the core's own
    (pipeline/runtime/retry.py), so a step runs the same with or without Prefect; nothing is cached.
    `map` runs on `runner` where one is given, else on the flow's task runner. A task whose
    exception leaves it is the run's failing step (flows/failure.py)."""

    def __init__(self, runner: TaskRunner | None = None):
        self.runner = runner

    def run(self, fn: Callable[..., R], *args: object) -> R:
        with failure.in_task(step_name(fn)):
            return task(name=step_name(fn), cache_policy=NO_CACHE)(fn)(*args)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        mapped = task(name=step_name(fn), cache_policy=NO_CACHE)(fn)
        with failure.in_task(step_name(fn)):
            if self.runner is None:
                return mapped.map(list(items)).result()
            parameter = next(iter(inspect.signature(fn).parameters))
            futures = [self.runner.submit(mapped, parameters={parameter: item}) for item in items]
            return [future.result() for future in futures]

    def limiter(self, limit: RateLimit) -> Callable[[int], None]:
        ensure_rate_limit(limit)
        return GlobalRateLimit(limit.name)


@dataclass(frozen=True)
class GlobalRateLimit:
    """`acquire(n)` against the Prefect server's global concurrency limit `name`: picklable, so
    a Dask worker on another machine takes its slots from the same limit."""

    name: str

    def __call__(self, count: int = 1) -> None:
        from prefect.concurrency.sync import rate_limit

        rate_limit(self.name, occupy=count, strict=True)


def ensure_rate_limit(limit: RateLimit) -> None:
    """The global concurrency limit `limit.name` exists with `limit`'s rate: slots decay at
    `per_second`, and `burst` of them may be held at once."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(limit.name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=limit.name, limit=limit.burst, slot_decay_per_second=limit.per_second)
            )
            return
        client.update_global_concurrency_limit(
            limit.name, GlobalConcurrencyLimitUpdate(limit=limit.burst, slot_decay_per_second=limit.per_second)
        )


def dask_runner(settings: Settings) -> DaskTaskRunner:
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    # One thread per worker process: the mapped work (parsing JSON, pandas) holds the GIL.
    cluster: dict[str, Any] = {
        "n_workers": settings.dask_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }
    return DaskTaskRunner(cluster_kwargs=cluster)


@contextmanager
def steps_for(settings: Settings) -> Iterator[PrefectSteps]:
    """The steps of one flow run on the runner `settings.task_runner` names."""
    if settings.task_runner == "threads":
        yield PrefectSteps()
        return
    with ExitStack() as stack:
        stack.enter_context(dask_connect_timeout(settings))
        try:
            runner = stack.enter_context(dask_runner(settings))
            if settings.dask_address:
                # The client connects at the first mapped task; a running scheduler is reached now,
                # so one that does not answer is named before any work starts.
                runner.client  # noqa: B018
        except OSError as exc:  # distributed's "Timed out trying to connect", or a refused address
            raise ClusterUnreachable(
                f"the Dask scheduler at {settings.dask_address} did not answer ({exc}): start it, or check "
                "--dask-address (THESIS_DASK_ADDRESS)"
            ) from None
        yield PrefectSteps(runner)


def dask_connect_timeout(settings: Settings) -> AbstractContextManager[object]:
    """Dask's connect timeout, for the runs on its runner: THESIS_DASK_CONNECT_TIMEOUT_SECONDS."""
    import dask

    return dask.config.set({"distributed.comm.timeouts.connect": f"{settings.dask_connect_timeout_seconds}s"})
