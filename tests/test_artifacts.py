"""The Prefect artifacts a run leaves (flows/artifacts.py), read back through the client of the
session's Prefect server: a published run's summary, validations and report link; a failed run's
reason and validations. And the validations' table, from what a run recorded."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipeline.runtime.settings import SAMPLE_DIR

pytestmark = pytest.mark.xdist_group("prefect")  # one xdist worker, so one Prefect server, for these

# The suites a daily run validates with: the two raw batches, the three seeds, and each mart's
# contract (transforms/marts/*.yml).
SUITES = {
    "raw_prices",
    "raw_xbrl_facts",
    "raw_companies",
    "raw_concept_map",
    "raw_capex_guidance",
    "relative_performance",
    "leverage",
    "capex_slope",
    "capex_guidance",
}


def artifacts_of(flow_run_id) -> dict:
    """The flow run's keyed artifacts by key (Prefect keeps a failed run's exception as one without)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]), key=ArtifactFilterKey(exists_=True)
            )
        )
    return {a.key: a for a in found}


def only_run(data_dir) -> tuple[str, str]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [run] = con.execute("select run_id, status from meta.runs").fetchall()
    return run


def stored(settings, run_id: str, suite: str, at: int, summary: str, found: list[dict]) -> None:
    """A suite's result as a run records it: its row in meta.validations and its JSON report."""
    from pipeline.runtime.runs import Outcome, record
    from warehouse.connection import connect

    path = settings.paths.reports / "validation" / run_id / f"{suite}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"suite": suite, "summary": summary, "findings": found}))
    moment = dt.datetime(2026, 12, 1, 23, 0, at, tzinfo=dt.UTC)
    with connect(settings.paths.warehouse) as con:
        critical = sum(f["severity"] == "critical" for f in found)
        record(con, run_id, Outcome(suite, not critical, 3, critical, summary, path, moment))


def test_the_validations_table_has_a_row_per_failed_expectation_and_per_clean_suite(settings):
    from pipeline.build.summary import validation_rows

    flagged = {
        "expectation": "low <= open",
        "severity": "warning",
        "summary": "low <= open flagged on 2 rows: ^SOX 2023-04-26, ^SOX 2023-04-27",
        "rows": [{"ticker": "^SOX", "date": "2023-04-26"}, {"ticker": "^SOX", "date": "2023-04-27"}],
    }
    whole = {"expectation": "row count", "severity": "critical", "summary": "row count failed (observed 0)", "rows": []}
    stored(settings, "r1", "raw_prices", 1, "all critical expectations passed; warning: ...", [flagged])
    stored(settings, "r1", "capex_slope", 3, "row count failed (observed 0)", [whole])
    stored(settings, "r1", "raw_companies", 2, "all 3 expectations passed", [])
    stored(settings, "r0", "raw_prices", 0, "an earlier run's", [whole])

    assert validation_rows(settings, "r1") == [
        {"suite": "raw_prices", "severity": "warning", "rows failed": 2, "finding": flagged["summary"]},
        {"suite": "raw_companies", "severity": "", "rows failed": 0, "finding": "all 3 expectations passed"},
        # An expectation on the whole table names no row.
        {"suite": "capex_slope", "severity": "critical", "rows failed": None, "finding": whole["summary"]},
    ]


def test_a_published_run_leaves_its_summary_validations_and_report(prefect_api, sample_flow_run):
    data_dir, state = sample_flow_run
    run_id, status = only_run(data_dir)
    assert status == "succeeded"
    found = artifacts_of(state.state_details.flow_run_id)
    assert set(found) == {"thesis-run-summary", "thesis-validations", "thesis-report"}

    summary = found["thesis-run-summary"]
    assert summary.type == "markdown"
    lines = summary.data.splitlines()
    assert lines[0] == "```text" and lines[-1] == "```"
    assert lines[1] == "SAMPLE DATA: made by the project to exercise the pipeline, not market prices."
    assert lines[2] == f"Run {run_id} succeeded."
    # NYSE sessions from 2025-01-02 to 2026-03-06: 307 weekdays less 13 closures (tests/test_cli.py);
    # the sample has a bar for each, for each of its three tickers.
    for ticker in ("NVDA", "ORCL", "^SOX"):
        assert f"  {ticker:<6}    294 bars  2025-01-02 .. 2026-03-06" in lines
    # The sample's waypoints: NVDA 173.50 and ^SOX 5530 on 2025-08-01, 190 and 8100 on 2026-03-06.
    assert any(line.startswith("  NVDA      +9.5%  vs ^SOX   +46.5%  excess   -37.0 pp") for line in lines)

    table = found["thesis-validations"]
    assert table.type == "table"
    rows = json.loads(table.data)
    assert {row["suite"] for row in rows} == SUITES
    # The sample is clean: every suite passed whole, each with a row of its own.
    assert len(rows) == len(SUITES)
    assert all(row["severity"] == "" and row["rows failed"] == 0 for row in rows)
    assert all(row["finding"].startswith("all ") and row["finding"].endswith(" expectations passed") for row in rows)

    report = found["thesis-report"]
    version = (data_dir / "published" / "versions" / run_id).resolve()
    assert report.data == f"[Report of run {run_id}]({(version / 'report.html').as_uri()})"
    assert (version / "report.html").is_file()
    assert (data_dir / "published" / "current").resolve() == version
    assert str(version) in report.description


def duplicated_bar(tmp_path):
    """The sample's prices with NVDA's 51st session, 2025-03-18, twice: January 2025 has 20 sessions
    (22 weekdays less the 9th and the 20th), February 19 (20 weekdays less the 17th), and March's
    12th is the 18th (3..7, 10..14, 17, 18)."""
    folder = tmp_path / "duplicated"
    shutil.copytree(SAMPLE_DIR / "prices", folder / "prices")
    target = next((folder / "prices").glob("NVDA.*.parquet"))
    frame = pd.read_parquet(target)
    pd.concat([frame, frame.iloc[[50]]]).to_parquet(target)
    return folder


def test_a_failed_run_leaves_why_and_its_validations_and_no_report(prefect_api, tmp_path):
    from flows.daily import daily

    data_dir = tmp_path / "var"
    state = daily(replay_from=str(duplicated_bar(tmp_path)), data_dir=str(data_dir), return_state=True)
    assert state.is_failed()
    run_id, status = only_run(data_dir)
    assert status == "failed"
    found = artifacts_of(state.state_details.flow_run_id)
    assert set(found) == {"thesis-run-summary", "thesis-validations"}

    finding = "one bar per (ticker, date) failed on 2 rows: NVDA 2025-03-18, NVDA 2025-03-18"
    summary = found["thesis-run-summary"].data
    assert summary.startswith(
        f"Run {run_id} failed; nothing of it was published.\n\n```text\nvalidation of raw_prices failed: {finding}"
    )

    # The prices were the run's first batch, and the only one it validated.
    rows = json.loads(found["thesis-validations"].data)
    assert {row["suite"] for row in rows} == {"raw_prices"}
    critical = [row for row in rows if row["severity"] == "critical"]
    assert critical == [
        {
            "suite": "raw_prices",
            "severity": "critical",
            "rows failed": 2,
            "finding": finding,
        }
    ]
