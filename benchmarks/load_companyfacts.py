"""How long loading the real NVIDIA companyfacts takes, with its validation, against a floor and
against edgartools.

    .venv/bin/python benchmarks/load_companyfacts.py [PATH] [--runs N] [--edgar-venv DIR]

PATH defaults to ../shared/realdata/sec/companyfacts/CIK0001045810.json. The pipeline and the floor
run interleaved (pipeline, floor, pipeline, floor...), each in a child process forked from this
one once everything is imported, so a busy machine slows both alike and start-up is not counted.
Their figure is CPU time, user + sys of the child and of DuckDB's threads (RUSAGE_CHILDREN); each
prints as `<figure>: <median>`, with the ratio of the medians.

- companyfacts parse+load with validation: what ingest_filings does with a new payload, into an
  empty warehouse (a fresh, already migrated file per run): read the file and hash it, look the
  hash up in meta.payloads, parse it to a frame, validate it (raw_xbrl_facts: the report written
  and recorded in meta.validations, warnings flagged) and load it (raw.xbrl_facts and
  meta.payloads upserted in one transaction, committed).
- floor: DuckDB alone, with a query written by hand: read_json of the file, unnested into one typed
  row per fact (dates as DATE), into raw.xbrl_facts of an empty warehouse like the pipeline's (the
  same table, without an index since migration 0015, the same columns: `period` derived,
  word-for-word repeats dropped, the payload's hash, run and load time as provenance), committed.
  No checks. Printed beside it: the same into the table with the primary key it had before 0015,
  and the same query into a new table of an in-memory database (no key, no file).
- edgartools parse: edgartools' own reading of a local companyfacts file, orjson.loads of its
  text plus EntityFactsParser.parse_company_facts (what edgar.entity.get_company_facts does with
  local storage), timed (wall clock) inside a long-lived worker process of a throwaway venv
  (edgartools is not a dependency of the pipeline); interpreter start-up and imports are not
  timed. The venv is created, and edgartools installed into it with uv, when it does not have
  edgartools yet.
- second load, unchanged: the same payload offered again: its hash is found and it is skipped.
- importing Great Expectations: once per process that validates, not counted above.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.ingest.filings import accepted, load, loaded_hashes
from pipeline.payloads import seeds
from pipeline.payloads.raw_zone import PayloadFile, read_payload
from pipeline.payloads.sec_payloads import identify
from pipeline.runtime.settings import Settings
from warehouse.connection import connect

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "sec" / "companyfacts" / "CIK0001045810.json"
EDGAR_VENV = Path(tempfile.gettempdir()) / "edgar-bench"
RUN_ID = "benchmark"

# One typed row per fact. companyfacts keys taxonomies, concepts and units by name, so they are
# read as maps (a struct would need every concept named in advance) and unnested entry by entry.
FACT = (
    'STRUCT("start" DATE, "end" DATE, val DOUBLE, accn VARCHAR, fy INTEGER, fp VARCHAR, form VARCHAR, filed DATE, '
    "frame VARCHAR)"
)
FACTS = f"""
with payload as (
    select cik, facts from read_json(
        $path, format = 'unstructured',
        columns = {{cik: 'BIGINT', facts: 'MAP(VARCHAR, MAP(VARCHAR, STRUCT(units MAP(VARCHAR, {FACT}[]))))'}}
    )
),
taxonomies as (select cik, unnest(map_entries(facts)) as t from payload),
concepts as (select cik, t.key as taxonomy, unnest(map_entries(t.value)) as c from taxonomies),
units as (select cik, taxonomy, c.key as concept, unnest(map_entries(c.value.units)) as u from concepts),
rows as (select cik, taxonomy, concept, u.key as unit, unnest(u.value) as f from units)
select cik, taxonomy, concept, unit, f.* from rows
"""
# The pipeline's table (warehouse/migrations: no index since 0015, the load keeps the key), filled
# with the same columns: `period` as the pipeline writes it, each word-for-word repeat once, and
# the provenance. KEYED is the same table with the primary key it had before 0015.
TABLE = """
create schema raw;
create table raw.xbrl_facts (
    cik bigint not null, taxonomy varchar not null, concept varchar not null, unit varchar not null,
    period varchar not null, start date, "end" date not null, val double not null, accn varchar not null,
    fy integer, fp varchar, form varchar not null, filed date not null, frame varchar,
    payload_sha256 varchar not null, run_id varchar not null, loaded_at timestamptz not null, flags varchar
)
"""
KEYED = TABLE.replace(
    "flags varchar\n)", "flags varchar,\n    primary key (cik, taxonomy, concept, unit, period, accn)\n)"
)
FLOOR = f"""
insert into raw.xbrl_facts
select distinct cik, taxonomy, concept, unit, coalesce(start::varchar || '/', '') || "end"::varchar as period,
    start, "end", val, accn, fy, fp, form, filed, frame, $sha256, $run_id, now(), null
from ({FACTS})
"""

# Runs in the edgartools venv: one timed parse per line read (a path), its seconds written back.
EDGAR_WORKER = """
import sys, time
from pathlib import Path
from edgar.entity.entity_facts import json  # orjson, as edgartools imports it
from edgar.entity.parser import EntityFactsParser
print("ready", flush=True)
for line in sys.stdin:
    text = Path(line.strip()).read_text()
    start = time.perf_counter()
    parsed = EntityFactsParser.parse_company_facts(json.loads(text))
    print(time.perf_counter() - start, len(parsed.get_all_facts()) if parsed else 0, flush=True)
"""


def parse_and_load(path: Path, settings: Settings, companies) -> int:
    """What ingest_filings does with one payload, its validation included; returns the facts loaded."""
    with connect(settings.paths.warehouse) as con:
        found = read_payload(path)
        payload = PayloadFile(found.path, found.sha256, {**found.meta, **identify(path, "companyfacts")})
        fresh = [p for p in [payload] if p.sha256 not in loaded_hashes(con)]
    with connect(settings.paths.warehouse) as con:
        facts, filings, refused = accepted(con, settings, RUN_ID, fresh, {})
        assert not refused, refused
        load(con, facts, filings, fresh, companies, RUN_ID, settings.clock.recorded())
    return len(facts)


def floor(path: Path, database: str, table: str = TABLE) -> int:
    """The floor into an empty table (`table`: TABLE, or KEYED) of a new file; returns the facts loaded."""
    with duckdb.connect(database) as con:
        con.execute(table)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        con.execute(FLOOR, {"path": str(path), "sha256": sha256, "run_id": RUN_ID})
        return con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]


def floor_in_memory(path: Path) -> int:
    with duckdb.connect(":memory:") as con:
        con.execute(f"create table facts as {FACTS}", {"path": str(path)})
        return con.execute("select count(*) from facts").fetchone()[0]


def cpu_in_child(fn: Callable[[], int]) -> tuple[float, int]:
    """CPU seconds (user + sys, every thread) of `fn` run in a child forked from this process, and
    what it returned (a count)."""
    read, write = os.pipe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, str(fn()).encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not answer:
        raise RuntimeError("the child process failed: see its error above")
    return seconds, int(answer)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


class Edgar:
    """edgartools in its own venv, parsing on request; `problem` says why not, when it cannot."""

    def __init__(self, venv: Path) -> None:
        self.worker: subprocess.Popen | None = None
        self.problem = install_edgartools(venv)
        if self.problem:
            return
        self.worker = subprocess.Popen(
            [str(venv / "bin" / "python"), "-c", EDGAR_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if self.worker.stdout.readline().strip() != "ready":
            self.problem = "its worker did not start"

    def parse(self, path: Path) -> tuple[float, int] | None:
        if self.problem:
            return None
        self.worker.stdin.write(f"{path}\n")
        self.worker.stdin.flush()
        answer = self.worker.stdout.readline().split()
        if len(answer) != 2:
            self.problem = "its worker stopped"
            return None
        return float(answer[0]), int(answer[1])

    def close(self) -> None:
        if self.worker:
            self.worker.stdin.close()
            self.worker.wait()


def install_edgartools(venv: Path) -> str | None:
    """None once `venv` has edgartools (installing it when missing); else why it has not."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import edgar"], capture_output=True).returncode == 0:
        return None
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    install = [uv, "pip", "install", "--quiet", "--python", str(python), "edgartools"]
    steps = ([uv, "venv", "--quiet", str(venv)], install)
    for command in steps:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command[:3])} failed: {exc}"
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return f"{' '.join(command[:3])} failed: {last}"
    return None


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--edgar-venv", type=Path, default=EDGAR_VENV)
    args = parser.parse_args()
    path = args.path.resolve()
    logging.disable(logging.WARNING)  # the payload's flagged facts, logged on every run
    companies = seeds.read(seeds.COMPANIES, Settings())
    start = time.process_time()
    from expectations.validate import _context  # Great Expectations, as the first validating run loads it

    _context()
    gx_import = time.process_time() - start
    edgar = Edgar(args.edgar_venv)
    ours, floors, keyed, in_memory, theirs, second = [], [], [], [], [], []
    facts = floor_rows = edgar_facts = 0
    try:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings(data_dir=Path(tmp))
                with connect(settings.paths.warehouse):  # created and migrated, not timed
                    pass
                seconds, facts = cpu_in_child(lambda s=settings: parse_and_load(path, s, companies))
                ours.append(seconds)
                seconds, again = cpu_in_child(lambda s=settings: parse_and_load(path, s, companies))
                second.append(seconds)
                assert again == 0
            with tempfile.TemporaryDirectory() as tmp:
                seconds, floor_rows = cpu_in_child(lambda tmp=tmp: floor(path, str(Path(tmp) / "floor.duckdb")))
            floors.append(seconds)
            with tempfile.TemporaryDirectory() as tmp:
                keyed.append(cpu_in_child(lambda tmp=tmp: floor(path, str(Path(tmp) / "floor.duckdb"), KEYED))[0])
            in_memory.append(cpu_in_child(lambda: floor_in_memory(path))[0])
            if (parsed := edgar.parse(path)) is not None:
                theirs.append(parsed[0])
                edgar_facts = parsed[1]
    finally:
        edgar.close()

    print(f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB")
    print(f"runs: {args.runs} (medians, CPU time)")
    print(f"facts loaded, pipeline (word-for-word repeats dropped): {facts:,}")
    print(f"facts loaded, floor: {floor_rows:,}")
    print(f"companyfacts parse+load with validation (read, sha256, parse, validate, upsert): {ms(ours)}")
    print(f"floor (DuckDB read_json + unnest into raw.xbrl_facts of an empty file, as the pipeline's): {ms(floors)}")
    print(f"floor into the table with its primary key (as before migration 0015): {ms(keyed)}")
    print(f"floor in memory (read_json + unnest into a new table, no key, no file): {ms(in_memory)}")
    if theirs:
        print(f"edgartools parse (orjson.loads + EntityFactsParser, {edgar_facts:,} facts, wall clock): {ms(theirs)}")
    else:
        print(f"edgartools parse: not measured, edgartools could not be installed or run ({edgar.problem})")
    print(f"second load, unchanged (read, sha256, skip): {ms(second)}")
    print(f"importing Great Expectations (once per validating process, not above): {gx_import * 1000:.0f} ms")
    print(
        f"companyfacts parse+load with validation / floor: {statistics.median(ours) / statistics.median(floors):.2f}x"
    )
    print(f"the same / the keyed floor: {statistics.median(ours) / statistics.median(keyed):.2f}x")
    if theirs:
        print(f"companyfacts parse+load / edgartools parse: {statistics.median(ours) / statistics.median(theirs):.2f}x")


if __name__ == "__main__":
    main()
