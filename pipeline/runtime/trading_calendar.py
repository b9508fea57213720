"""NYSE sessions: the days the exchange was open, from exchange_calendars' XNYS calendar.

One calendar for every ticker: NVDA and ORCL list on Nasdaq and NYSE, the benchmark `^SOX` is
computed by Nasdaq on its sessions, and the ETFs (SMH, SOXX) trade on Nasdaq and NYSE Arca. The US
equity exchanges keep the NYSE's holidays and closures (2025-01-09, the national day of mourning
for President Carter, closed them all), so XNYS stands for all of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import exchange_calendars
import pandas as pd

from pipeline.runtime.clock import NEW_YORK

EXCHANGE = "XNYS"
# The calendar is built from EARLIEST_YEAR (or earlier, when asked for an earlier date) to a year
# past LATEST_YEAR or past the date asked for: one calendar serves a process.
EARLIEST_YEAR = 1980
LATEST_YEAR = 2030


def sessions(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every NYSE session from `start` to `end`, both included; empty when `end` is before `start`."""
    if end < start:
        return []
    days = _calendar_for(start, end).sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))
    return [d.date() for d in days]


def closes_at(session: dt.date) -> dt.datetime:
    """When the NYSE session of `session` closed (or closes), in UTC: 16:00 in New York, 13:00 on a
    half-day. ValueError when `session` is not a session."""
    close = _calendar_for(session, session).session_close(pd.Timestamp(session))
    return close.to_pydatetime().astimezone(dt.UTC)


def last_closed(moment: dt.datetime, settle: dt.timedelta) -> dt.date:
    """The last session whose close, plus `settle` for the vendors' final figures, is at or before
    `moment` (aware): on a Saturday, Friday; on a Tuesday at 11:00 in New York, Monday."""
    session = on_or_before(moment.astimezone(NEW_YORK).date())
    if closes_at(session) + settle > moment:
        session = on_or_before(session - dt.timedelta(days=1))
    return session


def on_or_before(day: dt.date) -> dt.date:
    """The last session on or before `day`: `day` itself on a session, else the one before it."""
    calendar = _calendar_for(day - dt.timedelta(days=14), day)
    return calendar.date_to_session(pd.Timestamp(day), direction="previous").date()


def is_session(day: dt.date) -> bool:
    return bool(_calendar_for(day, day).is_session(pd.Timestamp(day)))


def closure(day: dt.date) -> str | None:
    """Why the NYSE was closed on `day` (`Saturday`, `Thanksgiving`, ...), or None on a session."""
    if is_session(day):
        return None
    if day.weekday() >= 5:
        return day.strftime("%A")
    names = _calendar_for(day, day).regular_holidays.holidays(
        start=pd.Timestamp(day), end=pd.Timestamp(day), return_name=True
    )
    # The library names its regular holidays but not its ad hoc closures (2025-01-09, 2012-10-29).
    return str(names.iloc[0]) if len(names) else "special closure"


def _calendar_for(start: dt.date, end: dt.date) -> exchange_calendars.ExchangeCalendar:
    """A calendar covering `start` to `end`: usually the one from EARLIEST_YEAR to LATEST_YEAR."""
    return _calendar(min(start.year, EARLIEST_YEAR), max(end.year + 1, LATEST_YEAR))


@functools.cache
def _calendar(first_year: int, last_year: int) -> exchange_calendars.ExchangeCalendar:
    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values of tz-aware columns while it builds a calendar
        # (UTC nanoseconds, which it wants); pandas 3 warns that pandas 4 will change that. pandas is
        # pinned below 4 in pyproject.toml.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray", category=DeprecationWarning)
        return exchange_calendars.get_calendar(EXCHANGE, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
