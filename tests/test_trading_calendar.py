"""NYSE sessions (pipeline.trading_calendar), and the daily flow on a day the exchange is closed.

The dates are worked out from the calendar of the year: in November 2026 the 1st is a Sunday, so
the fourth Thursday, Thanksgiving, is the 26th; the Friday after it is a session (it closes early).
2025-01-09, a Thursday, was the national day of mourning for President Carter: the NYSE closed.
"""

import datetime as dt
import logging

import pytest

from pipeline import trading_calendar


def day(text):
    return dt.date.fromisoformat(text)


def test_the_week_of_thanksgiving_2026():
    assert trading_calendar.sessions(day("2026-11-21"), day("2026-11-30")) == [
        day("2026-11-23"),  # Monday (21 and 22 are the weekend)
        day("2026-11-24"),
        day("2026-11-25"),
        day("2026-11-27"),  # Friday, the early close
        day("2026-11-30"),  # Monday
    ]
    assert not trading_calendar.is_session(day("2026-11-26"))
    assert trading_calendar.is_session(day("2026-11-27"))


def test_the_day_of_mourning_for_president_carter_was_not_a_session():
    assert trading_calendar.sessions(day("2025-01-06"), day("2025-01-10")) == [
        day("2025-01-06"),
        day("2025-01-07"),
        day("2025-01-08"),
        day("2025-01-10"),
    ]
    assert not trading_calendar.is_session(day("2025-01-09"))


def test_why_the_exchange_was_closed():
    assert trading_calendar.closure(day("2026-11-26")) == "Thanksgiving"
    assert trading_calendar.closure(day("2026-11-28")) == "Saturday"
    assert trading_calendar.closure(day("2026-07-03")) == "July 4th"  # the 4th is a Saturday: observed on Friday
    assert trading_calendar.closure(day("2025-01-09")) == "special closure"  # the library names no ad hoc closure
    assert trading_calendar.closure(day("2026-11-27")) is None


def test_an_empty_range_has_no_sessions():
    assert trading_calendar.sessions(day("2026-11-30"), day("2026-11-23")) == []
    assert trading_calendar.sessions(day("2026-11-28"), day("2026-11-29")) == []  # a weekend


def test_today_is_the_date_in_new_york():
    utc = dt.datetime.now(dt.UTC)
    assert trading_calendar.today() in {utc.date(), (utc - dt.timedelta(hours=5)).date()}


class Started(Exception):
    """Raised where the flow would read its settings: it got past the holiday check."""


@pytest.fixture
def flow_on(monkeypatch):
    """The daily flow's function, with "today" in New York set to the given date and the settings
    refused, so a flow that goes on to work stops at once."""
    import flows.daily

    def refuse(**flags):
        raise Started(flags)

    monkeypatch.setattr(flows.daily, "load_settings", refuse)

    def on(date):
        monkeypatch.setattr(trading_calendar, "today", lambda: date)
        return flows.daily.daily.fn

    return on


def test_the_daily_flow_does_nothing_on_thanksgiving_and_says_so(flow_on, tmp_path, caplog):
    data_dir = tmp_path / "var"
    with caplog.at_level(logging.INFO, logger="pipeline.flows.daily"):
        assert flow_on(day("2026-11-26"))(data_dir=str(data_dir)) is None
    assert [r.getMessage() for r in caplog.records if r.name == "pipeline.flows.daily"] == [
        "2026-11-26 is not an NYSE session (Thanksgiving): nothing to fetch"
    ]
    assert not data_dir.exists()


def test_the_daily_flow_does_nothing_on_the_day_of_mourning(flow_on, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="pipeline.flows.daily"):
        assert flow_on(day("2025-01-09"))(data_dir=str(tmp_path / "var")) is None
    assert "2025-01-09 is not an NYSE session (special closure): nothing to fetch" in caplog.text
    assert not (tmp_path / "var").exists()


def test_the_daily_flow_runs_on_a_session(flow_on, tmp_path):
    with pytest.raises(Started):
        flow_on(day("2026-11-27"))(data_dir=str(tmp_path / "var"))


def test_a_replay_runs_on_a_holiday(flow_on, tmp_path):
    with pytest.raises(Started):
        flow_on(day("2026-11-26"))(data_dir=str(tmp_path / "var"), replay_from=str(tmp_path / "raw"))
