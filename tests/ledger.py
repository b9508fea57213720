"""The capex guidance ledger as it stood on a day: a run whose clock is set to a day before the
ledger's newest statement refuses the committed one (a statement dated after the run date)."""

from __future__ import annotations

from pathlib import Path

from pipeline.runtime.settings import SEEDS


def ledger_known_on(day: str, target: Path) -> Path:
    """seeds/capex_guidance.csv without the statements dated after `day` (YYYY-MM-DD), at `target`."""
    header, *rows = (SEEDS / "capex_guidance.csv").read_text().splitlines(keepends=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + "".join(row for row in rows if row.split(",")[1] <= day))
    return target
