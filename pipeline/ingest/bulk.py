"""Ingesting every SEC filer from SEC's nightly bulk archives into raw.xbrl_facts and raw.filings.

    archives -> their directories -> the members new or changed since meta.bulk_members
    -> stage_members, mapped through the run's Steps over groups of members (each member read,
       parsed, validated and staged as one parquet file)
    -> the single writer loads BATCH_MEMBERS staged members per transaction, on its own thread
       while the tasks stage the next batch

A member whose size and CRC-32 match the manifest is skipped without being read. A member that
fails is named in the run with why (meta.runs.failed, `companyfacts.zip/CIK##########.json`),
and left out of the manifest, so the next run tries it again; the others load. When no member of
the archives loads, the run fails. A member's facts that fail a warning load flagged, and the
warnings reach the log and the run's validation summary. Rows keep raw.xbrl_facts' semantics:
every fact version, keyed as the per-company path keys them, so both paths can feed one warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import duckdb
import pandas as pd

from expectations import raw_xbrl_facts
from expectations.validate import ROWS_NAMED
from pipeline.ingest.bulk_members import COMPANYFACTS, Member, MemberResult, list_members, stage_member
from pipeline.ingest.filings import known_units
from pipeline.runtime.errors import PayloadError, every_one_failed
from pipeline.runtime.run_status import named
from pipeline.runtime.runs import Outcome, record, recorded_run
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from pipeline.sources.bulk import BulkSource
from warehouse.connection import connect, transaction
from warehouse.files import write_atomic
from warehouse.load import upsert, upsert_parquet

BATCH_MEMBERS = 200  # staged members per load transaction, and per map of tasks
# A task stages a group of members: a Prefect task run costs tens of milliseconds of bookkeeping,
# more than parsing one small filer's submissions, and submissions.zip holds about a million.
GROUP_MEMBERS = 25
GROUP_BYTES = 32 << 20  # of JSON: a few large filers' companyfacts are a group of their own
TABLES = {COMPANYFACTS: "raw.xbrl_facts", "submissions.zip": "raw.filings"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkResult:
    run_id: str
    members: int  # SEC payload members in the archives
    parsed: tuple[MemberResult, ...]  # the new or changed ones, each staged or failed
    facts: int
    filings: int
    notes: tuple[str, ...]

    @property
    def failed(self) -> dict[str, str]:
        return not_loaded(self.parsed)


def not_loaded(parsed: Sequence[MemberResult]) -> dict[str, str]:
    """The members that did not load (`companyfacts.zip/CIK##########.json`), each with why."""
    return {f"{r.archive}/{r.member}": str(r.error) for r in parsed if r.error}


def ingest_sec_bulk(
    settings: Settings, source: BulkSource, run_id: str | None = None, steps: Steps = DIRECT
) -> BulkResult:
    with recorded_run(settings, "ingest_sec_bulk", source.mode, run_id) as run:
        found = source.archives(settings)
        notes, members = list(found.notes), []
        for name, path in found.paths.items():
            listed, others = list_members(path)
            members += listed
            if others:
                notes.append(f"{name}: skipped {len(others)} member(s) not named CIK##########*.json: {others[0]}, ...")
        with connect(settings.paths.warehouse) as con:
            changed = changed_members(con, members)
            # Workers never open the warehouse: they are told the units it holds, once per run.
            units = frozenset(known_units(con))
        run_date = settings.clock.today()  # no fact may be filed after it
        parsed = parse_and_load(settings, changed, run_date, units, steps, run.run_id)
        for note in notes:
            log.info(note)
        run.failed = not_loaded(parsed)
        for why in run.failed.values():
            log.warning("not loaded: %s", why)
        for result in parsed:
            for flagged in result.warnings:
                log.warning("%s: %s (loaded, flagged)", result.member, flagged.summary)
        notes += list(run.failed.values())
        rows = {table: sum(r.rows for r in parsed if TABLES[r.archive] == table) for table in TABLES.values()}
        if any(r.archive == COMPANYFACTS for r in parsed):
            with connect(settings.paths.warehouse) as con:
                record(con, run.run_id, validation_outcome(settings, run.run_id, parsed))
        if run.failed and len(run.failed) == len(members):
            raise every_one_failed(
                {item: PayloadError(why) for item, why in run.failed.items()}, "no SEC bulk member was loaded"
            )
        run.message = (
            f"loaded {rows['raw.xbrl_facts']} XBRL facts and {rows['raw.filings']} filings from "
            f"{len(parsed) - len(run.failed)} new or changed SEC bulk member(s); "
            f"{len(members) - len(changed)} unchanged member(s) skipped"
            + (f"; {len(run.failed)} member(s) not loaded: {named(run.failed)}" if run.failed else "")
        )
        log.info(run.message)
        return BulkResult(
            run.run_id, len(members), tuple(parsed), rows["raw.xbrl_facts"], rows["raw.filings"], tuple(notes)
        )


def parse_and_load(
    settings: Settings,
    members: Sequence[Member],
    run_date: dt.date,
    known_units: frozenset[str],
    steps: Steps,
    run_id: str,
) -> list[MemberResult]:
    """Stage the members BATCH_MEMBERS at a time and load each batch, the loads on one writer
    thread: the workers parse the next batch while the writer loads the last, and never wait for
    it. Staged batches queue on disk (their results are small); a failed load stops the parse at
    the next batch, and the loads not started are dropped."""
    parsed: list[MemberResult] = []
    loads: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer") as writer:
        try:
            for start in range(0, len(members), BATCH_MEMBERS):
                batch = parse_members(settings, members[start : start + BATCH_MEMBERS], run_date, known_units, steps)
                parsed += batch
                loads.append(writer.submit(load_batch, settings, batch, run_id))
                for done in (f for f in loads if f.done()):
                    done.result()  # its exception, if it failed
            for load in loads:
                load.result()
        except BaseException:
            writer.shutdown(cancel_futures=True)
            raise
    return parsed


def load_batch(settings: Settings, batch: Sequence[MemberResult], run_id: str) -> None:
    with connect(settings.paths.warehouse) as con:
        load_members(con, batch, run_id, settings.clock.recorded())


def changed_members(con: duckdb.DuckDBPyConnection, members: Sequence[Member]) -> list[Member]:
    """The members that are new, or whose size or CRC-32 differ from the manifest's."""
    loaded = {
        (archive, member): (size, crc)
        for archive, member, size, crc in con.execute(
            "select archive, member, size, crc32 from meta.bulk_members"
        ).fetchall()
    }
    return [m for m in members if loaded.get((m.archive_name, m.name)) != (m.size, m.crc32)]


def parse_members(
    settings: Settings, members: Sequence[Member], run_date: dt.date, known_units: frozenset[str], steps: Steps
) -> list[MemberResult]:
    """Stage every member, one mapped task per group (any Steps: directly, threads, Dask workers)."""
    staged = steps.map(partial(stage_members, settings, run_date, known_units), groups(members))
    return [result for group in staged for result in group]


def stage_members(
    settings: Settings, run_date: dt.date, known_units: frozenset[str], members: Sequence[Member]
) -> list[MemberResult]:
    return [stage_member(settings, run_date, known_units, member) for member in members]


def groups(members: Sequence[Member]) -> list[tuple[Member, ...]]:
    """The members in order, cut into groups of at most GROUP_MEMBERS members and GROUP_BYTES (a
    larger member alone)."""
    cut: list[tuple[Member, ...]] = []
    group: list[Member] = []
    for member in members:
        if group and (len(group) == GROUP_MEMBERS or sum(m.size for m in group) + member.size > GROUP_BYTES):
            cut.append(tuple(group))
            group = []
        group.append(member)
    return [*cut, tuple(group)] if group else cut


def load_members(
    con: duckdb.DuckDBPyConnection, results: Sequence[MemberResult], run_id: str, loaded_at: dt.datetime
) -> None:
    """One transaction: the staged members' rows, and their manifest rows."""
    staged = [r for r in results if r.error is None]
    if not staged:
        return
    provenance = {"run_id": run_id, "loaded_at": loaded_at}
    manifest = pd.DataFrame(
        [
            {
                "archive": r.archive,
                "member": r.member,
                "size": r.size,
                "crc32": r.crc32,
                "cik": r.cik,
                "rows": r.rows,
                "staged_path": r.staged_path,
                **provenance,
            }
            for r in staged
        ]
    )
    with transaction(con):
        for archive, table in TABLES.items():
            paths = [str(r.staged_path) for r in staged if r.archive == archive]
            if paths:
                upsert_parquet(con, table, paths, provenance)
        upsert(con, "meta.bulk_members", manifest)


def validation_outcome(settings: Settings, run_id: str, parsed: Sequence[MemberResult]) -> Outcome:
    """The raw_xbrl_facts suite over this run's companyfacts members, as one meta.validations row;
    its report lists each member that failed and why, and each warning a member loaded with. The
    summary names the failed members, then each warning once, with the members it flagged."""
    checked = [r for r in parsed if r.archive == COMPANYFACTS]
    failed = [r for r in checked if r.error]
    summary = f"{len(checked) - len(failed)} of {len(checked)} companyfacts members passed" + "".join(
        f"; {r.error}" for r in failed
    )
    flagged: dict[str, list[tuple[str, int]]] = {}
    for result in checked:
        for warning in result.warnings:
            flagged.setdefault(warning.expectation, []).append((result.member, warning.rows))
    for expectation, members in flagged.items():
        rows = sum(n for _, n in members)
        named = ", ".join(f"{member} ({n})" for member, n in members[:ROWS_NAMED])
        more = f" and {len(members) - ROWS_NAMED} more" if len(members) > ROWS_NAMED else ""
        summary += (
            f"; warning: {expectation} flagged on {rows} row{'s' if rows != 1 else ''} "
            f"of {len(members)} member(s): {named}{more}"
        )
    path = settings.paths.reports / "validation" / run_id / f"{raw_xbrl_facts.NAME}.json"
    report = {
        "suite": raw_xbrl_facts.NAME,
        "members": len(checked),
        "failed": [r._asdict() for r in failed],
        "warnings": [{"member": r.member, **w._asdict()} for r in checked for w in r.warnings],
    }
    write_atomic(path, json.dumps(report, indent=2).encode())
    return Outcome(raw_xbrl_facts.NAME, not failed, len(checked), len(failed), summary, path, settings.clock.recorded())
