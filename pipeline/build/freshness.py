"""Source freshness, as dbt's `source freshness` declares it: each source's age, against a bound at
which it warns and one at which it is an error (Settings.*_warn_after_* and *_error_after_*).

- Prices: per ticker of the universe, the NYSE sessions after its last bar up to the last session
  the clock has closed (0 while it holds that session), so weekends and holidays age nothing.
- SEC filings: per company of seeds/companies.csv (raw.companies), the days from the filing date of
  its latest 10-Q or 10-K to the clock's today. The date is raw.xbrl_facts' `filed`, not
  raw.filings': the facts are what the marts and the claims read, and both the per-company API and
  bulk mode load them from companyfacts, whereas raw.filings comes from submissions, which a bulk
  replay may lack (submissions.zip is optional) and which SEC serves apart from the facts (the real
  NVIDIA submissions stop at 2026-03-04, while its facts hold the 10-Q filed 2026-05-20). Keyed by
  CIK, a company added to the list is aged from facts bulk mode loaded before it was listed.

An item is fresh below its warn bound, `warn` from it, and `error` from its error bound or when
nothing of it is loaded. A build as of a past date ages what it sees to that date. A stale source
never fails a run: the run summary, `thesis status` and the report list it, and a claim whose
evidence is older than its source's error bound is scored `stale` (pipeline/build/scorecard.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from pipeline.runtime import trading_calendar
from pipeline.runtime.clock import NEW_YORK
from pipeline.runtime.settings import Settings

FRESH, WARN, ERROR = "fresh", "warn", "error"
PRICES, FILINGS = "prices", "filings"
# The raw table each source is read from: a claim reading it, through the models, is aged by it.
RELATIONS = {PRICES: "raw.prices", FILINGS: "raw.xbrl_facts"}
# The periodic reports a company's figures come from; an amendment or an 8-K brings no new quarter.
REPORTS = ["10-K", "10-Q"]


@dataclass(frozen=True)
class Reference:
    """What ages are counted to."""

    session: dt.date  # prices: the last session closed by the clock, or the last on the as-of date
    day: dt.date  # filings: the clock's today, or the as-of date


@dataclass(frozen=True)
class Freshness:
    source: str  # PRICES or FILINGS
    item: str  # the ticker, or the company's ticker
    last: dt.date | None  # its last bar, or its latest 10-Q or 10-K's filing date; None: none loaded
    age: int | None  # sessions (prices) or days (filings) from `last` to the reference
    state: str  # FRESH, WARN or ERROR

    def describe(self) -> str:
        """`last bar 2026-03-06, 186 sessions old`, or what is missing."""
        if self.last is None:
            return "no bars loaded" if self.source == PRICES else "no 10-Q or 10-K loaded"
        if self.source == PRICES:
            return f"last bar {self.last}, {self.age} sessions old"
        return f"last 10-Q or 10-K filed {self.last}, {self.age} days old"


@dataclass(frozen=True)
class Bound:
    """Evidence from a source dated before `since` is stale; `rule` says so beside the evidence."""

    since: dt.date
    rule: str


def reference(settings: Settings) -> Reference:
    """The clock's last closed session and today, or the as-of date where the build's is earlier."""
    today = settings.clock.today()
    if settings.as_of is not None and settings.as_of < today:
        return Reference(trading_calendar.on_or_before(settings.as_of), settings.as_of)
    return Reference(settings.last_session, today)


def reference_until(settings: Settings) -> dt.datetime | None:
    """When the clock's reference next changes: New York's next midnight, or the close (and
    settle) of the session after the last closed one, whichever comes first. None for an as-of
    build, which a later run never takes as current (pipeline/build/standing.py)."""
    if settings.as_of is not None:
        return None
    tomorrow = settings.clock.today() + dt.timedelta(days=1)
    midnight = dt.datetime.combine(tomorrow, dt.time(), NEW_YORK)
    last = settings.last_session
    # Two weeks always hold a session: the longest NYSE closure since 1933 was four weekdays (2001).
    following = trading_calendar.sessions(last + dt.timedelta(days=1), last + dt.timedelta(days=14))[0]
    settled = trading_calendar.closes_at(following) + dt.timedelta(minutes=settings.session_settle_minutes)
    return min(midnight, settled).astimezone(dt.UTC)


def state(age: int | None, warn_after: int, error_after: int) -> str:
    if age is None or age >= error_after:
        return ERROR
    return WARN if age >= warn_after else FRESH


def session_ages(lasts: Mapping[str, dt.date], through: dt.date) -> dict[str, int]:
    """Each series' age: the NYSE sessions after its last bar, up to `through` included."""
    if not lasts:
        return {}
    days = trading_calendar.sessions(min(lasts.values()) + dt.timedelta(days=1), through)
    return {item: len(days) - bisect.bisect_right(days, last) for item, last in lasts.items()}


def measure(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Freshness]:
    """Every ticker of the universe, then every listed company: nothing loaded first, then oldest first."""
    at = reference(settings)
    universe = set(settings.universe)
    held = con.execute("select ticker, max(date) from raw.prices where date <= ? group by ticker", [at.day]).fetchall()
    lasts = {ticker: last for ticker, last in held if ticker in universe}
    ages = session_ages(lasts, at.session)
    warn, error = settings.price_warn_after_sessions, settings.price_error_after_sessions
    prices = [
        Freshness(PRICES, ticker, lasts.get(ticker), ages.get(ticker), state(ages.get(ticker), warn, error))
        for ticker in settings.universe
    ]
    filed = con.execute(
        """select c.ticker, max(f.filed)
           from raw.companies as c
           left join raw.xbrl_facts as f on f.cik = c.cik and list_contains(?, f.form) and f.filed <= ?
           group by c.ticker""",
        [REPORTS, at.day],
    ).fetchall()
    days = {ticker: (last, None if last is None else (at.day - last).days) for ticker, last in filed}
    warn, error = settings.filing_warn_after_days, settings.filing_error_after_days
    filings = [Freshness(FILINGS, ticker, last, age, state(age, warn, error)) for ticker, (last, age) in days.items()]
    return sorted(prices, key=oldest_first) + sorted(filings, key=oldest_first)


def oldest_first(item: Freshness) -> tuple:
    return (item.last is not None, item.last or dt.date.min, item.item)


def stale(items: list[Freshness]) -> list[Freshness]:
    return [item for item in items if item.state != FRESH]


def bounds(settings: Settings) -> dict[str, Bound]:
    """The scorecard's, by raw table: evidence as old as its source's error bound is stale."""
    at = reference(settings)
    count = settings.price_error_after_sessions
    # Twice the count in calendar days, and two weeks more, hold at least `count` sessions.
    recent = trading_calendar.sessions(at.session - dt.timedelta(days=2 * count + 14), at.session)[-count:]
    return {
        RELATIONS[PRICES]: Bound(
            recent[0], f"prices are current for {count} sessions, from {recent[0]} to {at.session}"
        ),
        RELATIONS[FILINGS]: filing_bound(settings, at.day),
    }


def week_bounds(settings: Settings, week: dt.date, last: dt.date) -> dict[str, Bound]:
    """The timeline's, for the week starting `week`: a price before the week is stale; filings are
    aged to the week's last session `last`, as the scorecard ages them."""
    return {
        RELATIONS[PRICES]: Bound(week, f"prices are current within their week, from {week}"),
        RELATIONS[FILINGS]: filing_bound(settings, last),
    }


def filing_bound(settings: Settings, day: dt.date) -> Bound:
    """A filed figure's period must have ended within the error bound: a quarter that ended longer
    ago than a quarter and the 10-Q deadline has been followed by one missing here."""
    count = settings.filing_error_after_days
    since = day - dt.timedelta(days=count - 1)
    return Bound(since, f"filed figures are current for {count} days after their period, from {since} to {day}")
