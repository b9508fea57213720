"""The HTML report: rendered in headless Chromium, offline, and its charts checked against the marts."""

import datetime as dt
import json
import re
import shutil

import duckdb
import pytest

from cli.main import main
from pipeline.build import summary
from pipeline.build.report import sections, write_report
from pipeline.build.report.html import table
from pipeline.daily import daily, replay_sources
from pipeline.runtime.settings import SAMPLE_DIR, Settings
from tests import chromium
from tests.marts_by_hand import CAPEX_SLOPE, REPORTED, leverage, slope_rows
from tests.marts_by_hand import table as hand_set_table
from warehouse.publish import switch

ALL_CHARTS = [
    "chart-timeline",
    "chart-rebased",
    "chart-relative-strength",
    "chart-orcl-debt-equity",
    "chart-orcl-debt-to-equity",
    "chart-orcl-fcf",
    "chart-capex",
    "chart-capex-ttm-growth",
    "chart-capex-slope",
    "chart-guidance",
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample, run through the pipeline once: its settings."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("report") / "var")
    daily(settings, *replay_sources(SAMPLE_DIR, mode="sample"))
    return settings


def copy_of(sample, tmp_path_factory, name, change):
    """The sample's warehouse copied, changed by `change(con)`, and its report published as a build
    publishes it: into a version folder that then becomes current."""
    settings = sample.replace(data_dir=tmp_path_factory.mktemp(name) / "var")
    settings.data_dir.mkdir(parents=True)
    shutil.copy(sample.paths.warehouse, settings.paths.warehouse)
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        change(con)
    version = settings.paths.version(name)
    write_report(settings, version / "report.html")
    switch(settings.paths.published, version)
    return settings


def without_sec_marts(con):
    con.execute("drop table marts.leverage; drop table marts.capex_slope")


@pytest.fixture(scope="module")
def bare(sample, tmp_path_factory):
    """The sample's warehouse without marts.leverage and marts.capex_slope."""
    return copy_of(sample, tmp_path_factory, "bare", without_sec_marts)


@pytest.fixture(scope="module")
def hand_set(sample, tmp_path_factory):
    """The sample's warehouse with hand-set leverage and capex_slope marts in place of its own."""

    def hand_set_marts(con):
        without_sec_marts(con)
        leverage(con)
        hand_set_table(
            con,
            "marts.capex_slope",
            CAPEX_SLOPE,
            slope_rows(REPORTED, {"MSFT": 0.30, "GOOGL": 0.70, "AMZN": 0.20, "META": 0.60, "ORCL": 1.0}),
        )

    return copy_of(sample, tmp_path_factory, "hand-set", hand_set_marts)


# A screen of 60 tickers, S00 to S59: on its last session (2025-08-05) S<i>'s excess return since
# the anchor is ((7 i) mod 60 - 30) / 100, and the opposite on the sessions before, so only the last
# session's ranks count. 7 i mod 60 is 59, 58, 57, 56, 55 for i = 17, 34, 51, 8, 25 (the top five)
# and 0, 1, 2, 3, 4 for i = 0, 43, 26, 9, 52 (the bottom five).
SCREEN = tuple(f"S{i:02d}" for i in range(60))
TOP, BOTTOM = ["S17", "S34", "S51", "S08", "S25"], ["S52", "S09", "S26", "S43", "S00"]


def screen_of_60(con):
    con.execute("delete from marts.relative_performance")
    con.execute(
        """
        insert into marts.relative_performance by name
        select day as date, 'S' || lpad(i::varchar, 2, '0') as ticker, '^SOX' as benchmark,
               10 + i + d as adj_close, 50 + d as benchmark_adj_close,
               100 + i + d as rebased, 100 + d as benchmark_rebased, 100 + i as relative_strength,
               (case when d = 2 then 1 else -1 end) * ((7 * i) % 60 - 30) / 100 as excess_return_since_anchor
        from range(60) as t(i),
             (values (0, date '2025-08-01'), (1, date '2025-08-04'), (2, date '2025-08-05')) as s(d, day)"""
    )


@pytest.fixture(scope="module")
def screened(sample, tmp_path_factory):
    """The sample's warehouse with marts.relative_performance holding the 60 tickers of SCREEN, all configured."""
    return copy_of(sample.replace(tickers=SCREEN), tmp_path_factory, "screen", screen_of_60)


@pytest.fixture(scope="session")
def browser_installed():
    why = chromium.install()
    if why:
        pytest.skip(why)


def chart_data(settings):
    html = settings.paths.report.read_text()
    blocks = re.findall(
        r'<script type="application/json" class="chart-data" data-chart="([^"]+)">(.*?)</script>', html, re.S
    )
    return {chart_id: json.loads(text) for chart_id, text in blocks}


@pytest.mark.slow  # a browser
@pytest.mark.parametrize("which, charts", [("sample", ALL_CHARTS), ("hand_set", ALL_CHARTS), ("screened", ALL_CHARTS)])
def test_report_renders_offline_in_chromium(request, browser_installed, tmp_path, which, charts):
    settings = request.getfixturevalue(which)
    screenshot = tmp_path / f"report-{which}.png"
    with chromium.browser() as page:
        seen = chromium.render(page, settings.paths.report, screenshot)
    print(f"screenshot: {screenshot}")
    assert [c["id"] for c in seen["charts"]] == charts
    for chart in seen["charts"]:
        # At a 1000-pixel window the card is 960 pixels wide, less its border: charts fill it.
        assert chart["width"] > 900 and chart["height"] > 50, chart
        assert chart["marks"] >= 1, chart
        assert chart["title"] and chart["asOf"].startswith("as of 20"), chart
        assert len(chart["labels"]) == 2 and all(chart["labels"]), chart
    assert chromium.errors(seen["events"]) == []
    urls = chromium.requested(seen["events"])
    assert urls and all(url.split(":", 1)[0] in ("file", "data", "about") for url in urls), urls
    assert screenshot.stat().st_size > 10_000


def points(chart, name):
    return {x: y for x, y in next(s for s in chart["series"] if s["name"] == name)["points"]}


@pytest.mark.slow
def test_price_charts_plot_the_mart(sample):
    charts = chart_data(sample)
    assert sorted(charts) == sorted(ALL_CHARTS)
    with duckdb.connect(str(sample.paths.analyst_copy), read_only=True) as con:
        rows = con.execute("""select strftime(date, '%Y-%m-%d'), ticker, rebased, benchmark_rebased, relative_strength
                              from marts.relative_performance where date >= '2025-08-01'""").fetchall()
    for ticker in ("NVDA", "ORCL"):
        mart = {d: (r, b, s) for d, t, r, b, s in rows if t == ticker}
        assert points(charts["chart-rebased"], ticker) == pytest.approx({d: v[0] for d, v in mart.items()})
        assert points(charts["chart-relative-strength"], ticker) == pytest.approx({d: v[2] for d, v in mart.items()})
        assert points(charts["chart-rebased"], "^SOX") == pytest.approx({d: v[1] for d, v in mart.items()})
    assert charts["chart-rebased"]["as_of"] == "2026-03-06"
    assert "marts.relative_performance holds 2 tickers; the charts draw the 2 tickers the settings name" in (
        sample.paths.report.read_text()
    )


@pytest.mark.slow
def test_guidance_chart_plots_the_latest_ranges(sample, hand_set):
    with duckdb.connect(str(sample.paths.analyst_copy), read_only=True) as con:
        meta = con.execute("""select low_usd_bn, high_usd_bn, mid_usd_bn from marts.capex_guidance
                              where ticker = 'META' and fiscal_period = 'FY2026' and superseded_on is null
                              """).fetchone()
    ranges = {r["label"]: r for r in chart_data(sample)["chart-guidance"]["ranges"]}
    assert (ranges["META FY2026"]["low"], ranges["META FY2026"]["high"], ranges["META FY2026"]["mid"]) == meta
    assert ranges["META FY2026"]["reported"] is None  # the sample's Meta-like filer reports 2025 to Q3 only
    # With the hand-set capex mart, reported capex is the four 2025 quarters: 12 + 14 + 16 + 18.
    hand_ranges = {r["label"]: r for r in chart_data(hand_set)["chart-guidance"]["ranges"]}
    assert hand_ranges["META FY2026"]["reported"] == pytest.approx(60)


def test_sec_and_capex_charts_plot_their_marts(hand_set):
    charts = chart_data(hand_set)
    assert points(charts["chart-orcl-debt-equity"], "total debt") == pytest.approx({"FY2026 Q1": 92, "FY2026 Q2": 108})
    assert points(charts["chart-orcl-debt-to-equity"], "debt to equity")["FY2026 Q2"] == pytest.approx(108 / 26)
    assert points(charts["chart-orcl-fcf"], "trailing twelve months") == pytest.approx(
        {"FY2026 Q1": -5.9, "FY2026 Q2": -13}
    )
    assert points(charts["chart-capex"], "MSFT") == pytest.approx(
        {"2025Q1": 12, "2025Q2": 14, "2025Q3": 16, "2025Q4": 18, "2026Q1": None}
    )
    assert points(charts["chart-capex-slope"], "HYPERSCALERS") == pytest.approx(
        {"2025Q2": 1, "2025Q3": -2, "2025Q4": -1, "2026Q1": 5}
    )
    assert charts["chart-capex"]["as_of"] == "2026-03-31"


def test_sections_without_their_mart_say_why(bare):
    html = bare.paths.report.read_text()
    assert "No data yet: marts.leverage is not built in this warehouse yet" in html
    assert "No data yet: marts.capex_slope is not built in this warehouse yet" in html
    assert "No data yet: reported capex for comparison: marts.capex_slope is not built" in html
    assert "SAMPLE DATA" in html
    # Self-contained: no script that runs, no link, no remote reference of any kind.
    assert not re.search(
        r"<script(?![^>]*application/json)|<link|<img|@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html
    )


def test_the_report_command_writes_it_again(sample, capsys):
    with pytest.raises(SystemExit) as done:
        main(["report", "--help"])
    assert done.value.code == 0 and "usage: thesis report" in capsys.readouterr().out
    sample.paths.report.unlink()
    assert main(["report", "--data-dir", str(sample.data_dir)]) == 0
    assert capsys.readouterr().out.startswith(f"Report: {sample.paths.report} (")
    assert sample.paths.report.stat().st_size > 10_000


def test_the_report_command_needs_a_published_version(sample, tmp_path, capsys):
    settings = sample.replace(data_dir=tmp_path / "var")
    settings.data_dir.mkdir()
    shutil.copy(sample.paths.warehouse, settings.paths.warehouse)
    assert main(["report", "--data-dir", str(settings.data_dir)]) == 1
    assert capsys.readouterr().err == (
        f"thesis: error: nothing is published in {settings.paths.published} yet: run `thesis build` first\n"
    )
    assert not settings.paths.published.exists()


def test_text_is_escaped():
    assert table(["<h>"], [["<script>alert(1)</script> & co"]]) == (
        "<table><thead><tr><th>&lt;h&gt;</th></tr></thead><tbody><tr>"
        "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</td></tr></tbody></table>"
    )


def test_the_headline_tallies_the_latest_scores(sample):
    with duckdb.connect(str(sample.paths.analyst_copy), read_only=True) as con:
        [statuses] = con.execute(
            "select list(status) from marts.thesis_scorecard "
            "where run_id = (select max(run_id) from marts.thesis_scorecard)"
        ).fetchone()
    supported, stale = statuses.count("supported"), statuses.count("stale")
    # Every series of the sample ends 2026-03-06 (sample/README.md), the oldest last bar there is.
    assert (
        f'<p class="headline">{supported} of {len(statuses)} claims supported and {stale} stale, '
        "as of 2026-03-06 (NVDA, ORCL, ^SOX).</p>"
    ) in sample.paths.report.read_text()


def test_the_timeline_chart_plots_the_mart(sample):
    with duckdb.connect(str(sample.paths.analyst_copy), read_only=True) as con:
        rows = con.execute(
            "select claim_id, strftime(week, '%Y-%m-%d'), status from marts.thesis_timeline order by all"
        ).fetchall()
    cells = chart_data(sample)["chart-timeline"]["cells"]
    assert sorted(map(tuple, cells)) == rows and len(rows) > 8


def test_oracle_charts_start_where_their_data_starts(sample):
    """The sample's Oracle-like filer reports capex from FY2023 but debt and equity from FY2025:
    the debt chart's first quarter has a figure."""
    chart = chart_data(sample)["chart-orcl-debt-equity"]
    debt, equity = (
        next(s for s in chart["series"] if s["name"] == n)["points"] for n in ("total debt", "stockholders' equity")
    )
    assert debt[0][1] is not None or equity[0][1] is not None


def test_a_screen_s_run_summary_names_its_top_and_bottom_tickers_and_counts_the_rest(screened):
    with duckdb.connect(str(screened.paths.warehouse), read_only=True) as con:
        lines = summary.performance_lines(con, screened)
    assert lines[0] == "Since the anchor (first session on or after 2025-08-01), the top and bottom 5 by excess return:"
    assert [line.split()[0] for line in lines[1:11]] == TOP + BOTTOM
    # S17 on 2025-08-05: rebased 119, ^SOX 102, excess (59 - 30) %, relative strength 117.
    assert lines[1] == (
        "  S17      +19.0%  vs ^SOX    +2.0%  excess   +29.0 pp  relative strength  117.0  (2025-08-01 .. 2025-08-05)"
    )
    assert lines[11:] == ["  and 50 more tickers: every one is in marts.relative_performance"]


def test_the_summary_dates_the_anchor_where_rebasing_does_not_come_to_exactly_100():
    # 100 * a / a is 99.99999999999999 for a = 3818.8754571368804 (as for about one price in ten):
    # the anchor is the first session on or after the anchor date, whatever `rebased` says there.
    assert 100 * 3818.8754571368804 / 3818.8754571368804 != 100
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        """create table marts.relative_performance as
        select day as date, 'X' as ticker, '^SOX' as benchmark, a as adj_close,
               100 * a / 3818.8754571368804::double as rebased,
               100.0 as benchmark_rebased, 0.0 as excess_return_since_anchor, 100.0 as relative_strength
        from (values (date '2025-07-31', 3800.0::double), (date '2025-08-01', 3818.8754571368804::double),
                     (date '2025-08-04', 3818.8754571368804::double)) as t(day, a)"""
    )
    settings = Settings(tickers=("X",), anchor_date="2025-08-01")
    [_, line] = summary.performance_lines(con, settings)
    assert line.endswith("(2025-08-01 .. 2025-08-04)")


def test_a_screen_charts_its_top_and_bottom_tickers(screened):
    charts = chart_data(screened)
    assert [s["name"] for s in charts["chart-relative-strength"]["series"]] == TOP + BOTTOM
    assert [s["name"] for s in charts["chart-rebased"]["series"]] == [*TOP, *BOTTOM, "^SOX"]
    assert points(charts["chart-rebased"], "S17") == {"2025-08-01": 117, "2025-08-04": 118, "2025-08-05": 119}
    assert points(charts["chart-rebased"], "^SOX") == {"2025-08-01": 100, "2025-08-04": 101, "2025-08-05": 102}
    assert points(charts["chart-relative-strength"], "S00") == {
        d: 100 for d in ("2025-08-01", "2025-08-04", "2025-08-05")
    }
    html = screened.paths.report.read_text()
    assert "marts.relative_performance holds 60 tickers; a screen: the charts draw its top and bottom 5" in html
    # The table of the ten: S17's excess is (59 - 30) %, S00's (0 - 30) %.
    assert '<td>S17</td><td class="num">29.00</td>' in html and '<td>S00</td><td class="num">-30.00</td>' in html
    section = re.search(r'<section id="relative-performance">.*?</section>', html, re.S).group()
    assert "S12" not in section  # 7 x 12 mod 60 = 24: in the middle, neither drawn nor listed
    # The freshness table lists 40 of the 61 tickers priced (the 60 and ^SOX), the 60 with no bars first.
    assert "<td>S39</td><td>none loaded</td>" in html and "<td>S40</td>" not in html
    assert "And 21 more, " in html


def test_a_long_series_is_thinned_to_the_last_session_of_each_week(tmp_path):
    """1,000 weekdays from Monday 2020-01-06 are 200 whole weeks, more sessions than the chart's 870
    pixels across: each line keeps the Fridays, session 5 k + 4 of week k."""
    con = duckdb.connect()
    con.execute("""
        create schema marts;
        create table marts.relative_performance as
        select day::date as date, ticker, '^SOX' as benchmark, n::double as rebased, 100.0 as benchmark_rebased,
               n::double as relative_strength
        from (
            select day, row_number() over (order by day) - 1 as n
            from range(date '2020-01-06', date '2024-01-01', interval 1 day) as t(day)
            where dayofweek(day) between 1 and 5 qualify n < 1000
            union all select date '2020-01-03', -1  -- before the anchor: not drawn
        ), (values ('AAA'), ('BBB'), ('CCC')) as tickers(ticker)""")
    settings = Settings(data_dir=tmp_path, tickers=("BBB", "AAA"), anchor_date="2020-01-06")
    step, sessions, rows = sections.chart_rows(con, settings, settings.tickers)
    assert (step, sessions) == ("week", 1000)
    fridays = [(dt.date(2020, 1, 10) + dt.timedelta(weeks=k), 5.0 * k + 4) for k in range(200)]
    assert [(r[1], r[0], r[3]) for r in rows] == [(t, d, v) for t in ("BBB", "AAA") for d, v in fridays]
