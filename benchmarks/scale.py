"""Universe-scale figures: 5,000 tickers x 10 years of bars, built in full and by one new session.

    .venv/bin/python benchmarks/scale.py [--tickers 5000] [--years 10] [--runs 3] [--companies 500]
                                         [--skip-prices] [--skip-bulk]

It generates the bars straight into raw.prices with DuckDB (a random walk per ticker, every bar
valid), with a tickers file measuring each against one index, builds them once through the CLI,
then loads one new session for every ticker. On copies of that warehouse, run after run with the
four steps interleaved (A B C D A B C D, so a busy spell of the machine hits each alike), each its
own process timed whole:

- `thesis build`: the daily increment, deriving only the rows the new bars reach, then validating,
  exporting, publishing, the report and the timeline, as the CLI does;
- `thesis build --full`: the same, every mart derived from scratch; the mart it leaves is checked
  equal, bit for bit, to the one `thesis build` leaves;
- the append floor: one hand-written query inserting only the new session's rows into
  marts.relative_performance, from the mart's own earlier rows; the mart it leaves is checked equal,
  bit for bit, to the one `thesis build` leaves;
- the full floor: one hand-written query with the mart's window functions, creating a table from
  raw.prices.

Each figure is the median over --runs of the CPU time (user + system) of the whole process and what
it waited for, as RUSAGE_CHILDREN counts it (os.wait4), and each peak the largest resident set.
Then the bulk SEC parse of a synthetic companyfacts.zip and submissions.zip of --companies
companies (the real payloads in ../shared/realdata, CIKs rewritten) on a local Dask cluster of 1, 2
and 4 worker processes, each member a Prefect task run, and the single writer's load of what they
staged into raw.xbrl_facts, each the median of --runs parses; the bulk parse talks to a temporary
Prefect server started for the benchmark.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
from floor_sql import FROM_DERIVED, SUMS_OVER_60, anchored, units

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
BENCHMARK = "^SYN"
ANCHOR = "2020-01-02"
FLOOR = f"""
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
),
derived as (
    select ticker, date, a, b, 100 * a / a0 as rebased, 100 * b / b0 as benchmark_rebased,
        100 * (a / a0) / (b / b0) as relative_strength, a / a0 - b / b0 as excess,
        a / lag(a, 21) over w - 1 as r21, a / lag(a, 63) over w - 1 as r63,
        a / lag(a, 126) over w - 1 as r126, a / lag(a, 252) over w - 1 as r252,
        a / max(a) over (w rows between unbounded preceding and current row) - 1 as drawdown,
        {SUMS_OVER_60}
    from (select *, {units("ra", "rb")} from returns)
    window w as (partition by ticker order by date)
)
{FROM_DERIVED}
"""
APPEND = f"""
insert into marts.relative_performance by name
with
day as (select max(date) as d from raw.prices where ticker = '^SYN'),
-- Every ticker trades every session of the index: its last 252 rows before the new day.
start as (
    select date from (
        select date, row_number() over (order by date desc) as back
        from raw.prices where ticker = '^SYN' and date < (select d from day)
    )
    where back = 252
),
kept as (
    select date, ticker, benchmark, adj_close, benchmark_adj_close from marts.relative_performance
    where date >= (select date from start)
),
anchor as (
    select ticker, adj_close as a0, benchmark_adj_close as b0 from marts.relative_performance
    where date = (select min(date) from raw.prices where ticker = '^SYN' and date >= date '2020-01-02')
),
peak as (select ticker, max(adj_close) as peak from marts.relative_performance group by ticker),
new as (
    select p.date, p.ticker, '^SYN' as benchmark, p.adj_close, b.adj_close as benchmark_adj_close
    from raw.prices as p join raw.prices as b on b.ticker = '^SYN' and b.date = p.date
    where p.date = (select d from day) and p.ticker <> '^SYN'
),
returns as (
    select *, adj_close / lag(adj_close) over w - 1 as ra,
        benchmark_adj_close / lag(benchmark_adj_close) over w - 1 as rb
    from (from kept union all from new) window w as (partition by ticker order by date)
),
derived as (
    select date, ticker, benchmark, adj_close, benchmark_adj_close, {anchored("a0", "b0", "w")},
        adj_close / greatest(peak, adj_close) - 1 as drawdown,
        {SUMS_OVER_60}
    from (select *, {units("ra", "rb")} from returns) join anchor using (ticker) join peak using (ticker)
    window w as (partition by ticker order by date)
    qualify date = (select d from day)
)
{FROM_DERIVED}
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


def floor(folder: Path) -> None:
    with duckdb.connect(str(folder / "data" / "warehouse.duckdb")) as con:
        con.execute(FLOOR)


def append_floor(folder: Path) -> None:
    with duckdb.connect(str(folder / "data" / "warehouse.duckdb")) as con:
        con.execute(APPEND)


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

    from benchmarks.bulk_sec import parse_seconds
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


def phase(args: argparse.Namespace) -> None:
    """One step in a process of its own: a floor, timed as the CLI's are; or a step that reads the
    generated warehouse, kept out of this process because a child's peak resident set counts the
    parent's at the fork."""
    folder = args.dir
    if args.phase == "generate":
        generate(folder, args.tickers, args.years)
    elif args.phase == "session":
        add_session(folder)
    elif args.phase == "compare":
        print(json.dumps({"rows": same_mart(folder, args.other)}))
    else:
        {"floor": floor, "append": append_floor}[args.phase](folder)


def timed(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Runs `command` to its end; its CPU seconds (user + system, with what it waited for) and peak
    resident set, from the kernel's accounting of the child (what RUSAGE_CHILDREN adds up)."""
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            out.seek(0)
            sys.exit(f"scale benchmark: {' '.join(command)} failed:\n{out.read().decode()[-3000:]}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "peak_bytes": usage.ru_maxrss * 1024}


def thesis(folder: Path, *flags: str) -> dict:
    """`thesis build` on the generated warehouse in `folder`, run locally (no Prefect server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THESIS_", "PREFECT_API_URL"))}
    env |= {
        "THESIS_DATA_DIR": str(folder / "data"),
        "THESIS_TICKERS_FILE": str(folder / "tickers.csv"),
        "THESIS_BENCHMARK": BENCHMARK,
        "THESIS_ANCHOR_DATE": ANCHOR,
    }
    return timed([str(Path(sys.executable).with_name("thesis")), "build", *flags], env)


def floor_step(name: str, folder: Path) -> dict:
    return timed([sys.executable, __file__, "--phase", name, "--dir", str(folder)])


def measure(name: str, folder: Path, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--dir", str(folder), *extra], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"scale benchmark: the {name} step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


def same_mart(left: Path, right: Path) -> int:
    """The rows of marts.relative_performance, checked equal in both warehouses both ways, bit for bit."""
    with duckdb.connect(str(left / "data" / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"attach '{right / 'data' / 'warehouse.duckdb'}' as other (read_only)")
        mart = "marts.relative_performance"
        for a, b in ((mart, f"other.{mart}"), (f"other.{mart}", mart)):
            [[extra]] = con.execute(f"select count(*) from (from {a} except all from {b})").fetchall()
            if extra:
                sys.exit(f"scale benchmark: {extra} row(s) of {a} differ from {b}")
        [[rows]] = con.execute(f"select count(*) from {mart}").fetchall()
    return rows


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
    parser.add_argument("--skip-bulk", action="store_true", help="only the relative_performance figures")
    parser.add_argument(
        "--phase", choices=["generate", "session", "compare", "floor", "append", "bulk"], help=argparse.SUPPRESS
    )
    parser.add_argument("--other", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "bulk":
        bulk_parse(args.dir, args.workers)
        return
    if args.phase:
        phase(args)
        return
    if not args.skip_prices:
        prices(args)
    if not args.skip_bulk:
        bulk(args)


def bulk(args: argparse.Namespace) -> None:
    """The bulk SEC figures: parse on 1, 2 and 4 workers, then the load of what one of them staged."""
    from benchmarks.bulk_sec import load_in_child
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
    """The relative_performance figures: the increment against the full build and the append
    floor, the full build against the full floor, and the peaks."""
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        measure("generate", base, "--tickers", str(args.tickers), "--years", str(args.years))
        with duckdb.connect(str(base / "data" / "warehouse.duckdb"), read_only=True) as con:
            [[rows]] = con.execute("select count(*) from raw.prices").fetchall()
        print(f"bars in raw.prices: {rows:,} ({args.tickers:,} tickers x {args.years} years)")
        thesis(base)  # the first build, untimed: what the night before left
        measure("session", base)  # loading is the ingest's cost, not the build's
        steps = {
            "increment": lambda work: thesis(work),
            "full": lambda work: thesis(work, "--full"),
            "append floor": lambda work: floor_step("append", work),
            "full floor": lambda work: floor_step("floor", work),
        }
        figures: dict[str, list[dict]] = {name: [] for name in steps}
        for run in range(args.runs):
            for name, step in steps.items():
                work = Path(tmp) / name.replace(" ", "-")
                # symlinks=True: published/current stays a link, so each step publishes after a
                # current version as the night's run does (followed, it is a folder and no version).
                shutil.copytree(base, work, symlinks=True)
                figures[name].append(step(work))
                if name in ("full", "append floor"):
                    compared = measure("compare", work, "--other", str(Path(tmp) / "increment"))["rows"]
                    if run == 0:
                        print(f"{name} and increment leave the same mart: {compared:,} rows, bit for bit")
                if name != "increment":
                    shutil.rmtree(work)
            shutil.rmtree(Path(tmp) / "increment")

    def median(name: str) -> float:
        return statistics.median(f["cpu"] for f in figures[name])

    rows_ = (
        ("daily increment, thesis build", "thesis build --full", "increment", "full"),
        ("daily increment, thesis build", "hand-written append", "increment", "append floor"),
        ("full build, thesis build --full", "hand-written full query", "full", "full floor"),
    )
    print(f"CPU seconds, median of {args.runs} interleaved runs (user + system, whole processes):")
    for work, against, a, b in rows_:
        print(f"{work} vs {against}: {median(a):.1f} s / {median(b):.1f} s = {median(a) / median(b):.3f}x")
    for name in steps:
        print(f"peak RSS {name}: {gib(max(f['peak_bytes'] for f in figures[name]))}")


if __name__ == "__main__":
    main()
