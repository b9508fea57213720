"""NYSE sessions (pipeline.runtime.trading_calendar), the clock, and the daily flow on a day the exchange is closed.

The dates are worked out from the calendar of the year: in November 2026 the 1st is a Sunday, so
the fourth Thursday, Thanksgiving, is the 26th; the Friday after it is a session (it closes early).
2025-01-09, a Thursday, was the national day of mourning for President Carter: the NYSE closed.
"""

import datetime as dt

import pytest

from pipeline.runtime import trading_calendar


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


def test_the_clock_is_the_setting_and_a_date_alone_is_after_the_close():
    from pipeline.runtime.settings import Settings

    saturday = Settings(today="2026-12-05").clock
    assert saturday.today() == day("2026-12-05")
    assert saturday.now() == dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.UTC)  # 17:00 in New York (EST)
    summer = Settings(today="2026-07-23").clock.now()
    assert summer == dt.datetime(2026, 7, 23, 21, 0, tzinfo=dt.UTC)  # 17:00 in New York (EDT)
    # A time with no offset is New York's; 01:30 UTC on the 6th is still the 5th there.
    assert Settings(today="2026-12-05T09:30").clock.now() == dt.datetime(2026, 12, 5, 14, 30, tzinfo=dt.UTC)
    assert Settings(today="2026-12-06T01:30+00:00").clock.today() == day("2026-12-05")


def test_a_clock_setting_that_is_not_a_moment_is_refused_in_one_line():
    from pipeline.runtime.errors import SettingsError
    from pipeline.runtime.settings import load_settings

    with pytest.raises(SettingsError) as refused:
        load_settings(today="Saturday")
    assert str(refused.value) == (
        "--today='Saturday' is not valid: expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM[+HH:MM])"
    )


class Started(BaseException):
    """Raised where the flow reads its settings: it went on to work. Not an Exception, so the flow's
    own handling of a failure (flows/failure.py) lets it through to the test."""


@pytest.fixture
def daily_flow(monkeypatch):
    """The daily flow's function with its settings refused, so a flow that goes on to work stops at once."""
    import flows.daily
    import flows.run_log

    def refuse(**flags):
        raise Started(flags)

    monkeypatch.setattr(flows.run_log, "load_settings", refuse)
    return flows.daily.daily.fn


@pytest.mark.parametrize("today", ["2026-11-26", "2026-12-05", "2025-01-09", "2026-11-27"])
def test_the_daily_flow_goes_on_whatever_the_day(daily_flow, monkeypatch, tmp_path, today):
    """Thanksgiving, a Saturday, the day of mourning and a session alike: the flow checks its
    parameters and works; only what the warehouse already holds makes a run fetch nothing."""
    monkeypatch.setenv("THESIS_TODAY", today)
    with pytest.raises(Started):
        daily_flow(data_dir=str(tmp_path / "var"))
    with pytest.raises(Started):
        daily_flow(data_dir=str(tmp_path / "var"), replay_from=str(tmp_path / "raw"))
