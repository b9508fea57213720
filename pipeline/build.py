"""The build: seeds -> transform (staging, marts) -> validate the marts -> score the claims, now
and week by week (the timeline) -> publish (parquet, the HTML report, and the analyst copy).

Publishing writes a new version folder and, as the outermost run's last step, switches readers to
it (warehouse/publish.py): the analyst copy goes in last, with the run's outcome in its meta.runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations import capex_guidance_mart, capex_slope, leverage, relative_performance
from pipeline import scorecard, timeline
from pipeline.errors import PipelineError
from pipeline.report import write_report
from pipeline.runs import Outcome, check, record, recorded_run, require
from pipeline.seeds import load_seeds
from pipeline.settings import Settings
from pipeline.steps import DIRECT, Steps
from transforms import runner
from warehouse.connection import connect, transaction
from warehouse.publish import Publication, RunEnd, export_parquet, publish_analyst_copy, quoted, switch

# The suite of each mart, validated before publishing. Each module has NAME (the mart),
# ID_COLUMNS, prepare(frame, variables) and suite().
MART_SUITES = (relative_performance, capex_guidance_mart, leverage, capex_slope)
log = logging.getLogger(__name__)


class IncompleteMart(PipelineError):
    """A mart would be published without what the settings asked for: a typo, not a result."""


@dataclass(frozen=True)
class BuildResult:
    run_id: str
    seeds: dict[str, int]
    built: list[str]
    scores: list[scorecard.Score]
    timeline_rows: int
    publication: Publication
    report: Path
    analyst_copy: Path


def transform_and_validate(settings: Settings, run_id: str) -> tuple[dict[str, int], list[str]]:
    """Load the seeds, build the models and validate the marts in one transaction: a failure
    anywhere rolls all of it back. Returns rows per seed and the relations built."""
    outcomes: list[Outcome] = []
    with connect(settings.warehouse_path) as con:
        try:
            with transaction(con):
                seeded = load_seeds(con, settings, run_id, outcomes)
                built = runner.build(con, settings.variables())
                require_every_ticker(con, settings)
                for suite in MART_SUITES:
                    mart = con.sql(f"select * from {quoted('marts', suite.NAME)}").df()
                    outcomes.append(check(settings, run_id, suite, suite.prepare(mart, settings.variables())))
                    require(outcomes[-1])
        finally:
            for outcome in outcomes:
                record(con, run_id, outcome)
    return seeded, built


def require_every_ticker(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """marts.relative_performance holds every configured ticker: a ticker or benchmark that no
    price matches (a typo) would otherwise publish the mart without it, or empty."""
    if set(settings.tickers) <= {settings.benchmark}:
        raise IncompleteMart(
            f"--tickers names only the benchmark {settings.benchmark}: marts.relative_performance would be empty"
        )
    missing = con.execute(
        """select wanted.ticker,
                  (select count(*) from staging.prices as p where p.ticker = wanted.ticker),
                  (select count(*) from staging.prices as p where p.ticker = getvariable('benchmark'))
           from (select unnest(getvariable('tickers')) as ticker) as wanted
           where wanted.ticker <> getvariable('benchmark')
             and wanted.ticker not in (select ticker from marts.relative_performance)
           order by wanted.ticker"""
    ).fetchall()
    if missing:
        bars = ", ".join(f"{ticker} {own}" for ticker, own, _ in missing)
        raise IncompleteMart(
            f"marts.relative_performance would have no rows for {', '.join(t for t, _, _ in missing)}: "
            f"bars stored for {bars}, for the benchmark {settings.benchmark} {missing[0][2]}"
            f"{'' if settings.as_of is None else f' up to {settings.as_of}'}; "
            "check --tickers and --benchmark (THESIS_TICKERS, THESIS_BENCHMARK)"
        )


def score_claims(settings: Settings, run_id: str, claims: list[scorecard.Claim]) -> list[scorecard.Score]:
    """Append this run's scores to marts.thesis_scorecard, all claims or none."""
    with connect(settings.warehouse_path) as con, transaction(con):
        runner.set_variables(con, settings.variables())
        scores = scorecard.evaluate(con, claims, settings.as_of)
        scorecard.append(con, run_id, scores)
    return scores


def score_timeline(settings: Settings, run_id: str, claims: list[scorecard.Claim]) -> int:
    """Score each claim at every week marts.thesis_timeline lacks; returns the rows written."""
    with connect(settings.warehouse_path) as con:
        return timeline.update(con, settings, claims, run_id)


def export(settings: Settings, run_id: str) -> Publication:
    """The marts as parquet, with their manifest, into this run's version folder."""
    return export_parquet(settings.warehouse_path, settings.version_dir(run_id) / "parquet", run_id)


def report(settings: Settings, run_id: str) -> Path:
    return write_report(settings, settings.version_dir(run_id) / "report.html")


def publish_version(settings: Settings, run_id: str, message: str) -> Path:
    """The last step of the outermost run: the analyst copy, showing the run as succeeded with
    `message`, into the version folder, then the switch that makes the folder current. The working
    database records the run as succeeded after this, so a run killed before the switch is not."""
    version = settings.version_dir(run_id)
    publish_analyst_copy(settings.warehouse_path, version / "thesis.duckdb", RunEnd(run_id, "succeeded", message))
    switch(settings.publish_dir, version)
    return settings.analyst_db_path


def build(settings: Settings, run_id: str | None = None, steps: Steps = DIRECT) -> BuildResult:
    """Build and publish. Nested in a daily run (`run_id` given), the caller publishes the version."""
    with recorded_run(settings, "build", "warehouse", run_id) as run:
        # A bad claims file stops the build before it changes anything.
        claims = steps.run(scorecard.load_claims, settings.claims)
        seeded, built = steps.run(transform_and_validate, settings, run.run_id)
        scores = steps.run(score_claims, settings, run.run_id, claims)
        weeks_scored = steps.run(score_timeline, settings, run.run_id, claims)
        publication = steps.run(export, settings, run.run_id)
        report_path = steps.run(report, settings, run.run_id)
        run.message = f"built {', '.join(built)}; scored {weeks_scored} claim-weeks of the timeline"
        if run_id is None:
            steps.run(publish_version, settings, run.run_id, run.message)
        log.info("%s; exports in %s", run.message, settings.version_dir(run.run_id))
    version = settings.version_dir(run.run_id)
    return BuildResult(
        run.run_id, seeded, built, scores, weeks_scored, publication, report_path, version / "thesis.duckdb"
    )
