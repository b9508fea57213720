"""The raw-prices suite on small batches, without the rest of the pipeline (and, for a batch that
fails or warns, through pipeline.ingest.prices: what it loads and what its report lists)."""

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from expectations import raw_prices
from expectations.validate import run_suite
from pipeline.ingest.prices import ingest_prices, limits
from pipeline.runtime import trading_calendar
from pipeline.runtime.errors import ValidationFailed
from pipeline.runtime.settings import Settings
from pipeline.sources.prices import ImportedPrices

RUN_DATE = dt.date(2026, 1, 30)  # a Friday, long after every bar below but the future ones


def batch(closes, splits=None, ticker="AAA", days=None):
    days = days if days is not None else pd.bdate_range("2025-03-03", periods=len(closes)).date
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": list(days),
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "adj_close": closes,
            "volume": 10.0,
            "dividend": 0.0,
            "split_ratio": splits or [0.0] * len(closes),
            "close_is_adjusted": True,  # adj_close is the close, as from a file without one
        }
    )


def validate(frame, previous=None, run_date=RUN_DATE):
    previous = previous if previous is not None else pd.DataFrame({"ticker": [], "close": [], "adj_close": []})
    sessions = trading_calendar.sessions(min(frame["date"]), run_date)
    prepared = raw_prices.prepare(frame, previous, run_date, sessions, limits(Settings()))
    return run_suite(raw_prices.suite, prepared, raw_prices.ID_COLUMNS)


def warning(outcome):
    """The result of the warning expectation on `missing_sessions`: it passes, and lists the rows."""
    [result] = [
        r
        for r in outcome.report["result"]["results"]
        if r["expectation_config"]["kwargs"].get("column") == "missing_sessions"
    ]
    assert result["success"] is True
    return result


def warned(outcome):
    """The rows the warning lists: [{ticker, date, missing_sessions}]."""
    return warning(outcome)["result"]["unexpected_index_list"]


def test_a_clean_batch_passes():
    outcome = validate(batch([100, 101, 99, 120]))  # +21% at most
    assert outcome.success and outcome.failed == 0


def test_a_move_beyond_40_percent_without_a_split_fails():
    outcome = validate(batch([100, 101, 50.0, 52]))  # -50.5% on 2025-03-05
    assert not outcome.success
    assert outcome.summary == (
        "close-to-close move within ±40% unless a declared split explains it failed on 1 row: AAA 2025-03-05"
    )


def test_the_same_move_on_a_split_day_passes():
    assert validate(batch([100, 101, 50.5, 52], splits=[0, 0, 2.0, 0])).success


def test_the_first_bar_is_compared_with_the_last_stored_close():
    stored = pd.DataFrame({"ticker": ["AAA"], "close": [300.0], "adj_close": [300.0]})
    outcome = validate(batch([100, 101]), previous=stored)  # -66.7% against what is loaded
    assert outcome.summary.endswith("failed on 1 row: AAA 2025-03-03")


def test_nulls_and_non_positive_prices_are_named():
    frame = batch([100, 101, 102])
    frame.loc[1, "volume"] = None
    frame.loc[2, "adj_close"] = 0
    outcome = validate(frame)
    assert "volume is not null failed on 1 row: AAA 2025-03-04" in outcome.summary
    assert "adj_close > 0 failed on 1 row: AAA 2025-03-05" in outcome.summary
    assert dt.date(2025, 3, 5).isoformat() in json.dumps(outcome.report, default=str)


def test_a_bar_dated_after_the_run_date_fails_naming_ticker_and_date():
    # Run on Thursday 2026-01-29: a bar for Friday 2026-01-30 cannot exist yet.
    frame = batch([100, 101, 102], days=[dt.date(2026, 1, 28), dt.date(2026, 1, 29), dt.date(2026, 1, 30)])
    outcome = validate(frame, run_date=dt.date(2026, 1, 29))
    assert not outcome.success and outcome.failed == 1
    assert outcome.summary == "no bar dated after the run date (today in New York) failed on 1 row: AAA 2026-01-30"


def test_a_bar_on_christmas_fails_as_a_closed_day():
    # Wednesday 2025-12-24 (an early close, still a session), Thursday 2025-12-25 (closed), Friday 12-26.
    frame = batch([100, 101, 102], days=[dt.date(2025, 12, 24), dt.date(2025, 12, 25), dt.date(2025, 12, 26)])
    outcome = validate(frame)
    assert not outcome.success and outcome.failed == 1
    assert outcome.summary == (
        "dated on an NYSE session (not a weekend or an exchange holiday) failed on 1 row: AAA 2025-12-25"
    )


def test_bars_on_a_weekend_and_on_the_day_of_mourning_for_president_carter_fail():
    days = [dt.date(2025, 1, 8), dt.date(2025, 1, 9), dt.date(2025, 1, 10), dt.date(2025, 1, 11)]  # Wed..Sat
    outcome = validate(batch([100, 101, 102, 103], days=days))
    assert outcome.summary.endswith("failed on 2 rows: AAA 2025-01-09, AAA 2025-01-11")


def test_a_missing_session_passes_but_the_report_lists_it():
    # Tuesday 2025-03-04, then Thursday 2025-03-06: Wednesday 2025-03-05 was a session with no bar.
    outcome = validate(batch([100, 101, 102], days=[dt.date(2025, 3, 4), dt.date(2025, 3, 6), dt.date(2025, 3, 7)]))
    assert outcome.success and outcome.failed == 0
    assert warned(outcome) == [{"ticker": "AAA", "date": "2025-03-06", "missing_sessions": "2025-03-05"}]
    assert warning(outcome)["expectation_config"]["severity"] == "warning"


def test_holidays_and_weekends_are_not_missing_sessions():
    # Wednesday 2025-11-26, Friday 11-28 (Thanksgiving between), Monday 12-01 (a weekend between).
    days = [dt.date(2025, 11, 26), dt.date(2025, 11, 28), dt.date(2025, 12, 1)]
    outcome = validate(batch([100, 101, 102], days=days))
    assert outcome.success and warned(outcome) == []


def test_gaps_next_to_stored_bars_are_listed_and_older_ones_are_not():
    # Stored: Mon 03-03 and Wed 03-12, and Fri 03-21 after the batch. The batch: Tue 03-04 and Fri 03-14.
    #   03-03 (stored) - 03-04: no gap
    #   03-04 - 03-12 (stored): 03-05, 03-06, 03-07, 03-10, 03-11 missing, listed on 03-04 (its next bar is stored)
    #   03-12 (stored) - 03-14: 03-13 missing, listed on 03-14
    #   03-14 - 03-21 (stored): 03-17, 03-18, 03-19, 03-20 missing, listed on 03-14 too
    stored = pd.DataFrame({"ticker": "AAA", "date": pd.to_datetime(["2025-03-03", "2025-03-12", "2025-03-21"])})
    frame = raw_prices.prepare(
        batch([100, 101], days=[dt.date(2025, 3, 4), dt.date(2025, 3, 14)]),
        pd.DataFrame({"ticker": ["AAA"], "close": [100.0], "adj_close": [100.0]}),
        RUN_DATE,
        trading_calendar.sessions(dt.date(2025, 3, 3), dt.date(2025, 3, 21)),
        limits(Settings()),
        stored,
    )
    assert frame["missing_sessions"].tolist() == [
        "2025-03-05 to 2025-03-11 (5 sessions)",
        "2025-03-13, 2025-03-17 to 2025-03-20 (4 sessions)",
    ]


def csv(path, rows):
    lines = ["Date,Open,High,Low,Close,Volume"] + [f"{d},100,100,100,100,1000" for d in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_refuses_a_bar_dated_tomorrow_and_loads_nothing(settings, tmp_path):
    tomorrow = settings.clock.today() + dt.timedelta(days=1)
    files = [csv(tmp_path / "AAA.csv", ["2025-03-03", "2025-03-04", tomorrow.isoformat()])]
    settings = settings.model_copy(update={"tickers": ("AAA",)})
    with pytest.raises(ValidationFailed) as failure:
        ingest_prices(settings, ImportedPrices(files))
    assert str(failure.value).startswith(
        f"validation of raw_prices failed: no bar dated after the run date (today in New York) failed on 1 row: "
        f"AAA {tomorrow.isoformat()}"
    )
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.prices").fetchone() == (0,)


def test_ingest_loads_a_batch_with_a_missing_session_and_reports_it(settings, tmp_path, caplog):
    files = [csv(tmp_path / "AAA.csv", ["2025-03-04", "2025-03-06"])]
    settings = settings.model_copy(update={"tickers": ("AAA",)})
    with caplog.at_level("WARNING", logger="pipeline"):
        result = ingest_prices(settings, ImportedPrices(files))
    assert result.rows == 2
    [report] = (settings.paths.reports / "validation" / result.run_id).glob("raw_prices.json")
    listed = [
        r["result"]["unexpected_index_list"]
        for r in json.loads(report.read_text())["result"]["results"]
        if r["expectation_config"]["kwargs"].get("column") == "missing_sessions"
    ]
    assert listed == [[{"ticker": "AAA", "date": "2025-03-06", "missing_sessions": "2025-03-05"}]]
    assert "AAA 2025-03-06: 2025-03-05" in caplog.text


# Severity: an open, high or low out of line is a warning (the bar loads, flagged); the rest is critical.


def test_an_open_below_its_low_is_a_warning_that_names_the_bar():
    frame = batch([100.0, 101.0, 102.0])
    frame.loc[1, "open"] = 98.9  # 2025-03-04: low 101, open 2.1 below it
    outcome = validate(frame)
    assert outcome.success and outcome.failed == 0
    assert outcome.summary == "all critical expectations passed; warning: low <= open flagged on 1 row: AAA 2025-03-04"
    [flag] = [f for f in outcome.report["findings"] if f["severity"] == "warning"]
    assert flag == {
        "expectation": "low <= open",
        "severity": "warning",
        "summary": "low <= open flagged on 1 row: AAA 2025-03-04",
        "rows": [{"ticker": "AAA", "date": "2025-03-04"}],
    }


@pytest.mark.parametrize(
    "column, value, broken",
    [
        ("high", 99.0, ["low <= high", "open <= high", "close <= high"]),  # high under a flat 100 bar
        ("low", 101.0, ["low <= high", "low <= open", "low <= close"]),
        ("open", 101.0, ["open <= high"]),
    ],
)
def test_every_out_of_line_open_high_or_low_is_a_warning(column, value, broken):
    frame = batch([100.0, 100.0])
    frame.loc[0, column] = value
    outcome = validate(frame)
    assert outcome.success
    assert sorted(f["expectation"] for f in outcome.report["findings"]) == sorted(broken)
    assert {f["severity"] for f in outcome.report["findings"]} == {"warning"}


def test_a_critical_failure_fails_the_batch_and_still_names_the_warnings():
    frame = batch([100.0, 101.0, 102.0])
    frame.loc[0, "open"] = 99.0  # a warning on 2025-03-03
    frame.loc[2, "close"] = 0.0  # critical on 2025-03-05 (and a 100% fall)
    outcome = validate(frame)
    assert not outcome.success and outcome.failed == 2
    assert outcome.summary == (
        "close > 0 failed on 1 row: AAA 2025-03-05; "
        "close-to-close move within ±40% unless a declared split explains it failed on 1 row: AAA 2025-03-05; "
        "warning: low <= open flagged on 1 row: AAA 2025-03-03; "
        "warning: low <= close flagged on 1 row: AAA 2025-03-05"
    )


def test_every_critical_and_warning_expectation_is_in_the_docs():
    """The severity table of docs/validation.md lists every expectation of the raw suites with its severity."""
    from expectations import raw_xbrl_facts
    from expectations.validate import _context
    from tests.conftest import PROJECT

    _context()
    page = (PROJECT / "docs" / "validation.md").read_text()
    for module in (raw_prices, raw_xbrl_facts):
        for expectation in module.suite().expectations:
            row = f"| `{module.NAME}` | {expectation.description} | {expectation.severity.value} |"
            assert row in page, row


def test_ingest_loads_an_out_of_line_bar_flagged_and_lists_it(settings, tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "2025-03-03,100,100,100,100,1000\n"
        "2025-03-04,97.9,101,100,101,1000\n"  # open 2.1 below the low
        "2025-03-05,100,100,100,100,1000\n"
    )
    settings = settings.model_copy(update={"tickers": ("AAA",)})
    result = ingest_prices(settings, ImportedPrices([path]))
    assert result.rows == 3
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select date::varchar, flags from raw.prices order by date").fetchall() == [
            ("2025-03-03", None),
            ("2025-03-04", "low <= open"),
            ("2025-03-05", None),
        ]
        success, failed, summary = con.execute("select success, failed, summary from meta.validations").fetchone()
    assert (success, failed) == (True, 0)
    assert summary.endswith("; warning: low <= open flagged on 1 row: AAA 2025-03-04")
    report = json.loads((settings.paths.reports / "validation" / result.run_id / "raw_prices.json").read_text())
    assert [f["rows"] for f in report["findings"]] == [[{"ticker": "AAA", "date": "2025-03-04"}]]
