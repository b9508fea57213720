"""`thesis rebuild`: a new warehouse from the data directory's own raw zone, as the architecture
promises (the warehouse can always be rebuilt from the raw zone alone, with no network).

The old warehouse.duckdb (damaged, or simply unwanted) is moved aside, never deleted: it holds the
run history (meta.runs, meta.validations), which the raw zone does not, so the new warehouse's
history starts with the rebuild. The analyst copy of each published version keeps the history up
to that version's run. Then the raw zone replays as `thesis run --from DATA_DIR/raw` would; its
_quarantine/ is never replayed.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.payloads.raw_zone import PARTS
from pipeline.runtime import run_lock
from pipeline.runtime.errors import PayloadError
from pipeline.runtime.settings import Settings

ASIDE = "before-rebuild"  # warehouse.duckdb.before-rebuild-<UTC stamp>


def raw_zone(settings: Settings) -> Path:
    """The raw zone to rebuild from; PayloadError when the data directory has none."""
    raw = settings.paths.raw
    if not any((raw / part).is_dir() for part in PARTS):
        raise PayloadError(
            f"nothing to rebuild from: {raw} holds no prices/ or sec/ (a raw zone is written by `thesis run`)"
        )
    return raw


def set_aside(settings: Settings) -> list[Path]:
    """Move warehouse.duckdb and its WAL aside, under the run lock (no run has them open then);
    where they went. A run starting after the lock is let go begins a new, empty warehouse, which
    the rebuild then fills as any run would."""
    warehouse = settings.paths.warehouse
    with run_lock.held(settings, "rebuild"):
        suffix = f".{ASIDE}-{settings.clock.stamp():%Y%m%dT%H%M%SZ}"
        moved = []
        for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            if path.exists():
                moved.append(path.rename(path.with_name(path.name + suffix)))
    return moved
