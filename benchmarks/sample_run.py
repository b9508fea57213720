"""`thesis run --sample` as a whole process, against its floor, in CPU time.

    .venv/bin/python benchmarks/sample_run.py [--runs N]

The floor is this script run with --floor DIR: DuckDB alone, by hand, doing the least a sample
run has to. It reads the same files (sample/prices/*.parquet, sample/sec/companyfacts/*.json,
sample/sec/submissions/*.json) into keyed tables of a database file (prices by ticker and date,
facts by company, concept, unit, period and accession, filings by company and accession; each row
with its provenance: the sha256 of the file it came from, the run and when it was loaded), derives
marts.relative_performance with the mart's window query written for a full build, and writes it
as parquet. Each pipeline run is a first run into an empty data directory, as `thesis run --sample`
is on a new checkout.

The two run interleaved (floor, pipeline, floor, pipeline, ...), N times each. Every pair is
checked to reach the same end state for the mart: the floor's rows and the pipeline's are the
same, EXCEPT both ways and the same count. Printed: each one's median CPU (user + sys) and wall
time and peak memory, and the ratio of the CPU medians; the goal is 1.5x at most.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

from floor_sql import FROM_DERIVED, SUMS_OVER_60, anchored, units
from processes import Timing, clean_environment, medians, timed

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "sample"
THESIS = Path(sys.executable).with_name("thesis")
# The sample run's default settings (pipeline/runtime/settings.py): the tickers it measures, their
# benchmark and the anchor date.
MEASURED = {"NVDA": "^SOX", "ORCL": "^SOX"}
ANCHOR = "2025-08-01"

KEYED_TABLES = """
create table prices (
    ticker varchar, date date, open double, high double, low double, close double, adj_close double,
    volume bigint, payload_sha256 varchar, run_id varchar, loaded_at timestamptz, primary key (ticker, date)
);
create table facts (
    cik bigint, taxonomy varchar, concept varchar, unit varchar, period varchar, "start" date, "end" date,
    val double, accn varchar, fy integer, fp varchar, form varchar, filed date, frame varchar,
    payload_sha256 varchar, run_id varchar, loaded_at timestamptz,
    primary key (cik, taxonomy, concept, unit, period, accn)
);
create table filings (
    cik bigint, accn varchar, form varchar, filed date, report_date date,
    payload_sha256 varchar, run_id varchar, loaded_at timestamptz, primary key (cik, accn)
);
create table payloads (file varchar primary key, sha256 varchar);
create table measured (ticker varchar primary key, benchmark varchar);
"""

# A bar's day is its stamp's date in New York; the ticker is the file name's first part.
LOAD_PRICES = """
insert into prices
select
    regexp_extract(parse_filename(filename), '^(.+)\\.\\d{8}T\\d{6}Z\\.[0-9a-f]+\\.parquet$', 1),
    timezone('America/New_York', "Date")::date,
    "Open", "High", "Low", "Close", "Adj Close", "Volume",
    payloads.sha256, $run_id, now()
from read_parquet($files, filename = true) as bars
inner join payloads on payloads.file = bars.filename
"""

FACT = (
    'STRUCT("start" DATE, "end" DATE, val DOUBLE, accn VARCHAR, fy INTEGER, fp VARCHAR, form VARCHAR, filed DATE, '
    "frame VARCHAR)"
)
# companyfacts keys taxonomies, concepts and units by name: read as maps and unnested entry by
# entry; a fact repeated within a payload is kept once.
LOAD_FACTS = f"""
insert into facts
with payload as (
    select cik, facts, payloads.sha256 from read_json(
        $files, format = 'unstructured', filename = true,
        columns = {{cik: 'BIGINT', facts: 'MAP(VARCHAR, MAP(VARCHAR, STRUCT(units MAP(VARCHAR, {FACT}[]))))'}}
    ) as payload
    inner join payloads on payloads.file = payload.filename
),
taxonomies as (select cik, sha256, unnest(map_entries(facts)) as t from payload),
concepts as (select cik, sha256, t.key as taxonomy, unnest(map_entries(t.value)) as c from taxonomies),
units as (select cik, sha256, taxonomy, c.key as concept, unnest(map_entries(c.value.units)) as u from concepts),
rows as (select cik, sha256, taxonomy, concept, u.key as unit, unnest(u.value) as f from units)
select
    cik, taxonomy, concept, unit, coalesce(f.start::varchar || '/', '') || f."end"::varchar as period, f.*,
    sha256, $run_id, now()
from rows
qualify row_number() over (partition by cik, taxonomy, concept, unit, period, f.accn order by f.filed desc) = 1
"""

LOAD_FILINGS = """
insert into filings
select
    cik, unnest(recent.accessionNumber), unnest(recent.form), unnest(recent.filingDate)::date,
    nullif(unnest(recent.reportDate), '')::date, sha256, $run_id, now()
from (
    select cik::bigint as cik, filings.recent as recent, payloads.sha256
    from read_json($files, format = 'unstructured', filename = true) as payload
    inner join payloads on payloads.file = payload.filename
)
"""

# transforms/marts/relative_performance.sql for a full build: every row derived, so no change
# scope and no history carried in (the running peak is the drawdown's alone).
RELATIVE_PERFORMANCE = f"""
create table relative_performance as
with
paired as (
    select prices.date, prices.ticker, measured.benchmark, prices.adj_close, benchmark.adj_close as benchmark_adj_close
    from prices
    inner join measured using (ticker)
    inner join prices as benchmark on benchmark.ticker = measured.benchmark and benchmark.date = prices.date
),
anchors as (
    select
        ticker,
        arg_min(adj_close, date) filter (where date >= $anchor) as anchor_adj_close,
        arg_min(benchmark_adj_close, date) filter (where date >= $anchor) as anchor_benchmark_adj_close
    from paired
    group by ticker
),
daily_returns as (
    select
        paired.*,
        anchors.anchor_adj_close,
        anchors.anchor_benchmark_adj_close,
        adj_close / lag(adj_close) over session - 1 as daily_return,
        benchmark_adj_close / lag(benchmark_adj_close) over session - 1 as benchmark_daily_return
    from paired
    inner join anchors using (ticker)
    window session as (partition by ticker order by date)
),
derived as (
    select date, ticker, benchmark, adj_close, benchmark_adj_close,
        {anchored("anchor_adj_close", "anchor_benchmark_adj_close", "session")},
        adj_close / max(adj_close) over (session rows between unbounded preceding and current row) - 1 as drawdown,
        {SUMS_OVER_60}
    from (select *, {units("daily_return", "benchmark_daily_return")} from daily_returns)
    window session as (partition by ticker order by date)
)
{FROM_DERIVED}
"""


def floor(out: Path) -> None:
    import duckdb

    files = {
        load: sorted(SAMPLE.glob(pattern))
        for load, pattern in (
            (LOAD_PRICES, "prices/*.parquet"),
            (LOAD_FACTS, "sec/companyfacts/*.json"),
            (LOAD_FILINGS, "sec/submissions/*.json"),
        )
    }
    with duckdb.connect(str(out / "floor.duckdb")) as con:
        con.execute(KEYED_TABLES)
        con.executemany("insert into measured values (?, ?)", list(MEASURED.items()))
        hashed = [(str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for paths in files.values() for p in paths]
        con.executemany("insert into payloads values (?, ?)", hashed)
        for load, paths in files.items():
            con.execute(load, {"files": [str(path) for path in paths], "run_id": "floor"})
        con.execute(RELATIVE_PERFORMANCE, {"anchor": ANCHOR})
        con.execute(f"copy (select * from relative_performance order by ticker, date) to '{out / 'mart.parquet'}'")


def same_mart(floor_dir: Path, data_dir: Path) -> int:
    """The floor's mart and the pipeline's hold the same rows, value for value: their row count.
    The pipeline's is read from its warehouse, on the floor's columns."""
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"attach '{data_dir / 'sample' / 'warehouse.duckdb'}' as pipeline (read_only)")
        con.execute(f"create view floor as select * from read_parquet('{floor_dir / 'mart.parquet'}')")
        columns = ", ".join(f'"{c}"' for (c, *_) in con.execute("describe floor").fetchall())
        ours = f"select {columns} from pipeline.marts.relative_performance"
        only_floor = con.execute(f"select count(*) from (select {columns} from floor except {ours})").fetchone()
        only_pipeline = con.execute(f"select count(*) from ({ours} except select {columns} from floor)").fetchone()
        counts = con.execute(f"select (select count(*) from floor), (select count(*) from ({ours}))").fetchone()
    assert only_floor == only_pipeline == (0,), f"rows only in the floor's {only_floor}, the pipeline's {only_pipeline}"
    assert counts is not None and counts[0] == counts[1] > 0, counts
    return counts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", type=Path, metavar="DIR", help="run the floor alone, into DIR")
    args = parser.parse_args()
    if args.floor:
        floor(args.floor)
        return
    env = clean_environment()
    timings: dict[str, list[Timing]] = {"floor": [], "thesis run --sample": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            floor_dir, data_dir = Path(tmp) / "floor", Path(tmp) / "var"
            floor_dir.mkdir()
            timings["floor"].append(timed([sys.executable, __file__, "--floor", str(floor_dir)], env))
            command = [str(THESIS), "run", "--sample", "--data-dir", str(data_dir)]
            timings["thesis run --sample"].append(timed(command, env))
            rows = same_mart(floor_dir, data_dir)
    print(f"marts.relative_performance: the same {rows} rows from both, in every run")
    for name, runs in timings.items():
        median = medians(runs)
        print(
            f"{name}: CPU {median.cpu:.2f} s, wall {median.wall:.2f} s, peak RSS {median.peak / 2**20:.0f} MiB "
            f"(medians of {args.runs})"
        )
    ratio = medians(timings["thesis run --sample"]).cpu / medians(timings["floor"]).cpu
    print(f"sample run / floor, CPU: {ratio:.2f}x")


if __name__ == "__main__":
    main()
