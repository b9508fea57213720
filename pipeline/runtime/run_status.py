"""How a run ends (meta.runs.status), and how the items it loaded without are named in one line;
apart from pipeline/runtime/runs.py so that what reads the status (`thesis status`, the summary)
does not import the validation stack."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Failures named on the one line a partial run ends with; meta.runs.failed and the run's summary
# hold every one (a bulk run may lose thousands of members).
NAMED_ON_ONE_LINE = 20

# The statuses of a run that reached its end: its rows stay, and a build's exports are current.
FINISHED = ("succeeded", "partial")


def finished_status(failed: Mapping[str, str]) -> str:
    """How a run that reached its end ended: `succeeded` only when everything asked for loaded;
    `partial` when some items (`failed`: item -> why) did not and the rest did."""
    return "partial" if failed else "succeeded"


def named(items: Iterable[str]) -> str:
    """`a, b, c and 12 more`: the first NAMED_ON_ONE_LINE of `items`, for a one-line message."""
    listed = list(items)
    more = f" and {len(listed) - NAMED_ON_ONE_LINE:,} more" if len(listed) > NAMED_ON_ONE_LINE else ""
    return ", ".join(listed[:NAMED_ON_ONE_LINE]) + more


def failed_line(failed: Mapping[str, str]) -> str:
    """`failed: NVDX (why); CIK0001045810 NVDA (why)`: what a run loaded without (tickers, SEC
    companies, bulk members), in one line; past NAMED_ON_ONE_LINE, how many more."""
    named = list(failed.items())[:NAMED_ON_ONE_LINE]
    more = len(failed) - len(named)
    return (
        "failed: "
        + "; ".join(f"{item} ({why})" for item, why in named)
        + (f"; and {more:,} more (meta.runs.failed lists every one)" if more else "")
    )
