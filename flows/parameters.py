"""The flows' parameters, derived from `pipeline.runtime.run_parameters.RunParameters`.

Prefect builds a flow's parameter schema, and validates a run's parameters, from the function's
signature; a parameter whose default is a pydantic `Field` shows its description in the UI. So
each flow's signature is generated from the model: one keyword per parameter the flow takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field

from pipeline.runtime.run_parameters import RunParameters, exposed

R = TypeVar("R")


def signature(flow_name: str, model: type[RunParameters] = RunParameters) -> inspect.Signature:
    """Flow `flow_name`'s signature: each parameter of `model` it takes, with its type, default and
    description."""
    return inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=Field(info.default, description=info.description),
                annotation=info.annotation,
            )
            for name, (info, where) in exposed(model).items()
            if flow_name in where.flows
        ]
    )


def takes_run_parameters(
    flow_name: str, model: type[RunParameters] = RunParameters
) -> Callable[[Callable[[RunParameters], R]], Callable[..., R]]:
    """`body(parameters)` as the function of keywords that `@flow(name=flow_name)` decorates."""

    def wrap(body: Callable[[RunParameters], R]) -> Callable[..., R]:
        def run(**given: Any) -> R:
            return body(model.model_validate(given))

        run.__name__ = run.__qualname__ = body.__name__
        run.__module__, run.__doc__ = body.__module__, body.__doc__
        run.__signature__ = signature(flow_name, model)  # type: ignore[attr-defined]
        return run

    return wrap
