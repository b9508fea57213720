"""Flow `build`: transform (staging, marts) -> validate the marts -> score the claims -> publish
(parquet, the HTML report, and the analyst copy)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from expectations import capex_guidance_mart, capex_slope, leverage, relative_performance
from pipeline import scorecard
from pipeline.report import write_report
from pipeline.runs import check, record, recorded_run, require
from pipeline.settings import Settings
from transforms import runner
from warehouse.connection import connect, transaction
from warehouse.publish import Publication, publish_analyst_copy, publish_parquet

# The suite of each mart, validated before publishing. Each module has NAME (the mart),
# ID_COLUMNS, prepare(frame, settings) and suite().
MART_SUITES = (relative_performance, capex_guidance_mart, leverage, capex_slope)


@dataclass(frozen=True)
class BuildResult:
    run_id: str
    built: list[str]
    scores: list[scorecard.Score]
    publication: Publication
    report: Path
    analyst_copy: Path


def variables(settings: Settings) -> dict[str, object]:
    return {"anchor_date": settings.anchor_date, "benchmark": settings.benchmark,
            "tickers": list(settings.tickers), "hyperscalers": list(settings.hyperscalers)}


@task(cache_policy=NO_CACHE)
def transform_and_validate(settings: Settings, run_id: str) -> list[str]:
    """Build the models and validate the marts in one transaction: a failed mart rolls back."""
    outcomes = []
    with connect(settings.warehouse_path) as con:
        try:
            with transaction(con):
                built = runner.build(con, variables(settings))
                for suite in MART_SUITES:
                    mart = con.sql(f"select * from marts.{suite.NAME}").df()
                    outcomes.append(check(settings, run_id, suite, suite.prepare(mart, settings)))
                    require(outcomes[-1])
        finally:
            for outcome in outcomes:
                record(con, run_id, outcome)
    return built


@task(cache_policy=NO_CACHE)
def score_claims(settings: Settings, run_id: str, claims: list[scorecard.Claim]) -> list[scorecard.Score]:
    """Append this run's scores to marts.thesis_scorecard, all claims or none."""
    with connect(settings.warehouse_path) as con, transaction(con):
        runner.set_variables(con, variables(settings))
        scores = scorecard.evaluate(con, claims, settings.as_of)
        scorecard.append(con, run_id, scores)
    return scores


@task(cache_policy=NO_CACHE)
def publish(settings: Settings, run_id: str) -> Publication:
    return publish_parquet(settings.warehouse_path, settings.parquet_dir, run_id)


@task(cache_policy=NO_CACHE)
def publish_report(settings: Settings) -> Path:
    return write_report(settings, variables(settings))


@task(cache_policy=NO_CACHE)
def publish_copy(settings: Settings) -> None:
    """Called by the outermost flow once its run is recorded, so the copy shows how the run ended."""
    publish_analyst_copy(settings.warehouse_path, settings.analyst_db_path)


@flow(name="build", validate_parameters=False)
def build(settings: Settings | None = None, run_id: str | None = None) -> BuildResult:
    settings = settings or Settings.from_env()
    with recorded_run(settings, "build", "warehouse", run_id) as run:
        claims = scorecard.load_claims(settings.claims)  # a bad entry stops the build before it changes anything
        built = transform_and_validate(settings, run.run_id)
        scores = score_claims(settings, run.run_id, claims)
        publication = publish(settings, run.run_id)
        report = publish_report(settings)
        run.message = "built " + ", ".join(built)
        get_run_logger().info("%s; published %s", run.message, settings.parquet_dir)
    if run_id is None:
        publish_copy(settings)
    return BuildResult(run.run_id, built, scores, publication, report, settings.analyst_db_path)
