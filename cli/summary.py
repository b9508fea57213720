"""What the CLI prints after a run, and for `thesis status`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import duckdb

from pipeline.build.scorecard import STATUSES
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.run_status import FINISHED
from pipeline.runtime.settings import Settings
from warehouse.connection import WarehouseBusy, connect_read_only, damaged, open_waiting
from warehouse.publish import quoted


def performance_lines(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    rows = con.execute("""
        select ticker, benchmark, min(date) filter (where rebased = 100) as anchor, max(date) as last_date,
               arg_max(rebased, date) - 100, arg_max(benchmark_rebased, date) - 100,
               100 * arg_max(excess_return_since_anchor, date), arg_max(relative_strength, date)
        from marts.relative_performance group by ticker, benchmark order by ticker
    """).fetchall()
    if not rows:
        return []
    lines = [f"Since the anchor (first session on or after {settings.anchor_date}):"]
    for ticker, benchmark, anchor, last, ret, bench, excess, strength in rows:
        lines.append(
            f"  {ticker:<6} {ret:+7.1f}%  vs {benchmark} {bench:+7.1f}%  excess {excess:+7.1f} pp  "
            f"relative strength {strength:6.1f}  ({anchor} .. {last})"
        )
    return lines


def ticker_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select ticker, count(*), min(date), max(date) from raw.prices group by ticker order by ticker"
    ).fetchall()
    return ["Prices stored:"] + (
        [f"  {t:<6} {n:>6,} bars  {first} .. {last}" for t, n, first, last in rows] or ["  none yet"]
    )


def filing_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """A line per listed company; filers off the list (bulk mode loads every filer) summed in one."""
    rows = con.execute("""
        select c.ticker, count(*), count(distinct f.accn), max(f.filed)
        from raw.xbrl_facts as f left join raw.companies as c using (cik)
        group by all order by 1 nulls last""").fetchall()
    others = con.execute("""
        select count(distinct cik), count(*) from raw.xbrl_facts
        where cik not in (select cik from raw.companies)""").fetchall()[0]
    return (
        ["SEC facts stored:"]
        + [f"  {t:<6} {n:>7,} facts from {a:>4,} filings, last filed {last}" for t, n, a, last in rows if t]
        + ([f"  {others[1]:,} facts of {others[0]:,} filers off seeds/companies.csv (bulk mode)"] if others[0] else [])
    )


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
    """Every ticker and company past its warn bound, with its last date and age; none when all are fresh."""
    from pipeline.build import freshness  # loads the trading calendar: not on every command's start (cli imports this)

    stale = freshness.stale(freshness.measure(con, settings))
    at = freshness.reference(settings)
    heading = (
        f"Stale data (prices aged to the session of {at.session}, SEC filings to {at.day}; "
        "docs/operations.md: Freshness):"
    )
    return [heading, *(f"  {f.state:<5}  {f.source:<7}  {f.item:<6} {f.describe()}" for f in stale)] if stale else []


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
    return (
        ["Failed (not loaded; the rest was):", *(f"  {item:<6} {why}" for item, why in failed.items())]
        if failed
        else []
    )


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
    with connect_read_only(settings.paths.version(run_id) / "thesis.duckdb") as con:
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


def status(settings: Settings) -> str:
    """Recent runs and stored prices, from the working database, or the analyst copy while a run
    holds it. A damaged working database is WarehouseBroken, saying to rebuild it: the analyst copy
    would show the last published run as if all were well."""
    for path, note in (
        (settings.paths.warehouse, ""),
        (settings.paths.analyst_copy, " (a run holds the working database; showing the analyst copy)"),
    ):
        if not path.exists():
            continue
        try:
            con = open_waiting(path, read_only=True, wait=0)
        except (WarehouseBusy, duckdb.IOException):
            continue
        try:
            runs = con.execute("""select run_id, flow, mode, status, coalesce(message, '')
                                  from meta.runs order by started_at desc limit 10""").fetchall()
            # The tickers and companies the last build was asked for, aged to the clock with all the data.
            built = settings.replace(**{k: v for k, v in built_parameters(con).items() if k != "as_of"})
            lines = [f"Warehouse: {path}{note}", *stale_lines(con, built), "Last runs:"]
            lines += [f"  {r[0]}  {r[1]:<13} {r[2]:<8} {r[3]:<9} {r[4]}" for r in runs] or ["  none yet"]
            return "\n".join(lines + ticker_lines(con) + filing_lines(con))
        except duckdb.IOException as exc:
            broken = damaged(path, exc)
            if broken is None:
                raise
            raise broken from None
        finally:
            con.close()
    raise PipelineError(
        f"the warehouse {settings.paths.warehouse} cannot be opened: a run holds it and no "
        "analyst copy is published yet; try again when the run ends"
    )


def locate(settings: Settings, sample: bool, explicit: bool) -> Settings:
    """The data to read: DATA_DIR/sample with --sample; DATA_DIR where it was chosen (flag or
    THESIS_DATA_DIR); otherwise whichever of DATA_DIR and DATA_DIR/sample a run wrote last."""
    sample_dir = settings.data_dir / "sample"
    candidates = [sample_dir] if sample else [settings.data_dir] if explicit else [settings.data_dir, sample_dir]
    found = [d for d in candidates if (d / "warehouse.duckdb").exists()]
    if not found and (sample_dir / "warehouse.duckdb").exists():
        raise PipelineError(f"no warehouse in {settings.data_dir}; the sample's is in {sample_dir}: pass --sample")
    if not found:
        raise PipelineError(
            f"no warehouse in {' or '.join(map(str, candidates))} yet: run `thesis run` "
            "(or `thesis run --sample`), or pass the --data-dir that a run used"
        )
    return settings.replace(data_dir=max(found, key=lambda d: (d / "warehouse.duckdb").stat().st_mtime))


def as_built(settings: Settings) -> Settings:
    """The settings with what the last finished build was asked for, so a report drawn later shows
    the marts as they were built."""
    with connect_read_only(settings.paths.warehouse) as con:
        return settings.replace(**built_parameters(con))


def built_parameters(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What the last finished build (succeeded or partial: both published) was asked for (tickers,
    benchmark, anchor, as-of); none before one."""
    row = con.execute(
        """select parameters from meta.runs
           where list_contains(?, status) and flow in ('daily', 'build') and parameters is not null
           order by started_at desc limit 1""",
        [list(FINISHED)],
    ).fetchone()
    return json.loads(row[0]) if row else {}
