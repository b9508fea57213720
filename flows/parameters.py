"""Types of the flows' parameters, as the Prefect server checks them when a run is created."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import WithJsonSchema

# Prefect's server checks parameters against their JSON schema without a format checker, so
# `format: date` alone lets `anchor_date=soon` through to the worker; the pattern refuses it when
# the run is created, naming the parameter.
Day = Annotated[dt.date, WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"})]

# Where mapped tasks run (pipeline/settings.py `task_runner`).
Runner = Literal["threads", "dask"]
