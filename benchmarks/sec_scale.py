"""raw.xbrl_facts at every-filer scale: the single writer's load of N million synthetic facts.

    .venv/bin/python benchmarks/sec_scale.py [--millions 10 25 50] [--ciks 19000] [--memory-limit 6GB]

For each N, DuckDB writes N synthetic facts as the mapped tasks stage them (one parquet file per
companyfacts member, DATA_DIR/staged/xbrl_facts/bucket=NN/), spread over --ciks filers with a
skewed size (a few large filers, many small ones), us-gaap/dei/ifrs-full/srt concepts, several
units, quarterly and annual periods, and each fact reported by 1-3 filings (the versions a
restatement or a later comparative adds). A fresh child process then loads them the way
ingest_sec_bulk does: BATCH_MEMBERS members per transaction through `load_members`, one connection
per batch; it reports its wall and CPU time (RUSAGE_CHILDREN user+sys), peak RSS (ru_maxrss),
DuckDB's own memory by tag after the last batch (duckdb_memory(): the primary key's ART index is
`ART_INDEX`), and the warehouse file's size. A second load of the last 2% of the members, changed,
shows a nightly increment's cost on the loaded table.

Then it extrapolates to every filer: facts per company in ../shared/realdata/sec/corpus (median
and mean; those 18 are large filers, so 19,000 x their mean is an upper bound) and facts per zipped
byte times companyfacts.zip's 1.3 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from pipeline.ingest.bulk import BATCH_MEMBERS, load_members
from pipeline.ingest.bulk_members import BUCKETS, COMPANYFACTS, MemberResult
from pipeline.runtime.settings import Settings
from warehouse.connection import connect

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
FILERS = 19_000  # companyfacts.zip members (SEC, 2025)
ZIPPED_BYTES = 1.3e9  # companyfacts.zip
GIB = 1 << 30
PERIODS = 48  # twelve years of quarters a fact identity cycles through
LOADED_AT = dt.datetime(2026, 1, 5, 22, tzinfo=dt.UTC)

# One row per staged fact, in FACTS_SCHEMA's columns. A filer's j-th row is version v = j % 3 of
# fact identity g = j // 3: concept g // PERIODS (from a shared pool of 5,000, taxonomy by concept),
# period g % PERIODS, reported by filing (period + v), so the key is unique by construction.
FACTS = """
with rows as (
    select f.cik, f.crc, j, j // 3 as g, j % 3 as v
    from filers f, unnest(range(f.n)) as r(j)
    where f.cik % {buckets} = ?
), shaped as (
    select *, (g // {periods} * 37 + cik) % 5000 as concept_id, g % {periods} as q,
        date '2013-03-31' + to_months(3 * (g % {periods})) as period_end
    from rows
)
select
    cik,
    case when concept_id % 20 < 16 then 'us-gaap' when concept_id % 20 < 18 then 'ifrs-full'
         when concept_id % 20 = 18 then 'dei' else 'srt' end as taxonomy,
    'Concept' || concept_id as concept,
    ['USD', 'USD', 'USD', 'shares', 'USD/shares', 'pure', 'EUR', 'JPY'][concept_id % 8 + 1] as unit,
    case when concept_id % 3 = 0 then strftime(period_end, '%Y-%m-%d')
         else strftime(period_end - to_months(3) + interval 1 day, '%Y-%m-%d') || '/'
             || strftime(period_end, '%Y-%m-%d')
    end as period,
    case when concept_id % 3 = 0 then null else (period_end - to_months(3) + interval 1 day)::date end as start,
    period_end::date as "end",
    (concept_id * 1000003 + q * 7919 + v) % 100000000 * 1000.0 as val,
    lpad(cik::varchar, 10, '0') || '-' || lpad(((13 + (q + v) // 4) % 100)::varchar, 2, '0') || '-'
        || lpad(((q + v) * 97 + cik % 89)::varchar, 6, '0') as accn,
    (2013 + (q + v) // 4)::integer as fy,
    ['Q1', 'Q2', 'Q3', 'FY'][(q + v) % 4 + 1] as fp,
    case when (q + v) % 4 = 3 then '10-K' else '10-Q' end as form,
    (period_end + to_days(40 + 91 * v))::date as filed,
    case when v = 0 then 'CY' || year(period_end) || 'Q' || quarter(period_end) end as frame,
    null::varchar as flags,
    'bulk:companyfacts.zip/CIK' || lpad(cik::varchar, 10, '0') || '.json@' || crc as payload_sha256
from shaped
"""


def filers(con: duckdb.DuckDBPyConnection, facts: int, ciks: int) -> None:
    """The synthetic filers and their fact counts (lognormal-ish, summing to about `facts`)."""
    con.execute("select setseed(0.42)")
    con.execute(
        f"""create table filers as
        with w as (
            select 1000 + i * 53 as cik, exp(1.2 * (random() + random() + random() - 1.5)) as w from range({ciks}) t(i)
        )
        select cik, greatest(3, round({facts} * w / sum(w) over ())::bigint) as n,
            printf('%08x', hash(cik) % 4294967296) as crc
        from w"""
    )


def stage(folder: Path, facts: int, ciks: int) -> list[MemberResult]:
    """Write the synthetic members' parquet partitions under `folder`; their MemberResults, in CIK order."""
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    filers(con, facts, ciks)
    for bucket in range(BUCKETS):
        target = folder / f"bucket={bucket:02d}"
        con.execute(
            f"copy ({FACTS.format(buckets=BUCKETS, periods=PERIODS)}) to '{target}' "
            "(format parquet, partition_by (cik), write_partition_columns true, filename_pattern 'member')",
            [bucket],
        )
    results = [
        MemberResult(
            COMPANYFACTS,
            f"CIK{cik:010d}.json",
            n * 300,
            int(crc, 16),
            cik,
            n,
            str(folder / f"bucket={cik % BUCKETS:02d}" / f"cik={cik}" / "member0.parquet"),
            None,
        )
        for cik, n, crc in con.execute("select cik, n, crc from filers order by cik").fetchall()
    ]
    con.close()
    return results


def load_only(handoff: Path) -> None:
    """In a fresh process: load the handed-off members batch by batch as ingest_sec_bulk does, then
    the changed last 2% again; print the figures as one JSON line."""
    import pickle

    settings, results, changed = pickle.loads(handoff.read_bytes())
    memory: dict[str, int] = {}

    def load(batches: list[MemberResult], run_id: str) -> float:
        start = time.perf_counter()
        for first in range(0, len(batches), BATCH_MEMBERS):
            with connect(settings.paths.warehouse) as con:
                load_members(con, batches[first : first + BATCH_MEMBERS], run_id, LOADED_AT)
                if first + BATCH_MEMBERS >= len(batches):
                    memory.update(
                        con.execute(
                            "select tag, memory_usage_bytes from duckdb_memory() where memory_usage_bytes > 0"
                        ).fetchall()
                    )
        return time.perf_counter() - start

    first = load(results, "first-night")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    first_cpu = cpu.ru_utime + cpu.ru_stime
    first_peak = cpu.ru_maxrss * 1024
    first_memory = dict(memory)
    nightly = load(changed, "nightly")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    with connect(settings.paths.warehouse) as con:
        rows = con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]
    print(
        json.dumps(
            {
                "first_seconds": first,
                "first_cpu": first_cpu,
                "first_peak": first_peak,
                "first_memory": first_memory,
                "nightly_seconds": nightly,
                "nightly_cpu": cpu.ru_utime + cpu.ru_stime - first_cpu,
                "peak": cpu.ru_maxrss * 1024,
                "rows": rows,
                "file_bytes": settings.paths.warehouse.stat().st_size,
            }
        )
    )


def changed_members(folder: Path, results: list[MemberResult]) -> list[MemberResult]:
    """The last 2% of the members as a night changes them: every fact again (companyfacts is the
    whole company's), with a new filing's facts added (a 10% more, under a new accession)."""
    con = duckdb.connect()
    out = []
    for r in results[-max(1, len(results) // 50) :]:
        path = folder / "changed" / f"CIK{r.cik:010d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select * replace (val + 1 as val) from read_parquet('{r.staged_path}')
                union all
                select * replace (accn || '-new' as accn, filed + 91 as filed)
                from read_parquet('{r.staged_path}') using sample 10 percent (bernoulli, 7)
            ) to '{path}' (format parquet)"""
        )
        rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
        out.append(r._replace(crc32=r.crc32 ^ 1, rows=rows, staged_path=str(path)))
    con.close()
    return out


def measure(millions: float, ciks: int, memory_limit: str, root: Path) -> dict:
    import pickle

    folder = root / f"{millions:g}M"
    staged = folder / "var" / "staged" / "xbrl_facts"
    start = time.perf_counter()
    results = stage(staged, int(millions * 1_000_000), ciks)
    changed = changed_members(folder, results)
    built = time.perf_counter() - start
    settings = Settings(data_dir=folder / "var")
    handoff = folder / "handoff.pickle"
    handoff.write_bytes(pickle.dumps((settings, results, changed)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, __file__, "--load-only", str(handoff), "--memory-limit", memory_limit],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = json.loads(out.strip().splitlines()[-1])
    figures["children_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    figures["staged_facts"] = sum(r.rows for r in results)
    figures["changed_facts"] = sum(r.rows for r in changed)
    figures["built_seconds"] = built
    figures["staged_bytes"] = sum(p.stat().st_size for p in staged.rglob("*.parquet"))
    return figures


def corpus_facts(realdata: Path) -> tuple[list[int], float]:
    """Facts per company in the real corpus, and facts per byte of its payloads zipped."""
    counts, zipped = [], 0
    for path in sorted((realdata / "sec" / "corpus" / "companyfacts").glob("CIK*.json")):
        raw = path.read_bytes()
        payload = json.loads(raw)
        counts.append(sum(len(v) for t in payload["facts"].values() for c in t.values() for v in c["units"].values()))
        zipped += len(zlib.compress(raw, 6))
    return counts, sum(counts) / zipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, nargs="+", default=[10, 25, 50])
    parser.add_argument("--ciks", type=int, default=FILERS)
    # The writer's connection has no limit of its own (DuckDB's default: 80% of RAM); the
    # benchmark bounds it as THESIS_MODEL_MEMORY_LIMIT bounds a model, below the 8 GiB target.
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--realdata", type=Path, default=REALDATA)
    parser.add_argument("--load-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_only:
        # Every connection the load opens gets the limit.
        import warehouse.connection as connection

        opened = connection.open_waiting

        def limited(*a, **k):  # type: ignore[no-untyped-def]
            con = opened(*a, **k)
            con.execute("set memory_limit = ?", [args.memory_limit])
            return con

        connection.open_waiting = limited  # type: ignore[assignment]
        load_only(args.load_only)
        return
    counts, per_byte = corpus_facts(args.realdata)
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        for millions in args.millions:
            f = measure(millions, args.ciks, args.memory_limit, Path(tmp))
            rate = f["rows"] / f["first_seconds"]
            rates.append((f["rows"], f))
            art = f["first_memory"].get("ART_INDEX", 0)
            print(
                f"{millions:g} M facts, {args.ciks:,} filers (staged {f['staged_bytes'] / GIB:.2f} GiB in "
                f"{f['built_seconds']:.0f} s): first load {f['first_seconds']:.0f} s wall, {f['first_cpu']:.0f} s CPU, "
                f"{rate:,.0f} facts/s; peak RSS {f['first_peak'] / GIB:.2f} GiB; ART index {art / GIB:.2f} GiB; "
                f"DuckDB memory {sum(f['first_memory'].values()) / GIB:.2f} GiB "
                f"({', '.join(f'{k} {v / GIB:.2f}' for k, v in sorted(f['first_memory'].items()))}); "
                f"warehouse file {f['file_bytes'] / GIB:.2f} GiB",
                flush=True,
            )
            print(
                f"{millions:g} M facts: nightly reload of the last 2% of the members "
                f"({f['changed_facts']:,} facts): {f['nightly_seconds']:.1f} s wall, {f['nightly_cpu']:.1f} s CPU; "
                f"peak RSS {f['peak'] / GIB:.2f} GiB; {f['rows']:,} rows",
                flush=True,
            )
    print(
        f"real corpus: {len(counts)} companies, facts per company median {statistics.median(counts):,.0f}, "
        f"mean {statistics.mean(counts):,.0f}; {per_byte:.4f} facts per zipped byte"
    )
    estimates = {
        f"{FILERS:,} x mean": FILERS * statistics.mean(counts),
        f"{FILERS:,} x median": FILERS * statistics.median(counts),
        "1.3 GB zipped x facts per zipped byte": ZIPPED_BYTES * per_byte,
    }
    rows, last = rates[-1]
    for name, facts in estimates.items():
        scale = facts / rows
        art = last["first_memory"].get("ART_INDEX", 0) * scale
        print(
            f"every filer, {name}: {facts / 1e6:,.0f} M facts; first night (extrapolated linearly from "
            f"{rows / 1e6:.0f} M) {last['first_seconds'] * scale / 60:,.0f} min wall, "
            f"{last['first_cpu'] * scale / 60:,.0f} min CPU; "
            f"warehouse file {last['file_bytes'] * scale / GIB:,.1f} GiB; "
            f"ART index {art / GIB:,.1f} GiB"
        )


if __name__ == "__main__":
    main()
