"""Whether the published version stands: nothing new since it was built.

It stands when it is the last build's, nothing was loaded since that build, the fingerprint
(settings, models, seeds, claims) is the same, and the clock is still on the day and the last
closed NYSE session that build worked for (meta.builds.stands_until): a day later, with no new
data, the claims' freshness can change, and the scorecard and the report say so only if the build
runs. A daily run that finds it stands builds and publishes nothing.

A replay knows it before it reads a payload: when a run that succeeded loaded the same folder
(meta.runs.inputs, a digest of its files) before the current version was built. Such a run opens
the working database read-only, imports neither pandas nor Great Expectations, and writes nothing
but its line in the log.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import duckdb

from pipeline.build import increments
from pipeline.payloads.raw_zone import folder_digest
from pipeline.runtime import run_lock
from pipeline.runtime.settings import Settings
from warehouse.connection import WarehouseBroken, WarehouseBusy, connect_read_only, open_waiting
from warehouse.publish import current_version

log = logging.getLogger(__name__)


def inputs_of(folder: Path, bulk: bool) -> str:
    """meta.runs.inputs of a replay of `folder`: how SEC is read from it, and its files' digest."""
    return f"{'bulk' if bulk else 'companies'}:{folder_digest(folder)}"


def unchanged(settings: Settings) -> str | None:
    """Why the current version stands as it is, or None where a build is due."""
    current = current_version(settings.paths.published)
    if current is None or not settings.paths.warehouse.exists():
        return None
    with connect_read_only(settings.paths.warehouse) as con:
        return stands(con, settings, current.name)


def replayed_before(settings: Settings, inputs: str) -> str | None:
    """unchanged()'s answer for a replay whose inputs are `inputs` (inputs_of), when a
    run that succeeded loaded the same bytes before the current version was built; None where the
    replay is to run (it may still find nothing new)."""
    try:
        current = current_version(settings.paths.published)
        if current is None or not settings.paths.warehouse.exists() or not run_lock.free(settings):
            return None
        with contextlib.closing(open_waiting(settings.paths.warehouse, read_only=True, wait=0)) as con:
            # A run still `running` while the lock is free was killed: the long way marks it and
            # sweeps what it left.
            [[loaded]] = con.execute(
                "select max(r.run_id) from meta.runs as r, meta.builds as b where b.run_id = ? and r.flow = 'daily' "
                "and r.status = 'succeeded' and r.inputs = ? and r.started_at <= b.built_at "
                "and not exists (select 1 from meta.runs where status = 'running')",
                [current.name, inputs],
            ).fetchall()
            return stands(con, settings, current.name) if loaded else None
    # Whatever stops this question (a run holding the warehouse, a warehouse an older release
    # wrote, a data directory that is not what it should be), the run itself meets and says.
    except (OSError, duckdb.Error, WarehouseBusy, WarehouseBroken):
        return None


def told(message: str) -> str:
    """`message`, in the log too: a run that stands writes nothing else."""
    log.info(message)
    return message


def stands(con: duckdb.DuckDBPyConnection, settings: Settings, current: str) -> str | None:
    last = con.execute(
        "select b.run_id, r.worked_for, b.stands_until from meta.builds as b join meta.runs as r using (run_id) "
        "order by b.built_at desc limit 1"
    ).fetchall()
    if not last or last[0][0] != current or None in last[0]:
        return None
    # Not for a clock set back before the build: its day or session may be another.
    if not last[0][1] <= settings.clock.now() < last[0][2]:
        return None
    changes = increments.change_set(con, settings, increments.fingerprint(settings))
    if changes.full or changes.tickers or changes.ciks:
        return None
    return f"nothing new since run {current}: its published version stands"
