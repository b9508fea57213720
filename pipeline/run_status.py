"""How a run ends (meta.runs.status), apart from pipeline/runs.py so that what reads the status
(`thesis status`, the summary) does not import the validation stack."""

from __future__ import annotations

from collections.abc import Mapping

# The statuses of a run that reached its end: its rows stay, and a build's exports are current.
FINISHED = ("succeeded", "partial")


def finished_status(failed: Mapping[str, str]) -> str:
    """How a run that reached its end ended: `succeeded` only when everything asked for loaded;
    `partial` when some items (`failed`: item -> why) did not and the rest did."""
    return "partial" if failed else "succeeded"
