"""A run's Prefect artifacts, where the on-call engineer looks first (the flow run's Artifacts tab,
and the Artifacts page by key): its summary, its validations as a table, and a link to the report
it published. A run that failed leaves what is known: why, and the validations it made.

Each key's latest version is the last run's, whichever flow ran it (`daily` or `build`); a failed
run adds no report link, so the key's latest stays the report readers see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from pipeline.build.summary import run_summary, validation_rows
from pipeline.runtime.errors import storage_problem
from pipeline.runtime.runs import started_runs
from pipeline.runtime.settings import Settings

SUMMARY_KEY = "thesis-run-summary"
VALIDATIONS_KEY = "thesis-validations"
REPORT_KEY = "thesis-report"


@contextmanager
def run_artifacts(settings: Settings, sample: bool = False) -> Iterator[None]:
    """The artifacts of the run the body starts, once it ends (none when it stopped before the run
    started: a setting, the run lock). Making them never fails a run nor hides why it failed: a
    failure to make them is a warning in the flow run's log."""
    with started_runs() as started:
        try:
            yield
        except Exception as exc:
            if started:
                guarded(failed, settings, started[0], exc)
            raise
    if started:
        guarded(published, settings, started[0], sample)


def guarded(make: Callable[..., None], *args: object) -> None:
    try:
        make(*args)
    except Exception as exc:
        get_run_logger().warning("the run's artifacts could not be made: %s: %s", type(exc).__name__, exc)


def published(settings: Settings, run_id: str, sample: bool) -> None:
    version = settings.paths.version(run_id).resolve()
    if not version.is_dir():
        return  # nothing new: the run published no version, and the artifacts of the one that stands stay
    create_markdown_artifact(
        markdown=fenced(run_summary(settings, run_id, sample).strip()),
        key=SUMMARY_KEY,
        description=f"Run {run_id} in {settings.data_dir.resolve()}: what it loaded, built and published",
    )
    validations(settings, run_id)
    create_link_artifact(
        link=(version / "report.html").as_uri(),
        link_text=f"Report of run {run_id}",
        key=REPORT_KEY,
        description=f"The run's published version: {version} (report.html, parquet/, thesis.duckdb)",
    )


def failed(settings: Settings, run_id: str, exc: Exception) -> None:
    # The line the command prints for it: what to do is in docs/operations.md, On call.
    why = " ".join((storage_problem(exc) or str(exc) or type(exc).__name__).split())
    create_markdown_artifact(
        markdown=f"Run {run_id} failed; nothing of it was published.\n\n{fenced(why)}",
        key=SUMMARY_KEY,
        description=f"Run {run_id} in {settings.data_dir.resolve()}: why it failed",
    )
    validations(settings, run_id)


def validations(settings: Settings, run_id: str) -> None:
    """Made for every run, none made too: the key's latest is then never an earlier run's."""
    create_table_artifact(
        table=validation_rows(settings, run_id),
        key=VALIDATIONS_KEY,
        description=f"Run {run_id}'s validations; full reports in "
        f"{(settings.paths.reports / 'validation' / run_id).resolve()}",
    )


def fenced(text: str) -> str:
    """`text` as preformatted markdown: the summary's columns line up."""
    return f"```text\n{text}\n```"
