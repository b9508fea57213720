"""The build: seeds -> transform (staging, marts) -> validate the marts -> score the claims, now
and week by week (the timeline) -> publish (parquet, the HTML report, and the analyst copy)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from expectations import capex_guidance_mart, capex_slope, leverage, relative_performance
from pipeline import scorecard, timeline
from pipeline.report import write_report
from pipeline.runs import Outcome, check, record, recorded_run, require
from pipeline.seeds import load_seeds
from pipeline.settings import Settings
from pipeline.steps import DIRECT, Steps
from transforms import runner
from warehouse.connection import connect, transaction
from warehouse.publish import Publication, publish_analyst_copy, publish_parquet

# The suite of each mart, validated before publishing. Each module has NAME (the mart),
# ID_COLUMNS, prepare(frame, variables) and suite().
MART_SUITES = (relative_performance, capex_guidance_mart, leverage, capex_slope)
log = logging.getLogger(__name__)


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
                for suite in MART_SUITES:
                    mart = con.sql(f"select * from marts.{suite.NAME}").df()
                    outcomes.append(check(settings, run_id, suite, suite.prepare(mart, settings.variables())))
                    require(outcomes[-1])
        finally:
            for outcome in outcomes:
                record(con, run_id, outcome)
    return seeded, built


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


def publish(settings: Settings, run_id: str) -> Publication:
    return publish_parquet(settings.warehouse_path, settings.parquet_dir, run_id)


def publish_copy(settings: Settings) -> Path:
    """Called once the outermost run is recorded, so the copy shows how the run ended."""
    publish_analyst_copy(settings.warehouse_path, settings.analyst_db_path)
    return settings.analyst_db_path


def build(settings: Settings, run_id: str | None = None, steps: Steps = DIRECT) -> BuildResult:
    with recorded_run(settings, "build", "warehouse", run_id) as run:
        # A bad claims file stops the build before it changes anything.
        claims = steps.run(scorecard.load_claims, settings.claims)
        seeded, built = steps.run(transform_and_validate, settings, run.run_id)
        scores = steps.run(score_claims, settings, run.run_id, claims)
        weeks_scored = steps.run(score_timeline, settings, run.run_id, claims)
        publication = steps.run(publish, settings, run.run_id)
        report = steps.run(write_report, settings)
        run.message = f"built {', '.join(built)}; scored {weeks_scored} claim-weeks of the timeline"
        log.info("%s; published %s", run.message, settings.parquet_dir)
    if run_id is None:
        steps.run(publish_copy, settings)
    return BuildResult(run.run_id, seeded, built, scores, weeks_scored, publication, report, settings.analyst_db_path)
