"""`thesis report`: one self-contained HTML file from the warehouse, published with the exports.

Inline CSS and inline SVG only: no scripts, fonts, styles or images are fetched, so the file
works offline and can be mailed as it is.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.build import freshness, scorecard
from pipeline.build.report import sections
from pipeline.build.report.html import page
from pipeline.runtime.settings import Settings
from transforms import runner
from warehouse.connection import connect_read_only
from warehouse.files import write_atomic

SAMPLE_BANNER = "SAMPLE DATA: made by the project to exercise the pipeline, not market prices."


def render(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    runner.set_variables(con, settings.variables())
    run = con.execute("select run_id, flow, mode from meta.runs order by started_at desc limit 1").fetchone()
    lines = [f"Generated {settings.clock.recorded():%Y-%m-%d %H:%M} UTC."]
    if run:
        lines.append(f"Run {run[0]} ({run[1]}, {run[2]}).")
    fresh = freshness.measure(con, settings)
    claim_order = [c.id for c in scorecard.load_claims(settings.claims)]
    return page(
        "Thesis report",
        sections.stale_data(fresh),
        sections.tally(con, fresh),
        lines,
        SAMPLE_BANNER if run and run[2] == "sample" else None,
        [
            sections.scorecard(con, settings, claim_order),
            sections.relative_performance(con, settings),
            sections.leverage(con, settings),
            sections.capex(con, settings),
            sections.guidance(con, settings),
            sections.freshness(con, settings, fresh),
        ],
    )


def write_report(settings: Settings, target: Path | None = None) -> Path:
    """The report to `target`: a build's new version folder, or (by default) the current version's."""
    target = target or settings.paths.report
    with connect_read_only(settings.paths.warehouse) as con:
        document = render(con, settings)
    write_atomic(target, document.encode())
    return target
