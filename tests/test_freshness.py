"""Source freshness: ages in NYSE sessions and in days, their states, and where stale data shows:
the run summary, `thesis status`, the report's headline, and claims scored `stale`."""

import contextlib
import datetime as dt
import io

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.build import freshness, scorecard, summary
from pipeline.build.report import sections
from pipeline.runtime.errors import SettingsError
from pipeline.runtime.settings import CLAIMS, Settings, load_settings
from tests.conftest import summary_lines
from tests.ledger import ledger_known_on
from tests.marts_by_hand import leverage
from transforms import runner
from warehouse.connection import create_schema

D = dt.date
# The Mondays after ^SOX's last bar (Friday 2026-03-06) up to the week of NVDA's last (Thursday
# 2026-07-23), read off a calendar: March 9, 16, 23, 30 (4), April 6..27 (4), May 4..25 (4),
# June 1..29 (5), July 6..20 (3): 20 weeks.
WEEKS_AFTER_SOX = [
    D(2026, 3, 9), D(2026, 3, 16), D(2026, 3, 23), D(2026, 3, 30),
    D(2026, 4, 6), D(2026, 4, 13), D(2026, 4, 20), D(2026, 4, 27),
    D(2026, 5, 4), D(2026, 5, 11), D(2026, 5, 18), D(2026, 5, 25),
    D(2026, 6, 1), D(2026, 6, 8), D(2026, 6, 15), D(2026, 6, 22), D(2026, 6, 29),
    D(2026, 7, 6), D(2026, 7, 13), D(2026, 7, 20),
]  # fmt: skip
# NYSE sessions after 2026-03-06, by month: March 9-31 has 17 weekdays; April 22 less Good Friday
# (04-03) = 21; May 21 less Memorial Day (05-25) = 20; June 22 less Juneteenth (06-19) = 21; July
# 1-23 has 17 less Independence Day observed (07-03) = 16. To 2026-07-23: 95 sessions.
SOX_AGE_JULY = 17 + 21 + 20 + 21 + 16
# On to Tuesday 2026-12-01: July 24-31 has 6; August 21; September 22 less Labor Day (09-07) = 21;
# October 22; November 21 less Thanksgiving (11-26) = 20; December 1 is 1: 91 more.
NVDA_AGE_DECEMBER = 6 + 21 + 21 + 22 + 20 + 1
SOX_AGE_DECEMBER = SOX_AGE_JULY + NVDA_AGE_DECEMBER


def test_a_series_ages_in_sessions_across_a_weekend_and_a_holiday():
    # Last bar Wednesday 2026-11-25. Thursday 11-26 is Thanksgiving, Friday 11-27 a half-day
    # session, 11-28 and 11-29 a weekend, Monday 11-30 a session: two sessions after the bar.
    assert freshness.session_ages({"NVDA": D(2026, 11, 25)}, D(2026, 11, 30)) == {"NVDA": 2}
    assert freshness.session_ages({"NVDA": D(2026, 11, 27), "ORCL": D(2026, 11, 30)}, D(2026, 11, 30)) == {
        "NVDA": 1,
        "ORCL": 0,
    }
    # After Monday's close the clock has closed 11-30; at 10:00 that morning the last closed
    # session is Friday's, so a bar of 11-25 is one session old then.
    assert freshness.reference(Settings(today="2026-11-30")) == freshness.Reference(D(2026, 11, 30), D(2026, 11, 30))
    morning = freshness.reference(Settings(today="2026-11-30T10:00"))
    assert morning.session == D(2026, 11, 27)
    assert freshness.session_ages({"NVDA": D(2026, 11, 25)}, morning.session) == {"NVDA": 1}
    # A build as of Sunday 2026-11-29 ages to Friday's session and to that Sunday.
    assert freshness.reference(Settings(today="2026-12-01", as_of="2026-11-29")) == freshness.Reference(
        D(2026, 11, 27), D(2026, 11, 29)
    )


def test_the_reference_holds_until_the_next_midnight_or_the_next_close_whichever_is_first():
    utc = dt.UTC
    # Monday 2026-03-09 at 18:00 in New York (EDT since the 8th): Monday's session has closed and
    # settled; Tuesday's closes at 16:00 the next day, after New York's midnight (04:00 UTC).
    assert freshness.reference_until(Settings(today="2026-03-09T18:00")) == dt.datetime(2026, 3, 10, 4, tzinfo=utc)
    # The same Monday at 10:00: Friday's session is the last closed one until Monday's closes at
    # 16:00 (20:00 UTC) and settles, 30 minutes by default.
    assert freshness.reference_until(Settings(today="2026-03-09T10:00")) == dt.datetime(2026, 3, 9, 20, 30, tzinfo=utc)
    # Thanksgiving's Friday, 2026-11-27 at 10:00 (EST): a half day, closing at 13:00 (18:00 UTC).
    friday = Settings(today="2026-11-27T10:00", session_settle_minutes=45)
    assert freshness.reference_until(friday) == dt.datetime(2026, 11, 27, 18, 45, tzinfo=utc)
    # Saturday: the next midnight, not Monday's close.
    assert freshness.reference_until(Settings(today="2026-11-28T12:00")) == dt.datetime(2026, 11, 29, 5, tzinfo=utc)
    # An as-of build is never taken as current.
    assert freshness.reference_until(Settings(today="2026-12-01", as_of="2026-11-29")) is None


def test_the_default_bounds_and_their_states():
    settings = Settings()
    assert (settings.price_warn_after_sessions, settings.price_error_after_sessions) == (1, 5)
    assert (settings.filing_warn_after_days, settings.filing_error_after_days) == (100, 140)
    states = [freshness.state(age, 1, 5) for age in (0, 1, 4, 5, 6, None)]
    assert states == ["fresh", "warn", "warn", "error", "error", "error"]
    assert [freshness.state(age, 100, 140) for age in (99, 100, 139, 140)] == ["fresh", "warn", "warn", "error"]


def test_an_error_bound_below_its_warn_bound_is_refused_naming_both(monkeypatch):
    monkeypatch.setenv("THESIS_FILING_WARN_AFTER_DAYS", "150")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == (
        "THESIS_FILING_ERROR_AFTER_DAYS=140 is not valid: must be at least THESIS_FILING_WARN_AFTER_DAYS (150)"
    )
    assert load_settings(filing_error_after_days=150).filing_error_after_days == 150


@pytest.fixture
def warehouse():
    with duckdb.connect() as con:
        create_schema(con)
        yield con


def bars(con, last):
    con.executemany(
        "insert into raw.prices (ticker, date, open, high, low, close, adj_close, volume, close_is_adjusted, "
        "payload_sha256, run_id, loaded_at) values (?, ?, 1, 1, 1, 1, 1, 0, false, 'x', 'r', now())",
        [[ticker, day] for ticker, day in last.items()],
    )


def company(con, ticker, cik, *filings):
    con.execute("insert into raw.companies values (?, ?, ?, '1231')", [ticker, cik, ticker])
    for i, (form, filed) in enumerate(filings):
        con.execute(
            'insert into raw.xbrl_facts (cik, taxonomy, concept, unit, period, "end", val, accn, form, filed, '
            "payload_sha256, run_id, loaded_at) "
            "values (?, 'us-gaap', 'Assets', 'USD', ?, ?, 1, ?, ?, ?, 'x', 'r', now())",
            [cik, f"p{i}", filed, f"{cik:010d}-26-{i:06d}", form, filed],
        )


def test_a_company_ages_in_days_since_its_latest_10q_or_10k(warehouse):
    company(warehouse, "ORCL", 1341439, ("10-Q", D(2026, 8, 20)), ("8-K", D(2026, 11, 20)), ("10-K/A", D(2026, 11, 2)))
    company(warehouse, "MSFT", 789019, ("10-K", D(2026, 7, 30)), ("10-Q", D(2026, 10, 29)))
    company(warehouse, "META", 1326801)

    def filings(settings):
        measured = freshness.measure(warehouse, settings)
        return {f.item: (f.last, f.age, f.state) for f in measured if f.source == freshness.FILINGS}

    # ORCL's 8-K and 10-K/A bring no quarter: its 10-Q of 2026-08-20 is 11 + 30 + 31 + 30 + 1 = 103
    # days old on 2026-12-01, past 100, short of 140. MSFT's 10-Q of 10-29 is 2 + 30 + 1 = 33 days old.
    assert filings(Settings(today="2026-12-01")) == {
        "META": (None, None, "error"),
        "ORCL": (D(2026, 8, 20), 103, "warn"),
        "MSFT": (D(2026, 10, 29), 33, "fresh"),
    }
    # As of 2026-09-30 nothing filed later is seen: ORCL's 10-Q is 11 + 30 = 41 days old, MSFT's
    # 10-K 1 + 31 + 30 = 62.
    assert filings(Settings(today="2026-12-01", as_of="2026-09-30")) == {
        "META": (None, None, "error"),
        "ORCL": (D(2026, 8, 20), 41, "fresh"),
        "MSFT": (D(2026, 7, 30), 62, "fresh"),
    }


def test_the_stale_items_are_listed_oldest_first(warehouse):
    # Sessions after each bar up to 2026-12-01: NVDA none; ORCL (11-24) 11-25, 27, 30, 12-01 = 4;
    # ^SOX (11-23) one more = 5, the error bound; AMD has no bar.
    bars(warehouse, {"NVDA": D(2026, 12, 1), "ORCL": D(2026, 11, 24), "^SOX": D(2026, 11, 23)})
    company(warehouse, "MSFT", 789019, ("10-Q", D(2026, 10, 29)))
    settings = Settings(today="2026-12-01", tickers=("NVDA", "ORCL", "AMD"))
    assert summary.stale_lines(warehouse, settings) == [
        "Stale data (prices aged to the session of 2026-12-01, SEC filings to 2026-12-01; "
        "docs/operations.md: Freshness):",
        "  error  prices   AMD    no bars loaded",
        "  error  prices   ^SOX   last bar 2026-11-23, 5 sessions old",
        "  warn   prices   ORCL   last bar 2026-11-24, 4 sessions old",
    ]
    fresh = freshness.measure(warehouse, settings)
    assert sections.stale_data(fresh) == (
        "Stale data: prices of AMD (no bars loaded), ^SOX (last bar 2026-11-23, 5 sessions old), ORCL (last bar "
        "2026-11-24, 4 sessions old). A claim on stale evidence is scored stale (see Data freshness)."
    )


def test_a_screen_s_stale_items_are_listed_forty_per_source_then_counted(warehouse):
    # 45 tickers with no bar (error) and ORCL 4 sessions old (warn): 46 stale tickers, 40 listed,
    # then 5 errors and the warning counted. MSFT's 10-Q of 08-20 is 103 days old on 12-01: listed
    # after them, not lost among them.
    tickers = tuple(f"T{i:02d}" for i in range(45))
    bars(warehouse, {"ORCL": D(2026, 11, 24), "^SOX": D(2026, 12, 1)})
    company(warehouse, "MSFT", 789019, ("10-Q", D(2026, 8, 20)))
    lines = summary.stale_lines(warehouse, Settings(today="2026-12-01", tickers=(*tickers, "ORCL")))
    assert len(lines) == 1 + 40 + 1 + 1
    assert all(line.startswith("  error  prices   T") and "no bars loaded" in line for line in lines[1:41])
    assert lines[41:] == [
        "  and 6 more tickers: 5 error, 1 warn",
        "  warn   filings  MSFT   last 10-Q or 10-K filed 2026-08-20, 103 days old",
    ]


def test_a_run_s_failures_are_listed_forty_then_counted():
    failed = {f"T{i:02d}": "Yahoo Finance returned no prices" for i in range(43)}
    lines = summary.failed_lines(failed)
    assert lines[:2] == ["Failed (not loaded; the rest was):", "  T00    Yahoo Finance returned no prices"]
    assert lines[40] == "  T39    Yahoo Finance returned no prices"
    assert lines[41:] == ["  and 3 more: meta.runs.failed lists every one, with why"]


def test_nothing_is_listed_when_every_source_is_fresh(warehouse):
    bars(warehouse, {"NVDA": D(2026, 12, 1), "ORCL": D(2026, 12, 1), "^SOX": D(2026, 12, 1)})
    company(warehouse, "MSFT", 789019, ("10-Q", D(2026, 10, 29)))
    settings = Settings(today="2026-12-01")
    assert summary.stale_lines(warehouse, settings) == []
    assert sections.stale_data(freshness.measure(warehouse, settings)) is None


def test_a_filed_figure_is_stale_once_its_period_is_the_error_bound_old(warehouse):
    runner.set_variables(warehouse, Settings().variables())
    leverage(warehouse)  # ORCL's latest quarter ends 2025-11-30: debt to equity 108 / 26
    claims = scorecard.load_claims(CLAIMS)

    def scored(today):
        bounds = freshness.bounds(Settings(today=today))
        return {s.claim_id: s for s in scorecard.evaluate(warehouse, claims, None, bounds)}["orcl_debt_to_equity"]

    # 2025-11-30 to 2026-04-18 is 31 + 31 + 28 + 31 + 18 = 139 days: current. A day later, 140: stale,
    # the value kept and the evidence saying which bound it missed.
    assert scored("2026-04-18").status == "supported"
    stale = scored("2026-04-19")
    assert (stale.status, stale.value, stale.as_of) == ("stale", pytest.approx(108 / 26), D(2025, 11, 30))
    assert stale.evidence.endswith(
        "; stale: the evidence ends 2025-11-30, and filed figures are current for 140 days after their period, "
        "from 2025-12-01 to 2026-04-19"
    )


# The tests on it run on one xdist worker, so the replay runs once; they are slow, that replay is a
# whole run of the real payloads.
ON_JULY = pytest.mark.xdist_group("july")


@pytest.fixture(scope="module")
def july(realdata, tmp_path_factory):
    """../shared/realdata run by `thesis run --from` with the clock after the close of 2026-07-23,
    the last bar of NVDA and ORCL: of the prices only ^SOX, which ends 2026-03-06, is stale. Its
    settings and what the command printed."""
    data_dir = tmp_path_factory.mktemp("july") / "var"
    ledger = ledger_known_on("2026-07-23", data_dir.parent / "capex_guidance.csv")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(printed):
        env.setenv("THESIS_TODAY", "2026-07-23")
        env.setenv("THESIS_GUIDANCE_LEDGER", str(ledger))
        assert main(["run", "--from", str(realdata), "--data-dir", str(data_dir)]) == 0
    return Settings(data_dir=data_dir, today="2026-07-23"), printed.getvalue()


@ON_JULY
@pytest.mark.slow
def test_the_run_summary_names_the_stale_benchmark(july):
    _, printed = july
    lines = summary_lines(printed)
    # The real companyfacts: MSFT's last 10-K was filed 2025-07-30, 365 - 7 = 358 days before; NVDA's
    # last 10-Q 2026-05-20, 11 + 30 + 23 = 64 days before (fresh); the other companies have none.
    assert lines[2:10] == [
        "Stale data (prices aged to the session of 2026-07-23, SEC filings to 2026-07-23; "
        "docs/operations.md: Freshness):",
        f"  error  prices   ^SOX   last bar 2026-03-06, {SOX_AGE_JULY} sessions old",
        "  error  filings  AMZN   no 10-Q or 10-K loaded",
        "  error  filings  GOOGL  no 10-Q or 10-K loaded",
        "  error  filings  META   no 10-Q or 10-K loaded",
        "  error  filings  ORCL   no 10-Q or 10-K loaded",
        "  error  filings  MSFT   last 10-Q or 10-K filed 2025-07-30, 358 days old",
        "This run:",
    ]
    assert "Thesis scorecard: 1 supported, 1 not supported, 1 stale, 5 insufficient data" in lines


@pytest.mark.slow
def test_the_run_summary_ages_to_the_runs_clock(real_run):
    settings, result = real_run
    text = summary.run_summary(settings, result.run_id, sample=False)
    # The suite's clock, 2026-12-01 after the close, has every price series stale.
    assert f"  error  prices   ^SOX   last bar 2026-03-06, {SOX_AGE_DECEMBER} sessions old" in text
    assert f"  error  prices   NVDA   last bar 2026-07-23, {NVDA_AGE_DECEMBER} sessions old" in text
    # NVDA's 10-Q of 2026-05-20 is 64 + 8 + 31 + 30 + 31 + 30 + 1 = 195 days old by then.
    assert "  error  filings  NVDA   last 10-Q or 10-K filed 2026-05-20, 195 days old" in text


@ON_JULY
@pytest.mark.slow
def test_status_names_the_stale_benchmark_at_the_clock_reading_it(july, monkeypatch, capsys):
    settings, _ = july
    monkeypatch.setenv("THESIS_TODAY", "2026-07-23")
    assert main(["status", "--data-dir", str(settings.data_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"  error  prices   ^SOX   last bar 2026-03-06, {SOX_AGE_JULY} sessions old" in out
    assert not [line for line in out if "prices   NVDA" in line or "prices   ORCL" in line]
    assert not [line for line in out if "filings  NVDA" in line]
    monkeypatch.setenv("THESIS_TODAY", "2026-12-01")
    assert main(["status", "--data-dir", str(settings.data_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"  error  prices   ^SOX   last bar 2026-03-06, {SOX_AGE_DECEMBER} sessions old" in out
    assert f"  error  prices   NVDA   last bar 2026-07-23, {NVDA_AGE_DECEMBER} sessions old" in out


@ON_JULY
@pytest.mark.slow
def test_the_claim_on_the_stale_benchmark_is_stale_and_the_fresh_ones_are_scored(july):
    settings, _ = july
    scores = pd.read_parquet(settings.paths.parquet / "thesis_scorecard.parquet").set_index("claim_id")
    # ^SOX ends 2026-03-06: NVDA 173.4889 -> 177.6034, ^SOX 5527.61 -> 7514.74; -33.6 pp would hold,
    # but the evidence is 95 sessions older than the clock's last session.
    claim = scores.loc["nvda_vs_sox"]
    assert (claim["status"], claim["as_of"]) == ("stale", D(2026, 3, 6))
    assert claim["value"] == pytest.approx(100 * (177.6034 / 173.4889 - 7514.74 / 5527.61), abs=0.01)
    assert "last bars: NVDA 2026-07-23, ^SOX 2026-03-06; stale: the evidence ends 2026-03-06" in claim["evidence"]
    # NVDA's and ORCL's own claims end on the last closed session: scored as they stand.
    assert scores.loc["nvda_range_20d", "status"] == "not_supported"  # 212.50 on 2026-07-15
    assert scores.loc["orcl_below_pre_jump_close", "status"] == "supported"  # 120.04 against 238.79


@pytest.mark.slow
def test_the_timeline_scores_the_weeks_after_the_benchmark_ends_stale(real_run):
    settings, _ = real_run
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select week, status, evidence from marts.thesis_timeline where claim_id = 'nvda_vs_sox' order by week"
        ).fetchall()
    after = [(week, status) for week, status, _ in rows if week > D(2026, 3, 6)]
    assert after == [(week, "stale") for week in WEEKS_AFTER_SOX]
    # The week of ^SOX's last bar has it: scored as it stands (-33.6 pp, supported).
    assert [status for week, status, _ in rows if week == D(2026, 3, 2)] == ["supported"]
    first = next(evidence for week, _, evidence in rows if week == D(2026, 3, 9))
    assert first.endswith(
        "last bars: NVDA 2026-03-13, ^SOX 2026-03-06; stale: the evidence ends 2026-03-06, "
        "and prices are current within their week, from 2026-03-09"
    )


@ON_JULY
@pytest.mark.slow
def test_the_report_says_stale_first_and_its_headline_names_the_oldest_as_of(july):
    settings, _ = july
    html = settings.paths.report.read_text()
    top = html[html.index("<h1>") :].split("</p>")
    assert top[0] == (
        '<h1>Thesis report</h1><p class="stale-data">Stale data: prices of ^SOX (last bar 2026-03-06, '
        f"{SOX_AGE_JULY} sessions old); SEC filings of AMZN (no 10-Q or 10-K loaded), GOOGL (no 10-Q or 10-K "
        "loaded), META (no 10-Q or 10-K loaded), ORCL (no 10-Q or 10-K loaded), MSFT (last 10-Q or 10-K filed "
        "2025-07-30, 358 days old). A claim on stale evidence is scored stale (see Data freshness)."
    )
    assert top[1] == (
        '<p class="headline">1 of 8 claims supported and 1 stale, as of 2026-03-06 '
        "(^SOX; NVDA 2026-07-23, ORCL 2026-07-23)."
    )
