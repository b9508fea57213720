"""The HTML report at universe scale: its size, CPU time and peak memory.

    .venv/bin/python benchmarks/report_size.py [--tickers 5000] [--years 10] [--runs 3] [--against DIR]

It generates benchmarks/scale.py's warehouse (a random walk per ticker, with a tickers file
measuring each against one index) and derives marts.relative_performance from it with scale.py's
hand-written floor query, without the rest of a build. Then it writes the report from that
warehouse, each time in a process of its own, and prints one figure per line as
`<figure>: <value>`: report.html's bytes, the CPU seconds of the render alone and of the whole
process (user + sys), and the process's peak resident memory, each the median (the peak: the
largest) of --runs runs.

With --against DIR (another checkout, /work/main say), the report is written with DIR's code too,
interleaved run by run with this one's on the same warehouse, and the CPU ratio is printed. A
report whose charts draw every ticker grows with the universe, in bytes and in memory: against such
a checkout, try a small --tickers first.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

MART = """
create schema if not exists marts;
create or replace table marts.relative_performance as
select date, ticker, '{benchmark}' as benchmark, a as adj_close, b as benchmark_adj_close, rebased,
       benchmark_rebased, relative_strength, excess as excess_return_since_anchor, r21 as return_21d,
       r63 as return_63d, r126 as return_126d, r252 as return_252d, drawdown, beta as beta_60d, corr as corr_60d
from floor order by ticker, date;
drop table floor;
"""


def prepare(folder: Path, tickers: int, years: int) -> None:
    """scale.py's warehouse with marts.relative_performance in it, as a build would leave it."""
    import duckdb

    from benchmarks.scale import BENCHMARK, FLOOR, generate

    generate(folder, tickers, years)
    with duckdb.connect(str(folder / "data" / "warehouse.duckdb")) as con:
        con.execute(FLOOR)
        con.execute(MART.format(benchmark=BENCHMARK))


def render(folder: Path, code: Path) -> None:
    """The report written with `code`'s pipeline into `folder`; its bytes, the render's CPU seconds
    and the process's peak RSS as JSON."""
    sys.path.insert(0, str(code))
    from benchmarks.scale import settings_for
    from pipeline.build.report import write_report

    target = folder / "report.html"
    before = resource.getrusage(resource.RUSAGE_SELF)
    write_report(settings_for(folder), target)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(json.dumps({"bytes": target.stat().st_size, "cpu": cpu, "peak_bytes": after.ru_maxrss * 1024}))


def measure(folder: Path, code: Path) -> dict:
    """One render in a child process, with the child's whole CPU time (user + sys) added."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, __file__, "--phase", "render", "--dir", str(folder), "--code", str(code)],
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"report benchmark: the render with {code} failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_cpu"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    (folder / "report.html").unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=5000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout whose report to compare")
    parser.add_argument("--phase", choices=["prepare", "render"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "prepare":
        prepare(args.dir, args.tickers, args.years)
        return
    if args.phase == "render":
        render(args.dir, args.code)
        return
    codes = {"this checkout": HERE, **({f"{args.against}": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory(prefix="report-size-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        # In a child: a process forked from one that grew to gigabytes generating the data starts
        # with that peak resident memory, and the renders' peaks would read it.
        size = ["--tickers", str(args.tickers), "--years", str(args.years)]
        subprocess.run(
            [sys.executable, __file__, "--phase", "prepare", "--dir", tmp, *size],
            check=True,
            capture_output=True,
        )
        import duckdb

        with duckdb.connect(str(folder / "data" / "warehouse.duckdb"), read_only=True) as con:
            [[rows, tickers]] = con.execute(
                "select count(*), count(distinct ticker) from marts.relative_performance"
            ).fetchall()
        print(f"marts.relative_performance: {rows:,} rows, {tickers:,} tickers ({time.perf_counter() - start:.0f} s)")
        figures: dict[str, list[dict]] = {name: [] for name in codes}
        for _ in range(args.runs):
            for name, code in codes.items():  # interleaved, so a busy spell of the machine hits each alike
                figures[name].append(measure(folder, code))
    for name, runs in figures.items():
        print(f"report.html bytes, {name}: {statistics.median(f['bytes'] for f in runs):,.0f}")
        print(f"report render CPU (user + sys), {name}: {statistics.median(f['cpu'] for f in runs):.2f} s")
        print(f"report process CPU (user + sys), {name}: {statistics.median(f['process_cpu'] for f in runs):.2f} s")
        print(f"peak RSS report process, {name}: {max(f['peak_bytes'] for f in runs) / 2**20:,.0f} MiB")
    if args.against:
        for key, label in (("cpu", "render"), ("process_cpu", "process")):
            this, other = (statistics.median(f[key] for f in figures[name]) for name in codes)
            print(f"report {label} CPU, this checkout / {args.against}: {this / other:.3f}x")


if __name__ == "__main__":
    main()
