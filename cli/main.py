"""The `thesis` command line.

Every command checks its flags, settings and paths first (pipeline/preflight.py), before any
warehouse, raw zone or orchestrator is touched, and answers a failure with one line on stderr.
Then it runs the core directly, or, where a Prefect API is configured (PREFECT_API_URL), through
the flows so that the run shows in Prefect's UI.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flows
from cli import logs
from pipeline import preflight
from pipeline.errors import PipelineError, storage_problem
from pipeline.settings import SAMPLE_DIR, Settings, load_settings
from pipeline.summary import failed_line
from warehouse.connection import WarehouseBroken, WarehouseBusy
from warehouse.migrate import NewerWarehouseError

SAMPLE = "sample"  # the bundled sample replays into DATA_DIR/sample, apart from real data
# The exit status of a run that loaded and built without some items (a ticker, an SEC company, a
# bulk member), each named; the rest loaded (argparse's usage error is 2).
PARTIAL = 3


@dataclass(frozen=True)
class Partial:
    """What a command prints when some items failed and the rest loaded: then it exits PARTIAL."""

    text: str
    failed: Mapping[str, str]


def flag(group: argparse._ArgumentGroup, name: str) -> None:
    helps = {
        "data-dir": "where the raw zone, warehouse and exports live (default ./var, THESIS_DATA_DIR)",
        "tickers": "comma-separated tickers measured against the benchmark (default NVDA,ORCL)",
        "tickers-file": "a CSV of tickers, `ticker,benchmark` (benchmark optional): replaces --tickers",
        "benchmark": "the benchmark ticker (default ^SOX)",
        "anchor-date": "where rebased series are 100, YYYY-MM-DD (default 2025-08-01)",
        "as-of": "build as of this date, YYYY-MM-DD: no row dated later is seen (default: all the data)",
        "task-runner": "where fetching and parsing fan out: threads, or dask (a local cluster of "
        "THESIS_DASK_WORKERS processes, or --dask-address); default threads, THESIS_TASK_RUNNER",
        "dask-address": "the scheduler of a running Dask cluster, e.g. tcp://10.0.0.5:8786 (THESIS_DASK_ADDRESS)",
    }
    if name == "full":
        group.add_argument(
            "--full", dest="full_build", action="store_true", default=None, help="rebuild every mart from scratch"
        )
        return
    group.add_argument(f"--{name}", help=helps[name], type=Path if name in ("data-dir", "tickers-file") else str)


def common(*names: str) -> argparse.ArgumentParser:
    """The flags a command honours: each one it accepts means something to it."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (override THESIS_* environment variables)")
    for name in names:
        flag(group, name)
    parent.add_argument(
        "-v", "--verbose", action="store_true", help="show progress and, on failure, the traceback on the terminal"
    )
    return parent


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="thesis",
        description="The thesis pipeline: prices, SEC filings and capex "
        "guidance into DuckDB, validated, transformed and published.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = top.add_subparsers(dest="command", required=True)
    building = (
        "data-dir",
        "tickers",
        "tickers-file",
        "benchmark",
        "anchor-date",
        "as-of",
        "full",
        "task-runner",
        "dask-address",
    )

    run = commands.add_parser(
        "run",
        parents=[common(*building)],
        help="fetch (or replay), load, validate, build, publish",
        description="Fetch live from Yahoo Finance and SEC EDGAR (set THESIS_SEC_USER_AGENT "
        "to 'Name email'), or replay a folder, then load, validate, transform "
        "and publish.",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        metavar="DIR",
        help="replay DIR/prices/* (a raw zone, or yfinance CSV exports) and DIR/sec/{companyfacts,"
        "submissions}/*.json without network",
    )
    where.add_argument(
        "--sample", action="store_true", help="replay the bundled sample into DATA_DIR/sample, without network"
    )
    run.add_argument(
        "--sec-bulk",
        action="store_true",
        default=None,  # unset: THESIS_SEC_BULK decides
        help="every SEC filer from SEC's nightly companyfacts.zip and submissions.zip (replayed: DIR/sec/bulk/) "
        "instead of the company list's filings (THESIS_SEC_BULK)",
    )

    imp = commands.add_parser(
        "import-prices",
        parents=[common("data-dir", "tickers", "tickers-file", "benchmark")],
        help="load yfinance CSV exports",
        description="Copy yfinance CSV exports into the raw zone, validate and load them. "
        "Run `thesis build` afterwards.",
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--ticker", help="the ticker, where neither the file's contents nor its name say")

    commands.add_parser(
        "build",
        parents=[common(*building)],
        help="load the seeds, transform, validate and publish",
        description="Load the seeds, build staging and marts from what is loaded, validate, score "
        "the claims and publish.",
    )
    rebuild = commands.add_parser(
        "rebuild",
        parents=[
            common("data-dir", "tickers", "tickers-file", "benchmark", "anchor-date", "task-runner", "dask-address")
        ],
        help="a new warehouse from the data directory's raw zone",
        description="Move DATA_DIR/warehouse.duckdb aside (to warehouse.duckdb.before-rebuild-<time>, with its run "
        "history), replay DATA_DIR/raw (prices/, sec/, and sec/bulk/ in bulk mode; never _quarantine/) into a new "
        "one without network, build and publish: the fix for a damaged warehouse file.",
    )
    rebuild.add_argument(
        "--sec-bulk",
        action="store_true",
        default=None,  # unset: THESIS_SEC_BULK decides
        help="replay DATA_DIR/raw/sec/bulk/ instead of the company list's payloads (THESIS_SEC_BULK)",
    )
    rebuild.set_defaults(sample=False)
    for name, text in (
        ("report", "write the HTML report again from what is built, as it was built"),
        ("status", "last runs, rows and latest dates"),
    ):
        command = commands.add_parser(
            name,
            parents=[common("data-dir")],
            help=text,
            description=text[0].upper() + text[1:] + ". Without --data-dir: the data directory a run wrote last, "
            "./var or the sample's ./var/sample.",
        )
        command.add_argument("--sample", action="store_true", help="the sample's data (DATA_DIR/sample)")
    serve = commands.add_parser(
        "serve",
        parents=[common("data-dir", "tickers", "tickers-file", "benchmark", "anchor-date")],
        help="serve the daily flow on the schedule in prefect.yaml",
        description="Serve the `daily` flow on the cron schedule declared in prefect.yaml, with the flags as the "
        "deployment's default parameters. Uses the Prefect server in PREFECT_API_URL, or starts a "
        "temporary one.",
    )
    serve.add_argument("--from", dest="from_dir", type=Path, metavar="DIR", help="replay DIR on every scheduled run")
    return top


def version() -> str:
    try:
        return importlib.metadata.version("thesis-pipeline")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def settings_from(args: argparse.Namespace) -> Settings:
    names = (
        "data_dir",
        "tickers",
        "tickers_file",
        "benchmark",
        "anchor_date",
        "as_of",
        "full_build",
        "task_runner",
        "dask_address",
        "sec_bulk",
    )
    given = {name: getattr(args, name, None) for name in names}
    settings = load_settings(**given)
    if getattr(args, "sample", False) and args.command == "run":
        settings = settings.replace(data_dir=settings.data_dir / SAMPLE)
    return settings


def entry() -> None:
    """The `thesis` command: main(), then an exit that adds nothing to the terminal but under --verbose."""
    code = main()
    if not {"-v", "--verbose"} & set(sys.argv[1:]):
        logs.quiet_exit()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log_file: Path | None = None
    try:
        settings = settings_from(args)
        command = COMMANDS[args.command]
        prepare, act = command
        replay = prepare(args, settings)
        log_file = logs.start(settings, args.verbose) if args.command in WRITING else None
        if not args.verbose:
            flows.quiet_terminal()
        done = act(args, settings, replay)
        if isinstance(done, Partial):
            print(done.text)
            print(failed_line(done.failed), file=sys.stderr)
            return PARTIAL
        print(done)
    except (PipelineError, NewerWarehouseError, WarehouseBusy, WarehouseBroken) as exc:
        return fail(str(exc), exc, args.verbose, log_file)
    except KeyboardInterrupt as exc:
        return fail("interrupted", exc, args.verbose, log_file)
    # A disk's refusal says what to do; anything else was not foreseen: named, with where to look.
    except Exception as exc:
        return fail(storage_problem(exc) or unexpected(exc, log_file), exc, args.verbose, log_file)
    return 0


def unexpected(exc: BaseException, log_file: Path | None) -> str:
    where = f"; the traceback is in {log_file}" if log_file else ""
    return f"unexpected {type(exc).__name__}: {exc}{where}"


def fail(message: str, exc: BaseException, verbose: bool, log_file: Path | None) -> int:
    if log_file is not None:
        logs.failure(exc)  # to the log file, and to the terminal under --verbose
    elif verbose:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"thesis: error: {' '.join(message.split())}", file=sys.stderr)
    # The traceback's frames hold open DuckDB handles; left to interpreter exit, their bindings
    # report them as leaks on stderr, after the one line that matters.
    traceback.clear_frames(exc.__traceback__)
    return 1


# Each command: a check made before anything is written (returns the folder to replay, if any),
# then the work.
def prepare_run(args: argparse.Namespace, settings: Settings) -> Path | None:
    replay = SAMPLE_DIR if args.sample else args.from_dir
    preflight.run(settings, replay)
    return replay


def prepare_import(args: argparse.Namespace, settings: Settings) -> None:
    preflight.writable_data_dir(settings)
    preflight.imported_files(args.files)


def prepare_build(args: argparse.Namespace, settings: Settings) -> None:
    preflight.writable_data_dir(settings)


def prepare_rebuild(args: argparse.Namespace, settings: Settings) -> Path:
    from pipeline.rebuild import raw_zone

    preflight.writable_data_dir(settings)
    raw = raw_zone(settings)
    preflight.replay_folder(settings, raw)
    return raw


def prepare_reading(args: argparse.Namespace, settings: Settings) -> None:
    return None


def run(args: argparse.Namespace, settings: Settings, replay: Path | None) -> str | Partial:
    from pipeline import summary

    if orchestrated(settings):
        from flows.daily import daily as daily_flow

        with prefect_api(settings):
            result = daily_flow(
                replay_from=str(replay) if replay else None,
                **universe_parameters(settings),
                anchor_date=settings.anchor_date,
                as_of=settings.as_of,
                sec_bulk=settings.sec_bulk,
                **runner_parameters(settings),
            )
    else:
        from pipeline.daily import daily, sources

        result = daily(settings, *sources(settings, replay))
    text = summary.run_summary(settings, result.run_id, sample=args.sample)
    return Partial(text, result.failed) if result.failed else text


def rebuild(args: argparse.Namespace, settings: Settings, raw: Path) -> str | Partial:
    """The old warehouse aside, then `thesis run --from DATA_DIR/raw`."""
    from pipeline.rebuild import set_aside

    moved = set_aside(settings)
    done = run(args, settings, raw)
    aside = f"The previous warehouse (with its run history) is now {', '.join(map(str, moved))}.\n" if moved else ""
    return Partial(aside + done.text, done.failed) if isinstance(done, Partial) else aside + done


def import_prices(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    if orchestrated(settings):
        from flows.ingest import ingest_prices as ingest_flow

        with prefect_api(settings):
            result = ingest_flow(
                **universe_parameters(settings),
                import_files=[str(f) for f in args.files],
                ticker=args.ticker,
                task_runner=settings.task_runner,
                dask_address=settings.dask_address,
            )
    else:
        from pipeline.ingest_prices import ingest_prices
        from pipeline.sources.prices import ImportedPrices

        result = ingest_prices(settings, ImportedPrices(args.files, args.ticker))
    return f"Loaded {result.rows} bars for {', '.join(result.tickers)}. Run `thesis build` to publish."


def build(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from pipeline import summary

    if orchestrated(settings):
        from flows.build import build as build_flow

        with prefect_api(settings):
            result = build_flow(
                **universe_parameters(settings),
                anchor_date=settings.anchor_date,
                as_of=settings.as_of,
                **runner_parameters(settings),
            )
    else:
        from pipeline.build import build as build_core

        result = build_core(settings)
    return summary.run_summary(settings, result.run_id, sample=False)


def report(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from pipeline import run_lock, summary
    from pipeline.report import write_report

    found = summary.locate(settings, args.sample, explicit="data_dir" in settings.model_fields_set)
    if not found.current_dir.is_symlink():
        raise PipelineError(f"nothing is published in {found.publish_dir} yet: run `thesis build` first")
    # It writes into the published version: not while a run publishes another.
    with run_lock.held(found, "report"):
        path = write_report(summary.as_built(found))
    return f"Report: {path} ({path.stat().st_size:,} bytes)"


def status(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from pipeline import summary

    return summary.status(summary.locate(settings, args.sample, explicit="data_dir" in settings.model_fields_set))


def serve(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from flows.serve import serve_daily

    parameters = {
        "data_dir": str(settings.data_dir),
        "tickers": list(settings.tickers),
        "benchmark": settings.benchmark,
        "anchor_date": settings.anchor_date.isoformat(),
    }
    if settings.tickers_file:
        parameters["tickers_file"] = str(settings.tickers_file.resolve())
    if args.from_dir:
        preflight.replay_folder(settings, args.from_dir)
        parameters["replay_from"] = str(args.from_dir.resolve())
    serve_daily(parameters)
    return "stopped serving"


def orchestrated(settings: Settings) -> bool:
    """Whether runs go through the flows: where a Prefect API is configured (environment or
    profile), or the work fans out on Dask, which Prefect drives."""
    from flows.server import configured_api_url

    return configured_api_url() is not None or settings.task_runner == "dask"


def universe_parameters(settings: Settings) -> dict[str, Any]:
    """The flows' parameters for where the data lies and which tickers it measures against what."""
    return {
        "data_dir": str(settings.data_dir),
        "tickers": list(settings.tickers),
        "tickers_file": str(settings.tickers_file) if settings.tickers_file else None,
        "benchmark": settings.benchmark,
    }


def runner_parameters(settings: Settings) -> dict[str, Any]:
    return {
        "full_build": settings.full_build,
        "task_runner": settings.task_runner,
        "dask_address": settings.dask_address,
    }


@contextmanager
def prefect_api(settings: Settings) -> Iterator[None]:
    """The configured Prefect API, or, for a Dask run without one, a temporary server whose
    database lies under the data directory (DATA_DIR/prefect), stopped after the run."""
    from flows.server import configured_api_url, temporary_server

    if configured_api_url() is not None:
        yield
        return
    with temporary_server(settings.data_dir.resolve() / "prefect"):
        yield


WRITING = {"run", "rebuild", "import-prices", "build", "serve"}  # these keep a log under the data directory
Command = tuple[Callable[[argparse.Namespace, Settings], Path | None], Callable[..., str | Partial]]
COMMANDS: dict[str, Command] = {
    "run": (prepare_run, run),
    "import-prices": (prepare_import, import_prices),
    "build": (prepare_build, build),
    "rebuild": (prepare_rebuild, rebuild),
    "report": (prepare_reading, report),
    "status": (prepare_reading, status),
    "serve": (prepare_build, serve),
}


if __name__ == "__main__":
    entry()
