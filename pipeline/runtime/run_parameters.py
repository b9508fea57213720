"""The parameters of a run, declared once in `RunParameters`.

Everything else is derived from the model: the `thesis` flags (cli/main.py), the flows' signatures
and so their parameter schema in Prefect, descriptions included (flows/parameters.py), the settings
a run overrides (`settings_overrides`, the fields `Settings` also has) and README's table
(cli/docs.py). A parameter left empty takes its value from the THESIS_* settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.fields import FieldInfo

from pipeline.runtime.settings import Settings, symbol

# Prefect's server checks parameters against their JSON schema without a format checker, so
# `format: date` alone lets `anchor_date=soon` through to the worker; the pattern refuses it when
# the run is created, naming the parameter.
Day = Annotated[dt.date, WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"})]

# Where mapped tasks run (pipeline/runtime/settings.py `task_runner`).
Runner = Literal["threads", "dask"]

FLOWS = ("daily", "build", "ingest_prices", "ingest_filings")
BUILDING = ("run", "build", "rebuild")  # the commands that build the marts


@dataclass(frozen=True)
class Exposed:
    """Where a parameter shows: the flows that take it, the `thesis` commands with its flag, and the
    flag where it is not `--` and the name with dashes (one without dashes is positional)."""

    flows: tuple[str, ...]
    commands: tuple[str, ...] = ()
    flag: str | None = None
    metavar: str | None = None
    path: bool = False  # the command line gives a path, checked before anything starts
    many: bool = False  # the command line takes one or more values


class RunParameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Annotated[
        str | None, Exposed(FLOWS, (*BUILDING, "import-prices", "report", "status", "serve"), path=True)
    ] = Field(None, description="where the raw zone, warehouse and exports live (default ./var, THESIS_DATA_DIR)")
    replay_from: Annotated[
        str | None, Exposed(("daily", "ingest_prices", "ingest_filings"), ("run", "serve"), "--from", "DIR", True)
    ] = Field(
        None,
        description="replay DIR/prices/* (a raw zone, or yfinance CSV exports) and DIR/sec/{companyfacts,"
        "submissions}/*.json without network; empty: live from Yahoo Finance and SEC EDGAR",
    )
    tickers: Annotated[
        list[str] | None, Exposed(("daily", "build", "ingest_prices"), (*BUILDING, "import-prices", "serve"))
    ] = Field(
        None,
        description="the tickers measured against the benchmark, comma-separated on the command line "
        "(default NVDA,ORCL, THESIS_TICKERS)",
    )
    tickers_file: Annotated[
        str | None, Exposed(("daily", "build", "ingest_prices"), (*BUILDING, "import-prices", "serve"), path=True)
    ] = Field(None, description="a CSV of tickers, `ticker,benchmark` (benchmark optional): replaces tickers")
    benchmark: Annotated[
        str | None, Exposed(("daily", "build", "ingest_prices"), (*BUILDING, "import-prices", "serve"))
    ] = Field(None, description="the benchmark ticker (default ^SOX, THESIS_BENCHMARK)")
    anchor_date: Annotated[Day | None, Exposed(("daily", "build"), (*BUILDING, "serve"))] = Field(
        None, description="where rebased series are 100, YYYY-MM-DD (default 2025-08-01, THESIS_ANCHOR_DATE)"
    )
    as_of: Annotated[Day | None, Exposed(("daily", "build"), ("run", "build"))] = Field(
        None, description="build as of this date, YYYY-MM-DD: no row dated later is seen (default: all the data)"
    )
    full_build: Annotated[bool | None, Exposed(("daily", "build"), ("run", "build"), "--full")] = Field(
        None, description="rebuild every mart from scratch instead of only what new rows change (THESIS_FULL_BUILD)"
    )
    task_runner: Annotated[Runner | None, Exposed(FLOWS, BUILDING)] = Field(
        None,
        description="where fetching and parsing fan out: threads, or dask (a local cluster of THESIS_DASK_WORKERS "
        "processes, or dask_address); default threads, THESIS_TASK_RUNNER",
    )
    dask_address: Annotated[str | None, Exposed(FLOWS, BUILDING)] = Field(
        None, description="the scheduler of a running Dask cluster, e.g. tcp://10.0.0.5:8786 (THESIS_DASK_ADDRESS)"
    )
    sec_bulk: Annotated[bool | None, Exposed(("daily", "ingest_filings"), ("run", "rebuild"))] = Field(
        None,
        description="every SEC filer from SEC's nightly companyfacts.zip and submissions.zip (replayed: sec/bulk/) "
        "instead of the company list's filings (THESIS_SEC_BULK)",
    )
    import_files: Annotated[
        list[str] | None, Exposed(("ingest_prices",), ("import-prices",), "import_files", "FILE", True, True)
    ] = Field(None, description="yfinance CSV exports to copy into the raw zone and load, instead of fetching")
    ticker: Annotated[str | None, Exposed(("ingest_prices",), ("import-prices",))] = Field(
        None, description="the ticker of import_files, where neither a file's contents nor its name say"
    )

    @field_validator("tickers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # The command line's `--tickers nvda,orcl`, as Settings reads it.
        return [symbol(t) for t in value.split(",") if t.strip()] if isinstance(value, str) else value

    def settings_overrides(self) -> dict[str, object]:
        """The parameters given that are settings too, for load_settings()."""
        return settings_overrides(self.model_dump(exclude_none=True))


def exposed(model: type[RunParameters] = RunParameters) -> dict[str, tuple[FieldInfo, Exposed]]:
    """Each parameter of `model` with its field and where it shows, in declaration order."""
    found = {}
    for name, info in model.model_fields.items():
        [where] = [m for m in info.metadata if isinstance(m, Exposed)]
        found[name] = (info, where)
    return found


def settings_overrides(values: Mapping[str, object]) -> dict[str, object]:
    """Of `values` (parameters by name), those that override a setting."""
    return {name: value for name, value in values.items() if name in Settings.model_fields}
