"""A second replay of the same folder (nothing new) against the first: CPU and bytes written.

    .venv/bin/python benchmarks/replay.py [--pairs 3] [--folder PATH ...] [--scratch DIR]

For each folder (the bundled sample, and ../shared/realdata where it is there), each pair starts
from a fresh data directory: `thesis run --from <folder>` (the first replay: loads, builds and
publishes), then the same command again (the second: nothing new). The pairs run one after the
other, so the first and second runs interleave (A B A B ...). Each run is a child process; its
CPU is the children's user + sys time (RUSAGE_CHILDREN) it adds. Printed, one figure per line as
`<figure>: <value>`:

- each run's CPU (median over the pairs) and the second's ratio to the first;
- the second run's write_bytes (/proc/<pid>/io: what it sent to storage, page cache included);
- the bytes the second run appended to logs/thesis.log;
- the other files under the data directory the second run created or changed (a new inode, size
  or mtime), with their sizes summed: all of them, and those under published/.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
SAMPLE = ROOT / "sample"
LOG = Path("logs/thesis.log")  # appended to, never rewritten: counted apart

# The CLI in a child that reports its own I/O counters as it exits.
CHILD = """
import atexit, sys
report, *argv = sys.argv[1:]
atexit.register(lambda: open(report, "w").write(open("/proc/self/io").read()))
sys.argv = ["thesis", *argv]
from cli.main import entry
entry()
"""


def files(folder: Path) -> dict[Path, tuple[int, int, int]]:
    """Every file under `folder`: (inode, size, mtime in ns), by path."""
    return {p: (s.st_ino, s.st_size, s.st_mtime_ns) for p in folder.rglob("*") if p.is_file() and (s := p.stat())}


def run(folder: Path, data_dir: Path) -> tuple[float, int]:
    """`thesis run --from folder` in a child: its CPU seconds and its write_bytes."""
    report = data_dir.parent / "io.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(report), "run", "--from", str(folder), "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"thesis run --from {folder} failed: {done.stderr.strip() or done.stdout[-2000:]}")
    io = dict(line.split(": ") for line in report.read_text().splitlines())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, int(io["write_bytes"])


def changed(before: dict[Path, tuple[int, int, int]], after: dict[Path, tuple[int, int, int]]) -> dict[Path, int]:
    """The files created or changed between two listings, with their sizes."""
    return {path: stat[1] for path, stat in after.items() if before.get(path) != stat}


def pair(folder: Path, scratch: Path) -> tuple[float, float, int, dict[Path, int], int, Path]:
    """A first and a second replay of `folder` into a fresh data directory: their CPU, the second's
    write_bytes, the files it created or changed but the log (with their sizes), and the bytes it
    appended to the log."""
    work = Path(tempfile.mkdtemp(prefix="replay-", dir=scratch))
    data_dir = work / "var"
    first, _ = run(folder, data_dir)
    before = files(data_dir)
    second, written = run(folder, data_dir)
    after = files(data_dir)
    rewritten = {p.relative_to(data_dir): size for p, size in changed(before, after).items() if p != data_dir / LOG}
    appended = after[data_dir / LOG][1] - before[data_dir / LOG][1]
    return first, second, written, rewritten, appended, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--folder", type=Path, action="append", help="default: the sample and ../shared/realdata")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    folders = args.folder or [SAMPLE, *([REALDATA] if REALDATA.is_dir() else [])]
    for folder in folders:
        firsts, seconds, writes = [], [], []
        for _ in range(args.pairs):
            first, second, written, rewritten, appended, work = pair(folder, args.scratch)
            firsts.append(first)
            seconds.append(second)
            writes.append(written)
            shutil.rmtree(work)
        name = folder.name
        print(f"{name} first replay CPU (median of {args.pairs}): {statistics.median(firsts):.2f} s")
        print(f"{name} second replay CPU (median of {args.pairs}): {statistics.median(seconds):.2f} s")
        print(f"{name} second / first CPU: {statistics.median(seconds) / statistics.median(firsts):.3f}x")
        print(f"{name} second replay write_bytes (median): {statistics.median(writes):,.0f} bytes")
        published = {p: s for p, s in rewritten.items() if p.parts[:1] == ("published",)}
        total = sum(rewritten.values())
        print(f"{name} second replay log lines appended (last pair): {appended:,} bytes to {LOG}")
        print(f"{name} second replay other files created or changed (last pair): {len(rewritten)}, {total:,} bytes")
        for path, size in sorted(rewritten.items()):
            print(f"  {path}: {size:,} bytes")
        total = sum(published.values())
        print(f"{name} second replay published files created or changed: {len(published)}, {total:,} bytes")


if __name__ == "__main__":
    main()
