"""How long loading the real NVIDIA companyfacts takes: a first load, and a second, unchanged one.

    .venv/bin/python benchmarks/load_companyfacts.py [PATH] [--runs N]

PATH defaults to ../shared/realdata/sec/companyfacts/CIK0001045810.json. Each run starts from an
empty warehouse in a temporary folder. "First load" is what ingest_filings does with a new payload:
hash it, read the JSON into a frame, and upsert it in one transaction. Validation (GX) is timed on
its own. "Second load" is the same payload offered again: its hash is found in meta.payloads and it
is skipped. Medians of N runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from expectations import raw_xbrl_facts
from expectations.validate import run_suite
from pipeline.ingest_filings import load, loaded_hashes, read_batch
from pipeline.parsers.sec_payloads import identify
from pipeline.raw_zone import PayloadFile, read_payload
from pipeline.seeds import read_companies, read_concept_map
from pipeline.settings import Settings
from warehouse.connection import connect

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "sec" / "companyfacts" / "CIK0001045810.json"


def offer(path: Path, con, companies, concept_map) -> int:
    """The load path of ingest_filings for one payload; returns the facts loaded."""
    found = read_payload(path)
    payload = PayloadFile(found.path, found.sha256, {**found.meta, **identify(path, "companyfacts")})
    fresh = [p for p in [payload] if p.sha256 not in loaded_hashes(con)]
    facts, filings = read_batch(fresh)
    load(con, facts, filings, fresh, companies, concept_map, "benchmark")
    return len(facts)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    companies, concept_map = read_companies(settings.companies_csv), read_concept_map(settings.concept_map_csv)
    first, second, validation, facts = [], [], [], 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as con:
            seconds, facts = timed(lambda: offer(args.path, con, companies, concept_map))
            first.append(seconds)
            seconds, again = timed(lambda: offer(args.path, con, companies, concept_map))
            second.append(seconds)
            assert again == 0 and con.execute("select count(*) from raw.xbrl_facts").fetchone()[0] == facts
            batch, _ = read_batch([PayloadFile(args.path, "x", identify(args.path, "companyfacts"))])
            prepared = raw_xbrl_facts.prepare(batch)
            seconds, _ = timed(
                lambda prepared=prepared: run_suite(
                    raw_xbrl_facts.suite,
                    prepared,
                    raw_xbrl_facts.ID_COLUMNS,
                )
            )
            validation.append(seconds)
    size = args.path.stat().st_size / 1e6
    print(f"{args.path.name}: {size:.1f} MB, {facts:,} facts; medians of {args.runs} runs")
    print(f"  first load (hash, parse, upsert):        {statistics.median(first) * 1000:8.0f} ms")
    print(f"  second load, unchanged (hash, skip):     {statistics.median(second) * 1000:8.0f} ms")
    print(f"  GX validation of the batch (first load): {statistics.median(validation) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
