"""What `timeline.update` costs on a first run, and what it writes.

    .venv/bin/python benchmarks/timeline.py [--runs N] [--dump DIR] [--against TREE]

Each run is a child process that replays the bundled sample (as `thesis run --sample` does) and
then ../shared/realdata, each into a fresh data directory. The child counts the calls of
runner.build, scorecard.evaluate and runner.discover made inside timeline.update, and the metric
queries it runs, and times its CPU; the parent prints the medians and the whole child's CPU
time (RUSAGE_CHILDREN user+sys).
`--dump DIR` writes marts.thesis_timeline of both replays to DIR, ordered and with every value
in full (`repr`), so the dumps of two versions of the code compare with `diff`. `--against TREE`
also runs a checkout of another version (its own code, this interpreter), interleaved with this
one, A B A B, and prints the CPU ratio: `git archive main | tar -x -C /tmp/base` makes one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def child(dump: Path | None) -> None:
    """Runs inside the checkout under test; prints one JSON line per replay."""
    import duckdb

    from pipeline.build import scorecard, timeline
    from pipeline.daily import daily, replay_sources
    from pipeline.runtime.settings import SAMPLE_DIR, Settings
    from transforms import runner

    counts: dict[str, int] = {}
    inside = [False]

    def counted(module: object, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            if inside[0]:
                counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)

        setattr(module, name, wrapper)

    for module, name in [(runner, "build"), (runner, "discover"), (scorecard, "evaluate")]:
        counted(module, name)
    # A metric query: run_metric where the code has it, else score (one query per claim and week).
    counted(scorecard, "run_metric" if hasattr(scorecard, "run_metric") else "score")
    spent = [0.0]
    update = timeline.update

    def timed(*args: object, **kwargs: object) -> object:
        inside[0] = True
        before = resource.getrusage(resource.RUSAGE_SELF)
        try:
            return update(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            after = resource.getrusage(resource.RUSAGE_SELF)
            spent[0] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            inside[0] = False

    timeline.update = timed  # type: ignore[assignment]
    replays = {"sample": (SAMPLE_DIR, "sample"), "realdata": (HERE.parent / "shared" / "realdata", "replay")}
    for label, (folder, mode) in replays.items():
        counts.clear()
        spent[0] = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp) / "var")
            result = daily(settings, *replay_sources(folder, mode=mode))
            if dump is not None:
                with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
                    rows = con.execute(
                        "select * exclude (run_id) from marts.thesis_timeline order by claim_id, week"
                    ).fetchall()
                (dump / f"{label}.txt").write_text("".join(repr(row) + "\n" for row in rows))
        print(json.dumps({"replay": label, "cpu": spent[0], "rows": result.build.timeline_rows, **counts}))


def run(tree: Path, dump: Path | None) -> tuple[list[dict], float]:
    """One child on `tree`'s code: its JSON lines, and its CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [sys.executable, str(HERE / "benchmarks" / "timeline.py"), "--child"]
    if dump is not None:
        argv += ["--dump", str(dump)]
    done = subprocess.run(
        argv, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(done.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--against", type=Path, help="another checkout, run interleaved with this one")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.dump)
        return
    trees = {"this": HERE} | ({"against": args.against.resolve()} if args.against else {})
    if args.dump:
        for label in trees:
            (args.dump / label).mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict[str, list[float]]] = {label: {} for label in trees}
    started = time.perf_counter()
    for attempt in range(args.runs):
        for label, tree in trees.items():
            lines, cpu = run(tree, args.dump / label if args.dump and attempt == 0 else None)
            figures[label].setdefault("whole child", []).append(cpu)
            for line in lines:
                figures[label].setdefault(f"{line['replay']} timeline.update", []).append(line["cpu"])
                if attempt == 0:
                    calls = {k: line.get(k, 0) for k in ("build", "evaluate", "discover", "run_metric", "score")}
                    print(
                        f"{label}: {line['replay']}: {line['rows']} rows; inside timeline.update "
                        f"runner.build {calls['build']}, scorecard.evaluate {calls['evaluate']}, "
                        f"runner.discover {calls['discover']} calls, "
                        f"{calls['run_metric'] + calls['score']} metric queries"
                    )
    for label, measured in figures.items():
        for what, values in measured.items():
            print(f"{label}: {what}: {statistics.median(values):.3f} s CPU (median of {len(values)})")
    if args.against:
        for what in figures["this"]:
            ratio = statistics.median(figures["this"][what]) / statistics.median(figures["against"][what])
            print(f"this / against, {what}: {ratio:.3f}x CPU")
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
