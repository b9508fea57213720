"""The pipeline's one clock: every "now" and "today" in the code comes from here.

Two readings. `now()` and `today()` are the moment a run works for: the real time by default,
or the moment `THESIS_TODAY` (Settings.today) sets, so a day is re-run, or tested, as it was:
which session is the last completed one, what counts as filed in the future, what is stale.
`recorded()` is always the real time: when a run started, a payload came or a row was loaded,
so runs keep their order across processes whatever they are set to.
Nothing else reads the wall clock (ruff's banned-api rule in pyproject.toml enforces it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
# A date given alone is that day at this hour in New York: after the close, once Yahoo has settled
# the day's bar.
DATE_ALONE_AT = dt.time(17, 0)


@dataclass(frozen=True)
class Clock:
    """`set_to`: the moment the run works for (aware), or None for the real time."""

    set_to: dt.datetime | None = None

    def now(self) -> dt.datetime:
        """The moment the run works for, in UTC."""
        return (self.set_to or self.recorded()).astimezone(dt.UTC)

    def today(self) -> dt.date:
        """The run date: today in New York, where the exchange and EDGAR keep their days."""
        return self.now().astimezone(NEW_YORK).date()

    @staticmethod
    def recorded() -> dt.datetime:
        """The real moment, in UTC, for the records of when something happened."""
        return dt.datetime.now(dt.UTC)

    def stamp(self) -> dt.datetime:
        """The real moment to the second, as payload names and records show it."""
        return self.recorded().replace(microsecond=0)


def moment(value: dt.date | dt.datetime | str) -> dt.datetime:
    """A clock setting as an aware moment: an ISO date (that day at DATE_ALONE_AT in New York) or
    an ISO date-time (New York time when it names no offset). ValueError when it is neither."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM[+HH:MM])") from None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, DATE_ALONE_AT)
    return value if value.tzinfo else value.replace(tzinfo=NEW_YORK)
