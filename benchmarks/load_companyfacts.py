"""How long loading the real NVIDIA companyfacts takes, against a floor and against edgartools.

    .venv/bin/python benchmarks/load_companyfacts.py [PATH] [--runs N] [--edgar-venv DIR]

PATH defaults to ../shared/realdata/sec/companyfacts/CIK0001045810.json. Every figure is the
median of N runs; each run times the three contenders back to back, so a busy machine slows all
of them alike. Each prints as `<figure>: <value>`.

- companyfacts parse+load: what ingest_filings does with a new payload, into an empty warehouse
  (a fresh, already migrated file per run): read the file and hash it, look the hash up in
  meta.payloads, parse it to a frame (read_batch), and load it (load: raw.xbrl_facts and
  meta.payloads upserted in one transaction, committed). Not included: opening the warehouse and
  GX validation, which is timed on its own.
- floor: DuckDB alone, with a query written by hand: read_json of the file, unnested into one
  typed row per fact (dates as DATE), into a new table (no key) of an empty database file, like
  the warehouse, committed. No hashing, no checks, no `period`, no duplicates dropped, no primary
  key: the least any loader has to do. The ratio is to this; the same query into an in-memory
  database (no file, no commit) is printed beside it.
- edgartools parse: edgartools' own reading of a local companyfacts file, orjson.loads of its
  text plus EntityFactsParser.parse_company_facts (what edgar.entity.get_company_facts does with
  local storage), timed inside a long-lived worker process of a throwaway venv (edgartools is not
  a dependency of the pipeline); interpreter start-up and imports are not timed. The venv is
  created, and edgartools installed into it with uv, when it does not have edgartools yet.
- second load, unchanged: the same payload offered again: its hash is found and it is skipped.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from expectations import raw_xbrl_facts
from expectations.validate import run_suite
from pipeline.ingest.filings import fact_limits, load, loaded_hashes, read_batch
from pipeline.payloads import seeds
from pipeline.payloads.raw_zone import PayloadFile, read_payload
from pipeline.payloads.sec_payloads import identify
from pipeline.runtime.settings import Settings
from warehouse.connection import connect

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "sec" / "companyfacts" / "CIK0001045810.json"
EDGAR_VENV = Path(tempfile.gettempdir()) / "edgar-bench"

# One typed row per fact. companyfacts keys taxonomies, concepts and units by name, so they are
# read as maps (a struct would need every concept named in advance) and unnested entry by entry.
FACT = (
    'STRUCT("start" DATE, "end" DATE, val DOUBLE, accn VARCHAR, fy INTEGER, fp VARCHAR, form VARCHAR, filed DATE, '
    "frame VARCHAR)"
)
FLOOR = f"""
create table facts as
with payload as (
    select cik, facts from read_json(
        ?, format = 'unstructured',
        columns = {{cik: 'BIGINT', facts: 'MAP(VARCHAR, MAP(VARCHAR, STRUCT(units MAP(VARCHAR, {FACT}[]))))'}}
    )
),
taxonomies as (select cik, unnest(map_entries(facts)) as t from payload),
concepts as (select cik, t.key as taxonomy, unnest(map_entries(t.value)) as c from taxonomies),
units as (select cik, taxonomy, c.key as concept, unnest(map_entries(c.value.units)) as u from concepts),
rows as (select cik, taxonomy, concept, u.key as unit, unnest(u.value) as f from units)
select cik, taxonomy, concept, unit, f.* from rows
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


def parse_and_load(path: Path, con: duckdb.DuckDBPyConnection, companies) -> int:
    """The load path of ingest_filings for one payload; returns the facts loaded."""
    found = read_payload(path)
    payload = PayloadFile(found.path, found.sha256, {**found.meta, **identify(path, "companyfacts")})
    fresh = [p for p in [payload] if p.sha256 not in loaded_hashes(con)]
    settings = Settings()
    facts, filings = read_batch(fresh, settings, "benchmark")
    load(con, facts, filings, fresh, companies, "benchmark", settings.clock.recorded())
    return len(facts)


def floor(path: Path, database: str) -> int:
    with duckdb.connect(database) as con:
        con.execute(FLOOR, [str(path)])
        return con.execute("select count(*) from facts").fetchone()[0]


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


def validation_seconds(path: Path) -> float:
    settings = Settings()
    batch, _ = read_batch([PayloadFile(path, "x", identify(path, "companyfacts"))], settings, "benchmark")
    prepared = raw_xbrl_facts.prepare(batch, settings.clock.today(), set(), fact_limits(settings))
    return timed(lambda: run_suite(raw_xbrl_facts.suite, prepared, raw_xbrl_facts.ID_COLUMNS))[0]


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--edgar-venv", type=Path, default=EDGAR_VENV)
    parser.add_argument("--no-validation", action="store_true", help="skip timing GX validation")
    args = parser.parse_args()
    path = args.path.resolve()
    companies = seeds.read(seeds.COMPANIES, Settings())
    edgar = Edgar(args.edgar_venv)
    ours, floors, in_memory, theirs, second, validation = [], [], [], [], [], []
    facts = floor_rows = edgar_facts = 0
    try:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as con:
                seconds, facts = timed(lambda con=con: parse_and_load(path, con, companies))
                ours.append(seconds)
                seconds, again = timed(lambda con=con: parse_and_load(path, con, companies))
                second.append(seconds)
                assert again == 0 and con.execute("select count(*) from raw.xbrl_facts").fetchone()[0] == facts
            with tempfile.TemporaryDirectory() as tmp:
                seconds, floor_rows = timed(lambda tmp=tmp: floor(path, str(Path(tmp) / "floor.duckdb")))
            floors.append(seconds)
            in_memory.append(timed(lambda: floor(path, ":memory:"))[0])
            if (parsed := edgar.parse(path)) is not None:
                theirs.append(parsed[0])
                edgar_facts = parsed[1]
            if not args.no_validation:
                validation.append(validation_seconds(path))
    finally:
        edgar.close()

    print(f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB")
    print(f"runs: {args.runs} (medians)")
    print(f"facts in the file (floor rows): {floor_rows:,}")
    print(f"facts loaded (word-for-word repeats dropped): {facts:,}")
    print(f"companyfacts parse+load (read, sha256, parse to frame, upsert in one transaction): {ms(ours)}")
    print(f"floor (DuckDB read_json + unnest, one row per fact, into a new table of an empty file): {ms(floors)}")
    print(f"floor in memory (the same query, into an in-memory database): {ms(in_memory)}")
    if theirs:
        print(f"edgartools parse (orjson.loads + EntityFactsParser, {edgar_facts:,} facts): {ms(theirs)}")
    else:
        print(f"edgartools parse: not measured, edgartools could not be installed or run ({edgar.problem})")
    print(f"second load, unchanged (read, sha256, skip): {ms(second)}")
    if validation:
        print(f"GX validation of the batch: {ms(validation)}")
    print(f"companyfacts parse+load / floor: {statistics.median(ours) / statistics.median(floors):.1f}x")
    if theirs:
        print(f"companyfacts parse+load / edgartools parse: {statistics.median(ours) / statistics.median(theirs):.1f}x")


if __name__ == "__main__":
    main()
