"""How long SEC bulk mode takes on a synthetic 500-company bulk set, and the memory its load needs.

    .venv/bin/python benchmarks/bulk_sec.py [--companies N] [--realdata DIR]

Builds companyfacts.zip and submissions.zip in a temporary folder (sample/generate_bulk.py), then
times the parse alone: every member staged by the mapped tasks (read, parse, validate, parquet),
run with the Direct steps. The load into DuckDB (BATCH_MEMBERS staged members per transaction)
runs in a fresh child process, so its peak resident memory (ru_maxrss) is the load's own, not the
parse's. `parse_seconds` takes any Steps, for timings on other task runners.

Then the whole parse-and-load of every member, interleaved A B A B into fresh data directories:
A parses a batch, then loads it, then parses the next (the writer and the workers take turns);
B is the pipeline's parse_and_load, where the writer thread loads a batch while the next one is
parsed. Medians of wall and CPU time (this process, every thread).
"""

from __future__ import annotations

import argparse
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.ingest.bulk import BATCH_MEMBERS, load_batch, load_members, parse_and_load, parse_members
from pipeline.ingest.bulk_members import Member, MemberResult, list_members
from pipeline.runtime.settings import Settings
from pipeline.runtime.steps import DIRECT, Steps
from sample.generate_bulk import write_bulk_zips
from warehouse.connection import connect

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
GIB = 1 << 30


def parse_seconds(settings: Settings, members: list[Member], steps: Steps) -> tuple[float, list[MemberResult]]:
    """Seconds to stage every member with `steps`, and the results."""
    start = time.perf_counter()
    results = parse_members(settings, members, settings.clock.today(), frozenset(), steps)
    return time.perf_counter() - start, results


def load(settings: Settings, results: list[MemberResult]) -> float:
    """Seconds to load every staged member, one transaction per BATCH_MEMBERS."""
    start = time.perf_counter()
    for first in range(0, len(results), BATCH_MEMBERS):
        with connect(settings.paths.warehouse) as con:
            load_members(con, results[first : first + BATCH_MEMBERS], "benchmark", settings.clock.recorded())
    return time.perf_counter() - start


def load_in_child(settings: Settings, results: list[MemberResult], folder: Path) -> tuple[float, int, int, int, int]:
    """load() in a fresh process: its seconds, its RSS before the load and its peak RSS in bytes,
    and the facts and filings loaded."""
    handoff = folder / "results.pickle"
    handoff.write_bytes(pickle.dumps((settings, results)))
    out = subprocess.run(
        [sys.executable, __file__, "--load-only", str(handoff)], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), int(out[3]), int(out[4])


def load_only(handoff: Path) -> None:
    settings, results = pickle.loads(handoff.read_bytes())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the imports and the results
    seconds = load(settings, results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    with connect(settings.paths.warehouse) as con:
        facts = con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]
        filings = con.execute("select count(*) from raw.filings").fetchone()[0]
    print(seconds, before, peak, facts, filings)


def in_turn(settings: Settings, members: list[Member]) -> None:
    """Each batch parsed, then loaded, before the next is parsed."""
    for start in range(0, len(members), BATCH_MEMBERS):
        batch = members[start : start + BATCH_MEMBERS]
        staged = parse_members(settings, batch, settings.clock.today(), frozenset(), DIRECT)
        load_batch(settings, staged, "benchmark")


def overlapped(settings: Settings, members: list[Member]) -> None:
    parse_and_load(settings, members, settings.clock.today(), frozenset(), DIRECT, "benchmark")


def timed(run, settings: Settings, members: list[Member]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of run(settings, members)."""
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run(settings, members)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--realdata", type=Path, default=REALDATA)
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds of the in-turn and overlapped runs")
    parser.add_argument("--load-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_only:
        load_only(args.load_only)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_bulk_zips(folder / "bulk", args.companies, args.realdata)
        built = time.perf_counter() - start
        members = [
            m for name in ("companyfacts.zip", "submissions.zip") for m in list_members(folder / "bulk" / name)[0]
        ]
        settings = Settings(data_dir=folder / "var")
        parsed, results = parse_seconds(settings, members, DIRECT)
        failed = [r for r in results if r.error]
        loaded, before, peak, facts, filings = load_in_child(settings, results, folder)
        size = sum((folder / "bulk" / name).stat().st_size for name in ("companyfacts.zip", "submissions.zip"))
        figures: dict[str, list[tuple[float, float]]] = {"in turn": [], "overlapped": []}
        for round_ in range(args.rounds):
            for name, run in (("in turn", in_turn), ("overlapped", overlapped)):
                figures[name].append(timed(run, Settings(data_dir=folder / f"{name}-{round_}"), members))
    n = args.companies
    print(
        f"synthetic bulk set, {n} companies: {len(members)} members, {size / 1e6:.0f} MB zipped, built in {built:.1f} s"
    )
    print(f"bulk SEC parse, direct, {n} companies: {parsed:.1f} s")
    print(f"members failed: {len(failed)}")
    print(f"bulk SEC load into DuckDB, {n} companies: {loaded:.1f} s ({facts:,} facts, {filings:,} filings)")
    print(f"peak RSS bulk load into DuckDB: {peak / GIB:.2f} GiB")
    print(f"RSS of the loading process before the load: {before / GIB:.2f} GiB")
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in figures.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in figures.items()}
    for name in figures:
        print(
            f"bulk SEC parse and load, {name}, {n} companies: {wall[name]:.1f} s wall, {cpu[name]:.1f} s CPU (median)"
        )
    print(
        f"overlapped / in turn, {n} companies: {wall['overlapped'] / wall['in turn']:.2f}x wall, "
        f"{cpu['overlapped'] / cpu['in turn']:.2f}x CPU (medians of {args.rounds} rounds, interleaved)"
    )


if __name__ == "__main__":
    main()
