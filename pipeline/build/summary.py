"""What a run did, for the person who looks: the summary `thesis run` and `thesis build` print and
the flows keep as an artifact of the run, and its validations as a table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipeline.build.report.sections import LISTED, screen
from pipeline.build.scorecard import STATUSES
from pipeline.runtime.settings import Settings
from warehouse.connection import connect_read_only
from warehouse.publish import quoted


def performance_lines(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Each configured ticker since the anchor; for a screen (more than twice THESIS_REPORT_TOP_BOTTOM
    tickers), its top and bottom ones by excess return, as the report charts them."""
    n = settings.report_top_bottom
    screened = len(settings.tickers) > 2 * n
    chosen = [ticker for ticker, _ in screen(con, settings)] if screened else None
    rows = con.execute(
        """
        select ticker, benchmark, min(date) filter (where date >= $anchor) as anchor, max(date) as last_date,
               arg_max(rebased, date) - 100, arg_max(benchmark_rebased, date) - 100,
               100 * arg_max(excess_return_since_anchor, date), arg_max(relative_strength, date)
        from marts.relative_performance where $chosen is null or list_contains($chosen, ticker)
        group by ticker, benchmark order by coalesce(list_position($chosen, ticker), 0), ticker""",
        {"chosen": chosen, "anchor": settings.anchor_date},
    ).fetchall()
    if not rows:
        return []
    since = f"Since the anchor (first session on or after {settings.anchor_date})"
    lines = [f"{since}, the top and bottom {n} by excess return:" if screened else f"{since}:"]
    for ticker, benchmark, anchor, last, ret, bench, excess, strength in rows:
        lines.append(
            f"  {ticker:<6} {ret:+7.1f}%  vs {benchmark} {bench:+7.1f}%  excess {excess:+7.1f} pp  "
            f"relative strength {strength:6.1f}  ({anchor} .. {last})"
        )
    if screened:
        [[held]] = con.execute("select count(distinct ticker) from marts.relative_performance").fetchall()
        lines.append(f"  and {held - len(rows):,} more tickers: every one is in marts.relative_performance")
    return lines


def ticker_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The bars stored per ticker: LISTED of them, then the rest counted."""
    rows = con.execute(
        "select ticker, count(*), min(date), max(date) from raw.prices group by ticker order by ticker"
    ).fetchall()
    lines = ["Prices stored:"] + (
        [f"  {t:<6} {n:>6,} bars  {first} .. {last}" for t, n, first, last in rows[:LISTED]] or ["  none yet"]
    )
    if rest := rows[LISTED:]:
        bars, first, last = sum(r[1] for r in rest), min(r[2] for r in rest), max(r[3] for r in rest)
        lines.append(f"  and {len(rest):,} more tickers: {bars:,} bars  {first} .. {last}, every one in raw.prices")
    return lines


def mart_lines(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Rows per mart; an empty mart says why (an SEC-only replay builds the SEC marts without prices,
    a replay of some companies' filings may hold no hyperscaler's capex)."""
    names = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
        ).fetchall()
    ]
    counts = [con.execute(f"select count(*) from {quoted('marts', name)}").fetchall()[0][0] for name in names]
    return ["Marts:"] + [
        f"  marts.{name:<22} {count:>7,} rows" + ("" if count else f" ({empty_reason(con, settings, name)})")
        for name, count in zip(names, counts, strict=True)
    ]


def empty_reason(con: duckdb.DuckDBPyConnection, settings: Settings, mart: str) -> str:
    """Why `mart` has no row: the first of its inputs, from the raw tables up, that holds nothing
    for the build's settings."""
    as_of = settings.as_of
    by = f" by the as-of date {as_of}" if as_of else ""

    def first(query: str) -> Any:
        return con.execute(query).fetchall()[0][0]

    if mart == "relative_performance":
        earliest = first("select min(date) from raw.prices")
        if earliest is None:
            return "no prices loaded yet"
        if as_of and earliest > as_of:
            return f"the as-of date {as_of} is before the first bar stored, {earliest}"
        return f"no session with bars of both {', '.join(settings.tickers)} and the benchmark {settings.benchmark}{by}"
    if mart in ("leverage", "capex_slope"):
        earliest = first("select min(filed) from raw.xbrl_facts")
        if earliest is None:
            return "no SEC facts loaded yet"
        if as_of and earliest > as_of:
            return f"the as-of date {as_of} is before the first SEC filing stored, {earliest}"
        if mart == "capex_slope":
            companies, concepts = ", ".join(settings.hyperscalers), settings.concept_map_csv
            return f"no quarter of capex for {companies} in the SEC facts loaded{by}, read through {concepts}"
        return f"no quarter of a listed company's debt, equity or cash flow in the SEC facts loaded{by}"
    if mart == "capex_guidance":
        return f"no statement in the guidance ledger {settings.guidance_ledger}{by}"
    return f"its inputs hold no row for these settings{by}"


def scorecard_line(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    counts = dict(
        con.execute(
            "select status, count(*) from marts.thesis_scorecard where run_id = ? group by status", [run_id]
        ).fetchall()
    )
    return "Thesis scorecard: " + ", ".join(
        f"{counts.get(status, 0)} {status.replace('_', ' ')}" for status in STATUSES
    )


def stale_lines(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """The tickers, then the companies, past their warn bound, with their last date and age, LISTED
    of each (nothing loaded first, then oldest first), then the rest counted; none when all are fresh."""
    from pipeline.build import freshness  # loads the trading calendar: not on every command's start (cli imports this)

    stale = freshness.stale(freshness.measure(con, settings))
    if not stale:
        return []
    at = freshness.reference(settings)
    lines = [
        f"Stale data (prices aged to the session of {at.session}, SEC filings to {at.day}; "
        "docs/operations.md: Freshness):"
    ]
    for source, noun in ((freshness.PRICES, "tickers"), (freshness.FILINGS, "companies")):
        items = [f for f in stale if f.source == source]
        lines += [f"  {f.state:<5}  {f.source:<7}  {f.item:<6} {f.describe()}" for f in items[:LISTED]]
        if rest := items[LISTED:]:
            errors = sum(f.state == freshness.ERROR for f in rest)
            lines.append(f"  and {len(rest):,} more {noun}: {errors:,} error, {len(rest) - errors:,} warn")
    return lines


def warning_lines(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The run's validation warnings (rows that loaded flagged), so the person who ran it sees them."""
    summaries = con.execute(
        "select suite, summary from meta.validations where run_id = ? order by suite", [run_id]
    ).fetchall()
    found = [
        f"  {suite}: {part.removeprefix('warning: ')}"
        for suite, summary in summaries
        for part in (summary or "").split("; ")
        if part.startswith("warning: ")
    ]
    return ["Warnings (loaded, flagged; see the validation reports):", *found] if found else []


def run_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """What the run loaded without (meta.runs.failed): item -> why."""
    rows = con.execute("select failed from meta.runs where run_id = ?", [run_id]).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def failed_lines(failed: Mapping[str, str]) -> list[str]:
    """What the run loaded without, LISTED of them with why, then the rest counted."""
    if not failed:
        return []
    items = list(failed.items())
    lines = ["Failed (not loaded; the rest was):", *(f"  {item:<6} {why}" for item, why in items[:LISTED])]
    if rest := items[LISTED:]:
        lines.append(f"  and {len(rest):,} more: meta.runs.failed lists every one, with why")
    return lines


def outcome_line(run_id: str, failed: Mapping[str, str]) -> str:
    """The summary's first line: `succeeded` only when everything asked for loaded."""
    if not failed:
        return f"Run {run_id} succeeded."
    return f"Run {run_id} loaded with {len(failed):,} failure{'s' if len(failed) != 1 else ''} (see Failed below)."


def this_run_lines(message: str) -> list[str]:
    """What the run's message says it loaded, fetched or left out, a line each; the models it built
    are listed under Marts."""
    parts = [part for part in message.split("; ") if part and not part.startswith("built ")]
    return ["This run:", *(f"  {part}" for part in parts)] if parts else []


def run_summary(settings: Settings, run_id: str, sample: bool) -> str:
    """What a published run loaded and built, read from its own analyst copy: the working database
    may be held by another process by now, and the copy holds the run's end as readers see it."""
    with connect_read_only(analyst_copy_of(settings, run_id)) as con:
        failed = run_failures(con, run_id)
        lines = (
            ["", "SAMPLE DATA: made by the project to exercise the pipeline, not market prices."] if sample else [""]
        )
        [[message]] = con.execute("select coalesce(message, '') from meta.runs where run_id = ?", [run_id]).fetchall()
        lines += [
            outcome_line(run_id, failed),
            *stale_lines(con, settings),
            *this_run_lines(message),
            *performance_lines(con, settings),
            *ticker_lines(con),
            *mart_lines(con, settings),
            scorecard_line(con, run_id),
            *warning_lines(con, run_id),
            *failed_lines(failed),
            f"Analyst copy:  {settings.paths.analyst_copy}",
            f"Parquet:       {settings.paths.parquet}/ (manifest.json)",
            f"Report:        {settings.paths.report}",
            f"Validation:    {settings.paths.reports / 'validation' / run_id}/",
        ]
    return "\n".join(lines)


def analyst_copy_of(settings: Settings, run_id: str) -> Path:
    """The analyst copy run `run_id` published, in its version folder."""
    return settings.paths.version(run_id) / "thesis.duckdb"


def run_database(settings: Settings, run_id: str) -> Path:
    """Where run `run_id`'s records are read: its own analyst copy where it published one, else the
    working database (a failed run's version is removed, its records stay)."""
    copy = analyst_copy_of(settings, run_id)
    return copy if copy.exists() else settings.paths.warehouse


def validation_rows(settings: Settings, run_id: str) -> list[dict[str, object]]:
    """Run `run_id`'s validations, in the order they ran: a row per failed expectation (its suite,
    severity, failing rows and one-line finding; rows failed is None for an expectation on the
    whole table, which names no row), and a row per suite in which every expectation passed."""
    from expectations.validate import findings  # loads pandas and DuckDB: only once a run has validated

    with connect_read_only(run_database(settings, run_id)) as con:
        suites = con.execute(
            "select suite, summary, report_path from meta.validations where run_id = ? order by validated_at, suite",
            [run_id],
        ).fetchall()
    rows: list[dict[str, object]] = []
    for suite, summary, report_path in suites:
        found = findings(Path(report_path))
        rows += [
            {"suite": suite, "severity": f.severity, "rows failed": len(f.rows) or None, "finding": f.summary}
            for f in found
        ] or [{"suite": suite, "severity": "", "rows failed": 0, "finding": summary}]
    return rows
