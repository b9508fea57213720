"""The build: seeds -> transform (staging, marts) -> validate the marts -> score the claims, now
and week by week (the timeline) -> publish (parquet, the HTML report, and the analyst copy).

Publishing writes a new version folder and, as the outermost run's last step, switches readers to
it (warehouse/publish.py): the analyst copy goes in last, with the run's outcome in its meta.runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations.marts import MartSuite, mart_suite
from pipeline.build import freshness, increments, scorecard, timeline
from pipeline.build.query_limits import Limits, build_models
from pipeline.build.report import write_report
from pipeline.ingest import repair
from pipeline.payloads.seeds import load_seeds
from pipeline.runtime.errors import PipelineError, ValidationFailed
from pipeline.runtime.run_status import finished_status
from pipeline.runtime.runs import Outcome, check, finish, record, recorded_run, require
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from transforms import runner
from warehouse.connection import connect, transaction
from warehouse.publish import (
    Publication,
    RunEnd,
    current_version,
    export_parquet,
    publish_analyst_copy,
    quoted,
    switch,
)

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


def transform_and_validate(
    settings: Settings, run_id: str, excused: tuple[str, ...] = ()
) -> tuple[dict[str, int], list[str]]:
    """Load the seeds, build the models (only what changed since the last build, where that is
    known: pipeline/build/increments.py) and validate the rows built, in one transaction: a failure
    anywhere rolls all of it back; a mart's suite failing also takes the payloads behind its failing
    rows out of the warehouse (pipeline/ingest/repair.py). Returns rows per seed and the relations built. A ticker in
    `excused` failed to load in this run and is named there: the mart may lack it."""
    outcomes: list[Outcome] = []
    with connect(settings.paths.warehouse) as con:
        try:
            with transaction(con):
                seeded = load_seeds(con, settings, run_id, outcomes)
                built_at, print_ = settings.clock.recorded(), increments.fingerprint(settings)
                changes = increments.change_set(con, settings, print_)
                built = build_models(con, settings, settings.variables(), incremental=not changes.full)
                require_every_ticker(con, settings, excused)
                for contract, suite in mart_suites():
                    mart = built_rows(con, contract, suite, changes, settings.variables())
                    outcomes.append(check(settings, run_id, suite, mart))
                    require(outcomes[-1])
                increments.record(con, run_id, built_at, print_, changes, freshness.reference_until(settings))
                log.info("%s", changes.describe())
        except ValidationFailed as exc:
            # A mart's suite failed on what the payloads loaded since the last published run made.
            names = {contract.name for contract in runner.contracts()}
            marts = [o for o in outcomes if o.suite in names and not o.success]
            taken_out = repair.quarantine_failing(con, settings, run_id, marts[0]) if marts else ""
            if not taken_out:
                raise
            raise ValidationFailed(exc.summary + taken_out, exc.report_path) from None
        finally:
            for outcome in outcomes:
                record(con, run_id, outcome)
    return seeded, built


def mart_suites() -> list[tuple[runner.Contract, MartSuite]]:
    """Every mart's contract (its `.yml`) and the suite checking it before it is published."""
    return [(c, mart_suite(c.name, c.unique_key, c.not_null, c.accepted_range)) for c in runner.contracts()]


def built_rows(
    con: duckdb.DuckDBPyConnection,
    contract: runner.Contract,
    suite: MartSuite,
    changes: increments.ChangeSet,
    variables: Mapping[str, object],
) -> duckdb.DuckDBPyRelation:
    """The rows of the mart this build derived: all of them, or those its incremental scope reaches
    (with the rows its contract names in also_checked), in the columns its suite reads, as a
    relation its suite runs over inside DuckDB: no row is converted to Python but a failing row's IDs."""
    scope = None if changes.full else contract.scope
    where = f" where ({scope}) or ({contract.also_checked or 'false'})" if scope else ""
    columns = ", ".join(quoted(c) for c in suite.columns or ()) or "*"
    return suite.rows(con, f"select {columns} from {quoted('marts', contract.name)} as m{where}", variables)


def require_every_ticker(con: duckdb.DuckDBPyConnection, settings: Settings, excused: tuple[str, ...] = ()) -> None:
    """marts.relative_performance holds every configured ticker: a ticker or benchmark that no
    price matches (a typo) would otherwise publish the mart without it, or empty. A warehouse
    that holds no prices at all (an SEC-only replay) has nothing to match: the mart is empty and
    the SEC marts publish."""
    # A ticker that is its own benchmark is refused by the settings (Settings._not_measured).
    if not prices_loaded(con):
        log.info("no prices loaded yet: marts.relative_performance is empty")
        return
    missing = con.execute(
        """with wanted as (select unnest(getvariable('measured'), recursive := true)),
                held as (select ticker, count(*) as bars from staging.prices group by ticker)
           select wanted.ticker, coalesce(own.bars, 0), wanted.benchmark, coalesce(bench.bars, 0)
           from wanted
           left join held as own on own.ticker = wanted.ticker
           left join held as bench on bench.ticker = wanted.benchmark
           where wanted.ticker <> wanted.benchmark
             and not list_contains($excused, wanted.ticker)
             and wanted.ticker not in (select distinct ticker from marts.relative_performance)
           order by wanted.ticker""",
        {"excused": list(excused)},
    ).fetchall()
    if missing:
        named = missing[:10]
        bars = ", ".join(f"{ticker} {own} against {bench} {held}" for ticker, own, bench, held in named)
        more = f" and {len(missing) - len(named)} more" if len(missing) > len(named) else ""
        raise IncompleteMart(
            f"marts.relative_performance would have no rows for {', '.join(t for t, *_ in named)}{more}: "
            f"bars stored for {bars}{more}"
            f"{'' if settings.as_of is None else f' up to {settings.as_of}'}; "
            "check --tickers and --benchmark (THESIS_TICKERS, THESIS_TICKERS_FILE, THESIS_BENCHMARK)"
        )


def prices_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether raw.prices holds any bar (of any date: an as-of build before them still checks)."""
    [[held]] = con.execute("select exists (select 1 from raw.prices)").fetchall()
    return held


def score_claims(settings: Settings, run_id: str, claims: list[scorecard.Claim]) -> list[scorecard.Score]:
    """Append this run's scores to marts.thesis_scorecard, all claims or none; a claim older than its
    sources' error bounds, at the clock's last session and today (or the as-of date), is stale."""
    with connect(settings.paths.warehouse) as con, transaction(con):
        runner.set_variables(con, settings.variables())
        scores = scorecard.evaluate(con, claims, settings.as_of, freshness.bounds(settings), Limits.of(settings))
        scorecard.append(con, run_id, scores)
    return scores


def score_timeline(settings: Settings, run_id: str, claims: list[scorecard.Claim]) -> int:
    """Score each claim at every week marts.thesis_timeline lacks; returns the rows written."""
    with connect(settings.paths.warehouse) as con:
        return timeline.update(con, settings, claims, run_id)


def export(settings: Settings, run_id: str) -> Publication:
    """The marts as parquet, with their manifest, into this run's version folder; the files whose
    rows the current version already holds are hard links to its own."""
    current = current_version(settings.paths.published)
    publication = export_parquet(
        settings.paths.warehouse,
        settings.paths.version(run_id) / "parquet",
        run_id,
        settings.clock.stamp(),
        runner.unique_keys(),
        runner.partitions(),
        current / "parquet" if current is not None else None,
    )
    if publication.linked:
        log.info("%d parquet file(s) unchanged: hard links to the current version's", publication.linked)
    return publication


def report(settings: Settings, run_id: str) -> Path:
    return write_report(settings, settings.paths.version(run_id) / "report.html")


def publish_version(settings: Settings, run_id: str, message: str, failed: Mapping[str, str] | None = None) -> Path:
    """The last step of the outermost run: the analyst copy, showing the run as finished with
    `message` (and `failed`, the items it loaded without: then `partial`), into the version folder;
    the run recorded as finished in the working database; then the switch that makes the folder
    current. Readers never see a version whose run is not recorded as finished: a failure of the
    switch switches back and the run ends `failed`, and a run killed between the record and the
    switch is found by the next run (pipeline/runtime/runs.py, `abandon_unpublished`)."""
    version = settings.paths.version(run_id)
    failed = failed or {}
    end = RunEnd(run_id, finished_status(failed), message, settings.clock.recorded(), failed)
    publish_analyst_copy(settings.paths.warehouse, version / "thesis.duckdb", end)
    finish(settings, end)
    switch(settings.paths.published, version)
    return settings.paths.analyst_copy


def build(
    settings: Settings, run_id: str | None = None, steps: Steps = DIRECT, excused: tuple[str, ...] = ()
) -> BuildResult:
    """Build and publish. Nested in a daily run (`run_id` given), the caller publishes the version;
    `excused`: the tickers that run failed to load, named in its summary."""
    with recorded_run(settings, "build", "warehouse", run_id) as run:
        # A bad claims file stops the build before it changes anything.
        claims = steps.run(scorecard.load_claims, settings.claims)
        seeded, built = steps.run(transform_and_validate, settings, run.run_id, excused)
        scores = steps.run(score_claims, settings, run.run_id, claims)
        weeks_scored = steps.run(score_timeline, settings, run.run_id, claims)
        publication = steps.run(export, settings, run.run_id)
        report_path = steps.run(report, settings, run.run_id)
        run.message = f"built {', '.join(built)}; scored {weeks_scored} claim-weeks of the timeline"
        if run_id is None:
            steps.run(publish_version, settings, run.run_id, run.message)
            run.finished = True
        log.info("%s; exports in %s", run.message, settings.paths.version(run.run_id))
    version = settings.paths.version(run.run_id)
    return BuildResult(
        run.run_id, seeded, built, scores, weeks_scored, publication, report_path, version / "thesis.duckdb"
    )
