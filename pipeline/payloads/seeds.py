"""The seeds: curated inputs people edit (seeds/README.md), loaded at every build as dbt loads its seeds.

Every seed file takes one path: read (a cell that does not parse names its line), validate with
its Great Expectations suite (failing rows named by their line), then replace its raw table in
the build's transaction, so an edit takes effect at the next `thesis build`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd

from expectations import raw_capex_guidance, raw_companies, raw_concept_map
from pipeline.payloads.seed_files import Parser, boolean, display, integer, iso_date, number, read_seed_csv, upper
from pipeline.runtime.errors import ValidationFailed
from pipeline.runtime.runs import Outcome, check
from pipeline.runtime.settings import Settings
from transforms.runner import metric_periods
from warehouse.load import table_columns, upsert


@dataclass(frozen=True)
class Seed:
    name: str
    table: str
    path: Callable[[Settings], Path]
    columns: tuple[str, ...]
    parsers: Mapping[str, Parser]
    suite: ModuleType
    # The suite's prepare, given what it needs from the settings.
    prepare: Callable[[pd.DataFrame, Settings], pd.DataFrame]


COMPANIES = Seed(
    "companies",
    "raw.companies",
    lambda s: s.companies_csv,
    ("ticker", "cik", "name", "fiscal_year_end"),
    {"ticker": upper, "cik": integer("cik")},
    raw_companies,
    lambda frame, _: raw_companies.prepare(frame),
)
CONCEPT_MAP = Seed(
    "concept_map",
    "raw.concept_map",
    lambda s: s.concept_map_csv,
    ("metric", "period", "priority", "taxonomy", "concept"),
    {"priority": integer("priority")},
    raw_concept_map,
    lambda frame, _: raw_concept_map.prepare(frame, metric_periods()),
)
GUIDANCE = Seed(
    "capex_guidance",
    "raw.capex_guidance",
    lambda s: s.guidance_ledger,
    raw_capex_guidance.COLUMNS,
    {
        "ticker": upper,
        "statement_date": iso_date("statement_date"),
        "qualitative": boolean("qualitative"),
        **{name: number(name, "US$ billions") for name in raw_capex_guidance.FIGURES},
    },
    raw_capex_guidance,
    lambda frame, s: raw_capex_guidance.prepare(
        frame,
        known_companies(s),
        s.clock.today(),
        s.guidance_warn_above_usd_bn,
        s.guidance_error_above_usd_bn,
    ),
)
SEEDS = (COMPANIES, CONCEPT_MAP, GUIDANCE)


def known_companies(settings: Settings) -> set[str]:
    """Whose guidance the ledger may hold: the company list, the hyperscalers and the tickers."""
    return {*read(COMPANIES, settings)["ticker"], *settings.hyperscalers, *settings.tickers}


def read(seed: Seed, settings: Settings) -> pd.DataFrame:
    """The seed file, typed, one row per record with its `line`."""
    frame = read_seed_csv(seed.path(settings), seed.columns, seed.parsers)
    if seed is GUIDANCE:
        frame = frame.astype({name: "float64" for name in raw_capex_guidance.FIGURES})
    return frame


def validated(seed: Seed, settings: Settings, run_id: str, outcomes: list[Outcome]) -> pd.DataFrame:
    """The seed read and checked by its suite, the outcome appended to `outcomes` for the caller
    to record; ValidationFailed names the file and the failing lines."""
    frame = read(seed, settings)
    outcomes.append(check(settings, run_id, seed.suite, seed.prepare(frame, settings)))
    if not outcomes[-1].success:
        raise ValidationFailed(f"{display(seed.path(settings))}: {outcomes[-1].summary}", outcomes[-1].report_path)
    return frame


def load_seeds(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, outcomes: list[Outcome]
) -> dict[str, int]:
    """Every seed validated, then each replaces its table whole (a line removed from the file is
    gone from the table too), inside the caller's transaction. Returns rows per seed."""
    frames = [(seed, validated(seed, settings, run_id, outcomes)) for seed in SEEDS]
    provenance = {"run_id": run_id, "loaded_at": settings.clock.recorded()}
    for seed, frame in frames:
        columns = table_columns(con, seed.table)
        rows = frame.assign(**provenance)
        con.execute(f"delete from {seed.table}")
        upsert(con, seed.table, rows[[c for c in rows.columns if c in columns]])
    return {seed.name: len(frame) for seed, frame in frames}
