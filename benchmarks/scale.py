"""Universe-scale figures: 5,000 tickers x 10 years of bars, built in full and by one new session.

    .venv/bin/python benchmarks/scale.py [--tickers 5000] [--years 10] [--runs 3] [--companies 500]
                                         [--skip-prices]

It generates the bars straight into raw.prices with DuckDB (a random walk per ticker, every bar
valid), with a tickers file measuring each against one index, then prints one figure per line as
`<figure>: <value>`:

- the floor: one hand-written DuckDB query with the mart's window functions, creating a table
  from raw.prices;
- the full build: seeds, every model, the mart checks (Great Expectations) and publishing
  (parquet of every mart and the analyst copy), as `thesis build --full` does them;
- the daily increment: one new session for every ticker loaded, then the same build, which
  derives only the rows the new bars reach;
- the bulk SEC parse of a synthetic companyfacts.zip and submissions.zip of --companies companies
  (the real payloads in ../shared/realdata, CIKs rewritten) on a local Dask cluster of 1, 2 and 4
  worker processes, each member a Prefect task run, and the single writer's load of what they
  staged into raw.xbrl_facts;
- peak resident memory of each, each measured in a process of its own.

Each price figure is the median of --runs runs, each on a fresh copy of the generated warehouse;
each bulk figure the median of --runs parses. The bulk parse talks to a temporary Prefect server
started for the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from benchmarks.bulk_sec import load_in_child, parse_seconds

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
BENCHMARK = "^SYN"
ANCHOR = "2020-01-02"
FLOOR = """
create table floor as
with
bench as (select date, adj_close as b from raw.prices where ticker = '^SYN'),
paired as (
    select p.ticker, p.date, p.adj_close as a, bench.b
    from raw.prices as p join bench using (date) where p.ticker <> '^SYN'
),
anchor as (
    select ticker, arg_min(a, date) as a0, arg_min(b, date) as b0 from paired where date >= date '2020-01-02'
    group by ticker
),
returns as (
    select paired.*, a0, b0, a / lag(a) over w - 1 as ra, b / lag(b) over w - 1 as rb
    from paired join anchor using (ticker) window w as (partition by ticker order by date)
)
select ticker, date, a, b, 100 * a / a0 as rebased, 100 * b / b0 as benchmark_rebased,
    100 * (a / a0) / (b / b0) as relative_strength, a / a0 - b / b0 as excess,
    a / lag(a, 21) over w - 1 as r21, a / lag(a, 63) over w - 1 as r63,
    a / lag(a, 126) over w - 1 as r126, a / lag(a, 252) over w - 1 as r252,
    a / max(a) over (w rows between unbounded preceding and current row) - 1 as drawdown,
    case when regr_count(ra, rb) over l = 60 then regr_slope(ra, rb) over l end as beta,
    case when regr_count(ra, rb) over l = 60 then corr(ra, rb) over l end as corr
from returns
window
    w as (partition by ticker order by date),
    l as (partition by ticker order by date rows between 59 preceding and current row)
"""


def generate(folder: Path, tickers: int, years: int) -> None:
    """The warehouse with `tickers` tickers (the index among them) x `years` x 252 sessions of
    bars, and the tickers file."""
    from pipeline.runtime.settings import Settings
    from warehouse.connection import connect

    names = [f"S{i:04d}" for i in range(tickers - 1)]
    (folder / "tickers.csv").write_text("ticker,benchmark\n" + "".join(f"{n},{BENCHMARK}\n" for n in names))
    settings = Settings(data_dir=folder / "data")
    with connect(settings.paths.warehouse) as con:
        con.execute(
            """
            insert into raw.prices by name
            with
            days as (
                select d::date as date from range(date '2015-01-05', date '2040-01-01', interval 1 day) as t(d)
                where dayofweek(d) between 1 and 5
            ),
            sessions as (select date from days order by date limit $sessions),
            named as (select unnest($names) as ticker)
            select ticker, date, close * 0.995 as open, close * 1.01 as high, close * 0.99 as low, close,
                   close as adj_close, 1000 as volume, false as close_is_adjusted, 'scale' as payload_sha256,
                   'scale' as run_id, now() as loaded_at
            from (
                select ticker, date,
                       round(50 * exp(sum(0.03 * (random() - 0.5)) over (partition by ticker order by date)), 4)
                           as close
                from named, sessions
            )
            """,
            {"sessions": years * 252, "names": [*names, BENCHMARK]},
        )


def settings_for(folder: Path):
    from pipeline.runtime.settings import Settings

    return Settings(
        data_dir=folder / "data", tickers_file=folder / "tickers.csv", benchmark=BENCHMARK, anchor_date=ANCHOR
    )


def add_session(folder: Path) -> None:
    """One new session for every ticker, loaded now: what a day's fetch brings."""
    with duckdb.connect(str(folder / "data" / "warehouse.duckdb")) as con:
        con.execute(
            """
            insert into raw.prices by name
            select ticker, date + 1 + (case when dayofweek(date) = 5 then 2 else 0 end) as date,
                   open, high, low, close * 1.001 as close, adj_close * 1.001 as adj_close, volume,
                   close_is_adjusted, payload_sha256, 'scale-day' as run_id, now() as loaded_at
            from raw.prices qualify row_number() over (partition by ticker order by date desc) = 1
            """
        )


def build(folder: Path, run_id: str, full: bool) -> None:
    """What `thesis build` does to the marts and exports: seeds, models and checks in one
    transaction, then parquet of every mart and the analyst copy, made current."""
    from pipeline.build.run import export, publish_version, transform_and_validate

    settings = settings_for(folder).replace(full_build=full or None)
    transform_and_validate(settings, run_id)
    export(settings, run_id)
    publish_version(settings, run_id, "scale benchmark")


def floor(folder: Path) -> None:
    with duckdb.connect(str(folder / "data" / "warehouse.duckdb")) as con:
        con.execute(FLOOR)


def bulk_members(folder: Path) -> list:
    from pipeline.ingest.bulk_members import list_members

    return [m for name in ("companyfacts.zip", "submissions.zip") for m in list_members(folder / "bulk" / name)[0]]


def bulk_settings(folder: Path, workers: int):
    from pipeline.runtime.settings import Settings

    return Settings(data_dir=folder / f"var{workers}", task_runner="dask", dask_workers=workers)


def bulk_parse(folder: Path, workers: int) -> None:
    """Every member staged by mapped Prefect tasks on a local cluster of `workers` processes; the
    seconds of the parse alone (the cluster is up before the clock starts), the flow process's peak
    RSS and the largest worker's, as JSON. The staged results are left for the load."""
    from prefect import flow

    from flows.tasks import steps_for

    settings, members = bulk_settings(folder, workers), bulk_members(folder)

    @flow(name="bulk-parse-benchmark")
    def parse() -> tuple[float, list]:
        with steps_for(settings) as steps:
            return parse_seconds(settings, members, steps)

    seconds, results = parse()
    if any(r.error for r in results):
        sys.exit(f"bulk parse: {sum(1 for r in results if r.error)} member(s) failed")
    (folder / f"results{workers}.pickle").write_bytes(pickle.dumps(results))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the workers, joined at the end
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "worker_peak_bytes": worker}))


def phase(name: str, folder: Path) -> None:
    """One measured step in this process; prints its seconds and peak resident memory as JSON."""
    steps = {
        "floor": lambda: floor(folder),
        "full": lambda: build(folder, "20990101T000000Z-full00", full=True),
        "increment": lambda: build(folder, "20990102T000000Z-incr00", full=False),
    }
    import pipeline.build.run  # noqa: F401  (imports before the clock starts: a scheduled run has them loaded)

    if name == "increment":
        add_session(folder)  # before the clock starts: loading is the ingest's cost, not the build's
    start = time.perf_counter()
    steps[name]()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak}))


def measure(name: str, folder: Path, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--dir", str(folder), *extra], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"scale benchmark: the {name} step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=5000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--realdata", type=Path, default=REALDATA)
    parser.add_argument("--skip-prices", action="store_true", help="only the bulk SEC figures")
    parser.add_argument("--phase", choices=["floor", "full", "increment", "bulk"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "bulk":
        bulk_parse(args.dir, args.workers)
        return
    if args.phase:
        phase(args.phase, args.dir)
        return
    if not args.skip_prices:
        prices(args)
    bulk(args)


def bulk(args: argparse.Namespace) -> None:
    """The bulk SEC figures: parse on 1, 2 and 4 workers, then the load of what one of them staged."""
    from flows.server import temporary_server
    from sample.generate_bulk import write_bulk_zips

    with tempfile.TemporaryDirectory(prefix="scale-bulk-") as tmp:
        folder = Path(tmp)
        write_bulk_zips(folder / "bulk", args.companies, args.realdata)
        members = len(bulk_members(folder))
        size = sum(z.stat().st_size for z in (folder / "bulk").glob("*.zip"))
        print(f"synthetic bulk set: {args.companies} companies, {members} members, {size / 1e6:.0f} MB zipped")
        figures: dict[int, list[dict]] = {1: [], 2: [], 4: []}
        with temporary_server(folder / "prefect") as api_url:
            os.environ["PREFECT_API_URL"] = api_url  # the children's flows report to it
            for _ in range(args.runs):
                for workers in figures:  # interleaved, so a busy spell of the machine hits each alike
                    shutil.rmtree(folder / f"var{workers}", ignore_errors=True)
                    figures[workers].append(measure("bulk", folder, "--workers", str(workers)))
        parse = {w: statistics.median(f["seconds"] for f in runs) for w, runs in figures.items()}
        for workers, seconds in parse.items():
            print(f"bulk SEC parse, {workers} worker(s): {seconds:.1f} s")
        for workers in (2, 4):
            print(f"bulk SEC parse, {workers} workers / 1 worker speed-up: {parse[1] / parse[workers]:.2f}x")
        for workers, runs in figures.items():
            flow_peak, worker_peak = (max(f[k] for f in runs) for k in ("peak_bytes", "worker_peak_bytes"))
            print(f"peak RSS bulk SEC parse, {workers} worker(s): {gib(flow_peak)} flow, {gib(worker_peak)} per worker")
        results = pickle.loads((folder / "results1.pickle").read_bytes())
        seconds, before, peak, facts, filings = load_in_child(bulk_settings(folder, 1), results, folder)
        print(f"bulk SEC load into raw.xbrl_facts: {seconds:.1f} s ({facts:,} facts, {filings:,} filings)")
        print(f"peak RSS bulk SEC load into raw.xbrl_facts: {gib(peak)} ({gib(before)} before the load)")


def prices(args: argparse.Namespace) -> None:
    """The relative_performance figures: floor, full build, daily increment."""

    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        generated = Path(tmp) / "generated"
        generated.mkdir()
        generate(generated, args.tickers, args.years)
        with duckdb.connect(str(generated / "data" / "warehouse.duckdb"), read_only=True) as con:
            [[rows]] = con.execute("select count(*) from raw.prices").fetchall()
        print(f"bars in raw.prices: {rows:,} ({args.tickers:,} tickers x {args.years} years)")
        figures: dict[str, list[dict]] = {"floor": [], "full": [], "increment": []}
        for run in range(args.runs):
            work = Path(tmp) / f"run{run}"
            shutil.copytree(generated, work)
            figures["floor"].append(measure("floor", work))
            figures["full"].append(measure("full", work))  # the first build of this copy
            figures["increment"].append(measure("increment", work))  # the next day's, on top of it
            shutil.rmtree(work)

    def median(name: str, key: str = "seconds") -> float:
        return statistics.median(f[key] for f in figures[name])

    print(f"relative_performance floor (hand-written query): {median('floor'):.1f} s")
    print(f"relative_performance full build (transform, validation, publishing): {median('full'):.1f} s")
    print(f"relative_performance full build / floor: {median('full') / median('floor'):.2f}x")
    print(f"daily increment (one new session for every ticker): {median('increment'):.1f} s")
    print(f"daily increment / full build: {median('increment') / median('full'):.2f}x")
    for name, label in (("floor", "floor"), ("full", "full build"), ("increment", "daily increment")):
        print(f"peak RSS {label}: {gib(max(f['peak_bytes'] for f in figures[name]))}")


if __name__ == "__main__":
    main()
