"""Bounds on the queries built from the seeds: a claim's metric (seeds/claims.yml) and each SQL
model (transforms/, reading the seeds and the settings' variables). A runaway (a recursive CTE
with no end, a join that explodes) is stopped, named in one line, and the run ends, releasing its
lock, instead of holding it for ever."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from pipeline.runtime.errors import PipelineError
from pipeline.runtime.settings import Settings
from transforms import runner


class QueryStopped(PipelineError):
    """A query built from the seeds ran past its limits."""


@dataclass(frozen=True)
class Limits:
    """What one query may take: seconds before it is stopped, and DuckDB's memory limit, with the
    settings that set them (named in the line that stops it)."""

    seconds: float
    memory: str
    timeout: str = "THESIS_CLAIM_TIMEOUT_SECONDS"
    memory_setting: str = "THESIS_QUERY_MEMORY_LIMIT"

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """A claim's metric."""
        return cls(settings.claim_timeout_seconds, settings.query_memory_limit)

    @classmethod
    def of_models(cls, settings: Settings) -> Limits:
        """One SQL model's query."""
        return cls(
            settings.model_timeout_seconds,
            settings.model_memory_limit,
            "THESIS_MODEL_TIMEOUT_SECONDS",
            "THESIS_MODEL_MEMORY_LIMIT",
        )


@contextmanager
def memory_limited(con: duckdb.DuckDBPyConnection, limits: Limits) -> Iterator[None]:
    """DuckDB's memory limit is the whole database's: set for what runs inside, the default back
    after (a failed query aborts the caller's transaction, and the run ends with it)."""
    con.execute("set memory_limit = ?", [limits.memory])
    yield
    con.execute("reset memory_limit")


@contextmanager
def stopped_after(
    con: duckdb.DuckDBPyConnection, limits: Limits | None, what: str, error: type[PipelineError] = QueryStopped
) -> Iterator[None]:
    """Interrupt what `con` runs inside once `limits.seconds` have passed; `error` says that `what`
    (`claim x: its metric query`) ran over, or out of memory, and was stopped."""
    if limits is None:
        yield
        return
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        con.interrupt()

    ran_over = error(f"{what} ran over {limits.seconds:g} s and was stopped ({limits.timeout})")
    timer = threading.Timer(limits.seconds, stop)
    timer.start()
    try:
        yield
    except duckdb.InterruptException:
        if not fired.is_set():
            raise
        raise ran_over from None
    except duckdb.OutOfMemoryException:
        raise error(
            f"{what} needed more than {limits.memory} of memory and was stopped ({limits.memory_setting})"
        ) from None
    finally:
        timer.cancel()
        timer.join()
    if fired.is_set():  # the interrupt fell between two statements, which interrupts nothing
        raise ran_over


def build_models(
    con: duckdb.DuckDBPyConnection, settings: Settings, variables: dict[str, object], **options: object
) -> list[str]:
    """transforms.runner.build (with its `options`), each model within the models' limits."""
    limits = Limits.of_models(settings)
    with memory_limited(con, limits):
        return runner.build(
            con,
            variables,
            within=lambda relation: stopped_after(con, limits, f"the SQL model {relation}"),
            **options,  # type: ignore[arg-type]
        )
