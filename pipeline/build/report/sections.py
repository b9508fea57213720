"""The report's sections, each read from the warehouse. A section whose mart is absent or empty
says so instead of drawing a chart."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipeline.build.freshness import FILINGS, FRESH, PRICES, Freshness, reference, stale
from pipeline.build.report.html import Section, escape, no_data, paragraph, table
from pipeline.build.report.svg import (
    Chart,
    Range,
    Series,
    bar_chart,
    line_chart,
    plot_width,
    range_chart,
    status_grid,
)
from pipeline.runtime.settings import Settings
from warehouse.publish import quoted

HYPERSCALERS = "HYPERSCALERS"
# Items a headline names of one kind before it says how many more there are.
NAMED = 5
# Rows of a freshness table, the oldest first, before it counts the rest: a universe of thousands of
# tickers would otherwise list them all on every build.
LISTED = 40


def missing(con: duckdb.DuckDBPyConnection, relation: str) -> str | None:
    """Why `relation` cannot be drawn, or None when it has rows."""
    schema, name = relation.split(".")
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, name]
    ).fetchall()[0][0]
    if not exists:
        return f"{relation} is not built in this warehouse yet"
    if con.execute(f"select count(*) from {quoted(schema, name)}").fetchall()[0][0] == 0:
        return f"{relation} has no rows"
    return None


def fetch(
    con: duckdb.DuckDBPyConnection, relation: str, sql: str, parameters: object = None
) -> tuple[str | None, list[tuple]]:
    """Why `relation` cannot be drawn and no rows, or None and `sql`'s rows."""
    why = missing(con, relation)
    return why, [] if why else con.execute(sql, parameters).fetchall()


def grouped(rows: Sequence[tuple], key: int, x: int, y: int, scale: float = 1.0) -> list[Series]:
    """Series per distinct rows[key], in order of appearance, of (rows[x], rows[y] * scale)."""
    series: dict[str, list] = {}
    for row in rows:
        value = row[y]
        series.setdefault(row[key], []).append((str(row[x]), None if value is None else value * scale))
    return [Series(name, points) for name, points in series.items()]


# The coarser steps a long daily series is thinned to, each to its last session, until a line has
# no more points than the chart has pixels across.
STEPS = ("day", "week", "month", "quarter", "year")


def screen(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[tuple[str, float]]:
    """The top and bottom `report_top_bottom` configured tickers by excess return since the anchor,
    on each one's last session, best first (ties by ticker)."""
    return con.execute(
        """
        with latest as (
            select ticker, arg_max(excess_return_since_anchor, date) as excess
            from marts.relative_performance
            where date >= $anchor and ticker in (select unnest($tickers))
            group by ticker
        ),
        ranked as (
            select ticker, excess,
                   row_number() over (order by excess desc, ticker) as from_top,
                   row_number() over (order by excess, ticker desc) as from_bottom
            from latest where excess is not null
        )
        select ticker, excess from ranked where from_top <= $n or from_bottom <= $n order by from_top""",
        {"anchor": settings.anchor_date, "tickers": list(settings.tickers), "n": settings.report_top_bottom},
    ).fetchall()


def chart_rows(
    con: duckdb.DuckDBPyConnection, settings: Settings, tickers: Sequence[str]
) -> tuple[str, int, list[tuple]]:
    """The step, the sessions since the anchor, and `tickers`' rows since the anchor in their order,
    each series thinned to the step's last session when it has more sessions than pixels across."""
    where = "date >= $anchor and ticker in (select unnest($tickers))"
    chosen = {"anchor": settings.anchor_date, "tickers": list(tickers)}
    counts = con.execute(
        "select "
        + ", ".join(f"count(distinct date_trunc('{step}', date))" for step in STEPS)
        + f" from marts.relative_performance where {where}",
        chosen,
    ).fetchall()[0]
    step = next((s for s, n in zip(STEPS, counts, strict=True) if n <= plot_width()), STEPS[-1])
    rows = con.execute(
        f"""
        select date, ticker, benchmark, rebased, benchmark_rebased, relative_strength
        from marts.relative_performance where {where}
        qualify date = max(date) over (partition by ticker, date_trunc($step, date))
        order by list_position($tickers, ticker), date""",
        {**chosen, "step": step},
    ).fetchall()
    return step, counts[0], rows


def relative_performance(con: duckdb.DuckDBPyConnection, settings: Settings) -> Section:
    n = settings.report_top_bottom
    screened = len(settings.tickers) > 2 * n
    title = (
        f"The top and bottom {n} tickers against {settings.benchmark}"
        if screened
        else f"{', '.join(settings.tickers)} against {settings.benchmark}"
    )
    why, counted = fetch(
        con, "marts.relative_performance", "select count(distinct ticker) from marts.relative_performance"
    )
    if why:
        return Section("relative-performance", title, no_data(why))
    held = counted[0][0]
    ranked = screen(con, settings) if screened else []
    step, sessions, rows = chart_rows(con, settings, [t for t, _ in ranked] if screened else settings.tickers)
    if not rows:
        return Section(
            "relative-performance",
            title,
            no_data(f"no rows of the configured tickers on or after {settings.anchor_date}"),
        )
    as_of = str(max(r[0] for r in rows))
    # Each benchmark's line, from the first ticker drawn against it (every ticker's rows hold it).
    first_of: dict[str, str] = {}
    for r in rows:
        first_of.setdefault(r[2], r[1])
    benchmark = ", ".join(first_of)
    rebased = [
        *grouped(rows, 1, 0, 3),
        *(Series(index, [(str(r[0]), r[4]) for r in rows if r[1] == ticker]) for index, ticker in first_of.items()),
    ]
    anchor = f"first session on or after {settings.anchor_date} = 100"
    drawn = (
        f"a screen: the charts draw its top and bottom {n} by excess return since the anchor (the table below)"
        if screened
        else f"the charts draw the {len(settings.tickers)} tickers the settings name"
    )
    body = [
        paragraph(
            f"Adjusted closes rebased to 100 at the anchor ({anchor}). Relative strength is the ticker's "
            f"rebased level over {benchmark}'s, times 100: below 100 it has lagged {benchmark} since then."
        ),
        paragraph(
            f"marts.relative_performance holds {held:,} tickers; {drawn}. Every ticker is in "
            "parquet/relative_performance/ (a file per year) and the analyst copy, thesis.duckdb, beside this report."
        ),
    ]
    if step != "day":
        body.append(
            paragraph(
                f"{sessions:,} sessions since the anchor are more than the chart is pixels wide: "
                f"each line shows the last session of each {step}."
            )
        )
    body += [
        line_chart(
            Chart(
                "chart-rebased",
                f"Rebased adjusted close against {benchmark}",
                "trading day",
                f"index ({anchor})",
                as_of,
                rebased,
            )
        ),
        line_chart(
            Chart(
                "chart-relative-strength",
                f"Relative strength against {benchmark}",
                "trading day",
                f"relative strength (100 = level with {benchmark})",
                as_of,
                grouped(rows, 1, 0, 5),
            )
        ),
    ]
    if ranked:
        body.append(
            table(
                ["ticker", "excess return since the anchor (%)"],
                [(ticker, excess * 100) for ticker, excess in ranked],
                ["", "num"],
            )
        )
    return Section("relative-performance", title, "".join(body))


def leverage(con: duckdb.DuckDBPyConnection, settings: Settings) -> Section:
    title = "Oracle's debt, equity and free cash flow"
    why, rows = fetch(
        con,
        "marts.leverage",
        """
        select 'FY' || fiscal_year || ' Q' || fiscal_quarter as quarter, period_end, total_debt, stockholders_equity,
               debt_to_equity, free_cash_flow, free_cash_flow_ttm
        from marts.leverage where ticker = 'ORCL' order by period_end""",
    )
    # The charts start at the first quarter with a figure they draw (earlier quarters may hold capex alone).
    first = next((i for i, r in enumerate(rows) if any(v is not None for v in r[2:])), len(rows))
    rows = rows[first:]
    if not rows:
        return Section("leverage", title, no_data(why or "marts.leverage has no ORCL debt, equity or cash flow"))
    as_of = str(max(r[1] for r in rows))

    def series(name: str, column: int, scale: float = 1.0) -> Series:
        return Series(name, [(r[0], None if r[column] is None else r[column] * scale) for r in rows])

    return Section(
        "leverage",
        title,
        "".join(
            [
                paragraph("By Oracle's fiscal quarter (the year ends May 31), from SEC filings; US$ billions."),
                bar_chart(
                    Chart(
                        "chart-orcl-debt-equity",
                        "Oracle total debt and stockholders' equity",
                        "fiscal quarter",
                        "US$ billions",
                        as_of,
                        [series("total debt", 2, 1e-9), series("stockholders' equity", 3, 1e-9)],
                    )
                ),
                line_chart(
                    Chart(
                        "chart-orcl-debt-to-equity",
                        "Oracle debt to equity",
                        "fiscal quarter",
                        "debt / equity (ratio)",
                        as_of,
                        [series("debt to equity", 4)],
                    ),
                    time_axis=False,
                ),
                bar_chart(
                    Chart(
                        "chart-orcl-fcf",
                        "Oracle free cash flow",
                        "fiscal quarter",
                        "US$ billions",
                        as_of,
                        [series("quarter", 5, 1e-9), series("trailing twelve months", 6, 1e-9)],
                    )
                ),
            ]
        ),
    )


def capex(con: duckdb.DuckDBPyConnection, settings: Settings) -> Section:
    title = "Hyperscaler capex"
    why, rows = fetch(
        con,
        "marts.capex_slope",
        """
        select ticker, calendar_quarter, period_end, capex, capex_ttm_yoy_growth, ttm_growth_change
        from marts.capex_slope order by ticker, calendar_quarter""",
    )
    if not rows:
        return Section("capex", title, no_data(why or "marts.capex_slope has no rows"))
    as_of = str(max(r[2] for r in rows))
    companies = [r for r in rows if r[0] != HYPERSCALERS]
    aggregate = [r for r in rows if r[0] == HYPERSCALERS]
    return Section(
        "capex",
        title,
        "".join(
            [
                paragraph(
                    "Capital expenditures from the cash-flow statement, by calendar quarter (a fiscal quarter "
                    "belongs to the calendar quarter containing its end minus 45 days). The slope is the change "
                    "in TTM growth from the quarter before: below zero, growth is slowing."
                ),
                line_chart(
                    Chart(
                        "chart-capex",
                        "Capex by company",
                        "calendar quarter",
                        "US$ billions per quarter",
                        as_of,
                        grouped(companies, 0, 1, 3, 1e-9),
                    ),
                    time_axis=False,
                ),
                line_chart(
                    Chart(
                        "chart-capex-ttm-growth",
                        "Hyperscalers' TTM capex, year-over-year growth",
                        "calendar quarter",
                        "growth (%)",
                        as_of,
                        grouped(aggregate, 0, 1, 4, 100),
                    ),
                    time_axis=False,
                ),
                bar_chart(
                    Chart(
                        "chart-capex-slope",
                        "Slope: change in TTM growth from the quarter before",
                        "calendar quarter",
                        "percentage points",
                        as_of,
                        grouped(aggregate, 0, 1, 5, 100),
                    )
                ),
            ]
        ),
    )


def guidance(con: duckdb.DuckDBPyConnection, settings: Settings) -> Section:
    title = "Capex guidance against reported capex"
    why, latest = fetch(
        con,
        "marts.capex_guidance",
        """
        select ticker, fiscal_period, fiscal_year, statement_date, low_usd_bn, high_usd_bn, mid_usd_bn, basis
        from marts.capex_guidance
        where period_kind in ('fiscal_year', 'calendar_year') and superseded_on is null and not qualitative
          and coalesce(low_usd_bn, mid_usd_bn) is not null
        qualify row_number() over (partition by ticker order by fiscal_year desc, statement_date desc) = 1
        order by ticker""",
    )
    if not latest:
        return Section("guidance", title, no_data(why or "marts.capex_guidance has no year guidance with a figure"))
    reported_why = missing(con, "marts.capex_slope")
    ranges = [
        Range(f"{t} {period}", low, high, mid, None if reported_why else reported_capex(con, t, year - 1))
        for t, period, year, _, low, high, mid, _ in latest
    ]
    as_of = str(con.execute("select max(statement_date) from marts.capex_guidance").fetchall()[0][0])
    body = [
        paragraph(
            "The latest statement on each company's latest guided year, in US$ billions on the company's own "
            "basis (see the table), against the capex it reported for the year before."
        ),
        range_chart(
            Chart(
                "chart-guidance",
                "Latest capex guidance per company",
                "company and year guided",
                "US$ billions per year",
                as_of,
                [],
            ),
            ranges,
            "guided range (or floor)",
            "reported capex, year before",
        ),
    ]
    if reported_why:
        body.append(no_data(f"reported capex for comparison: {reported_why}"))
    body.append(
        table(
            ["company", "period", "stated on", "low", "high", "mid or point", "basis"],
            [(t, p, d, low, high, mid, basis) for t, p, _, d, low, high, mid, basis in latest],
            ["", "", "nowrap", "num", "num", "num", ""],
        )
    )
    return Section("guidance", title, "".join(body))


def reported_capex(con: duckdb.DuckDBPyConnection, ticker: str, fiscal_year: int) -> float | None:
    """A complete fiscal year's reported capex in US$ billions, or None."""
    row = con.execute(
        """
        select sum(capex) / 1e9 from marts.capex_slope
        where ticker = ? and fiscal_year = ? and is_complete having count(*) = 4""",
        [ticker, fiscal_year],
    ).fetchone()
    return row[0] if row else None


def scorecard(con: duckdb.DuckDBPyConnection, settings: Settings, claim_order: Sequence[str]) -> Section:
    title = "The thesis scorecard"
    why, rows = fetch(
        con,
        "marts.thesis_scorecard",
        """
        with history as (
            select *, lag(status) over (partition by claim_id order by run_id) as previous_status
            from marts.thesis_scorecard
        )
        select claim_id, statement, status, previous_status, value, threshold, as_of, evidence
        from history where run_id = (select max(run_id) from marts.thesis_scorecard)""",
    )
    if not rows:
        return Section("scorecard", title, no_data(why or "no claim scored yet"))
    rank = {claim_id: i for i, claim_id in enumerate(claim_order)}
    rows.sort(key=lambda r: (rank.get(r[0], len(rank)), r[0]))
    return Section(
        "scorecard",
        title,
        "".join(
            [
                timeline_chart(con, claim_order),
                paragraph(
                    "Each claim in seeds/claims.yml, as scored by the latest run; "
                    "'before' is the previous run's status."
                ),
                table(
                    ["claim", "statement", "status", "before", "value", "test", "as of", "evidence"],
                    rows,
                    ["wrap", "", "status", "status", "num", "", "nowrap", "wrap"],
                ),
            ]
        ),
    )


def tally(con: duckdb.DuckDBPyConnection, fresh: Sequence[Freshness]) -> str | None:
    """The headline: how many claims the latest run found supported (and stale), and as of when: the
    oldest last bar of the prices, so a stale series is not hidden behind a fresh one."""
    why, counts = fetch(
        con,
        "marts.thesis_scorecard",
        """
        select count(*) filter (where status = 'supported'), count(*) filter (where status = 'stale'), count(*)
        from marts.thesis_scorecard where run_id = (select max(run_id) from marts.thesis_scorecard)""",
    )
    if why:
        return None
    [(supported, stale, claims)] = counts
    counted = f"{supported} of {claims} claims supported" + (f" and {stale} stale" if stale else "")
    bars = sorted((f.last, f.item) for f in fresh if f.source == PRICES and f.last)
    if not bars:
        return f"{counted}."
    oldest = bars[0][0]
    others = [f"{item} {last}" for last, item in bars if last != oldest]
    whose = named([item for last, item in bars if last == oldest]) + (f"; {named(others)}" if others else "")
    return f"{counted}, as of {oldest} ({whose})."


def stale_data(fresh: Sequence[Freshness]) -> str | None:
    """What is stale, said before anything else in the report; None when every source is fresh."""
    late = stale(list(fresh))
    kinds = [
        f"{label} of {named([f'{f.item} ({f.describe()})' for f in late if f.source == source])}"
        for source, label in ((PRICES, "prices"), (FILINGS, "SEC filings"))
        if any(f.source == source for f in late)
    ]
    if not kinds:
        return None
    return f"Stale data: {'; '.join(kinds)}. A claim on stale evidence is scored stale (see Data freshness)."


def named(items: Sequence[str]) -> str:
    """The first NAMED items, and how many more."""
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return ", ".join(items[:NAMED]) + more


def timeline_chart(con: duckdb.DuckDBPyConnection, claim_order: Sequence[str]) -> str:
    """Each claim's status week by week (marts.thesis_timeline), or why there is none."""
    why, rows = fetch(
        con,
        "marts.thesis_timeline",
        "select claim_id, strftime(week, '%Y-%m-%d'), status, as_of_date from marts.thesis_timeline order by week",
    )
    if why:
        return no_data(why)
    rank = {claim_id: i for i, claim_id in enumerate(claim_order)}
    claims = sorted({r[0] for r in rows}, key=lambda c: (rank.get(c, len(rank)), c))
    return status_grid(
        Chart("chart-timeline", "The thesis week by week", "week (Monday)", "claim", str(max(r[3] for r in rows)), []),
        claims,
        [(claim, week, status) for claim, week, status, _ in rows],
    )


def mart_table(
    con: duckdb.DuckDBPyConnection,
    title: str,
    mart: str,
    headers: Sequence[str],
    sql: str,
    classes: Sequence[str] = (),
) -> list[str]:
    """A heading and `sql`'s rows as a table, or why `mart` has none to show."""
    why, rows = fetch(con, mart, sql)
    return [f"<h3>{escape(title)}</h3>", no_data(why) if why else table(headers, rows, classes)]


def freshness(con: duckdb.DuckDBPyConnection, settings: Settings, fresh: Sequence[Freshness]) -> Section:
    at = reference(settings)
    body = [
        paragraph(
            f"Each source's age, as dbt's source freshness has it: prices in NYSE sessions after each ticker's "
            f"last bar, up to the session of {at.session} (warn from {settings.price_warn_after_sessions}, error "
            f"from {settings.price_error_after_sessions}); SEC filings in days from each company's latest 10-Q or "
            f"10-K to {at.day} (warn from {settings.filing_warn_after_days}, error from "
            f"{settings.filing_error_after_days}). A claim whose evidence is older than its source's error bound "
            "is scored stale."
        ),
    ]
    for title, source, headers, none in (
        ("Prices (Yahoo Finance)", PRICES, ["ticker", "last bar", "sessions old", "state"], "no tickers"),
        (
            "SEC filings (the companies in seeds/companies.csv)",
            FILINGS,
            ["company", "last 10-Q or 10-K filed", "days old", "state"],
            "raw.companies has no rows",
        ),
    ):
        items = [f for f in fresh if f.source == source]
        rows = [(f.item, f.last or "none loaded", f.age, f.state) for f in items[:LISTED]]
        body.append(f"<h3>{escape(title)}</h3>")
        body.append(table(headers, rows, ["", "", "num", "status"]) if rows else no_data(none))
        if len(items) > LISTED:
            unlisted = items[LISTED:]
            current = sum(1 for f in unlisted if f.state == FRESH)
            body.append(paragraph(f"And {len(unlisted):,} more, {current:,} of them fresh."))
    body += mart_table(
        con,
        "Capex guidance ledger",
        "marts.capex_guidance",
        ["ticker", "latest statement", "statements"],
        "select ticker, max(statement_date), count(*) from marts.capex_guidance group by ticker order by ticker",
        ["", "", "num"],
    )
    body.append("<h3>Last validation of each suite</h3>")
    validations = con.execute("""
        select suite, run_id, success, evaluated, failed, summary
        from meta.validations qualify row_number() over (partition by suite order by validated_at desc) = 1
        order by suite""").fetchall()
    body.append(
        table(
            ["suite", "run", "result", "expectations", "failed", "summary"],
            [(s, r, "passed" if ok else "FAILED", n, f, summary) for s, r, ok, n, f, summary in validations],
            ["", "", "", "num", "num", ""],
        )
        if validations
        else no_data("meta.validations has no rows")
    )
    return Section("freshness", "Data freshness and validation", "".join(body))
