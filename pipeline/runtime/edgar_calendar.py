"""EDGAR business days: when SEC accepts filings, which is not when the NYSE trades.

EDGAR keeps the federal holidays (Columbus Day and Veterans Day are NYSE sessions, EDGAR is
closed; on Good Friday the NYSE is closed and EDGAR is open) and the federal government's ad hoc
closures. It accepts filings from 06:00 to 22:00 Eastern on a business day; one accepted after
17:30 is dated the next business day, but is public (and in companyfacts) that evening.
"""

from __future__ import annotations

import datetime as dt
import functools

from pandas.tseries.holiday import USFederalHolidayCalendar

from pipeline.runtime.clock import NEW_YORK

OPENS, CLOSES = dt.time(6, 0), dt.time(22, 0)
# Federal offices, and EDGAR with them, closed by executive order: the national days of mourning
# for Presidents Bush (2018-12-05) and Carter (2025-01-09).
CLOSURES = {dt.date(2018, 12, 5): "national day of mourning", dt.date(2025, 1, 9): "national day of mourning"}


@functools.cache
def _holidays(year: int) -> dict[dt.date, str]:
    # A year's holidays can be observed in the year before (1 January on a Saturday: 31 December).
    found = USFederalHolidayCalendar().holidays(f"{year}-01-01", f"{year}-12-31", return_name=True)
    return {day.date(): str(name) for day, name in found.items()}


def closure(day: dt.date) -> str | None:
    """Why EDGAR was closed on `day` (`Saturday`, `Columbus Day`, ...), or None on a business day."""
    if day.weekday() >= 5:
        return day.strftime("%A")
    return _holidays(day.year).get(day) or CLOSURES.get(day)


def is_business_day(day: dt.date) -> bool:
    return closure(day) is None


def open_between(after: dt.datetime, until: dt.datetime) -> bool:
    """Whether EDGAR accepted filings at any moment after `after` and up to `until` (both aware):
    if not, nothing SEC serves can have changed in between."""
    day = after.astimezone(NEW_YORK).date()
    while day <= until.astimezone(NEW_YORK).date():
        if is_business_day(day):
            opens = dt.datetime.combine(day, OPENS, NEW_YORK)
            closes = dt.datetime.combine(day, CLOSES, NEW_YORK)
            if opens <= until and closes > after:
                return True
        day += dt.timedelta(days=1)
    return False
