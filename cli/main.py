"""The `thesis` command line.

Every command checks its flags, settings and paths first (pipeline/preflight.py), before any
warehouse, raw zone or orchestrator is touched, and answers a failure with one line on stderr.
Then it runs the core directly, or, where a Prefect API is configured (PREFECT_API_URL), through
the flows so that the run shows in Prefect's UI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import flows
from pipeline.runtime.errors import PipelineError, SettingsError, storage_problem
from pipeline.runtime.run_status import failed_line

# Each command imports what it uses when it runs: `thesis --version` imports none of it, and a
# run that is not orchestrated never imports Prefect.
if TYPE_CHECKING:
    from pipeline.runtime.run_parameters import RunParameters
    from pipeline.runtime.settings import Settings
    from pipeline.runtime.steps import Steps

SAMPLE = "sample"  # the bundled sample replays into DATA_DIR/sample, apart from real data
# The exit status of a run that loaded and built without some items (a ticker, an SEC company, a
# bulk member), each named; the rest loaded (argparse's usage error is 2).
PARTIAL = 3
R = TypeVar("R")


@dataclass(frozen=True)
class Partial:
    """What a command prints when some items failed and the rest loaded: then it exits PARTIAL."""

    text: str
    failed: Mapping[str, str]


def add_flags(
    command: argparse.ArgumentParser,
    name: str,
    model: type[RunParameters],
    into: dict[str, argparse._MutuallyExclusiveGroup] | None = None,
) -> None:
    """The flags of command `name`: each run parameter of `model` that it takes (`into`: a group a
    parameter's flag joins), and -v."""
    from pipeline.runtime.run_parameters import exposed

    group = command.add_argument_group("settings (override THESIS_* environment variables)")
    for parameter, (info, where) in exposed(model).items():
        if name not in where.commands:
            continue
        flag = where.flag or f"--{parameter.replace('_', '-')}"
        target: argparse._ActionsContainer = (into or {}).get(parameter, group)
        options: dict[str, Any] = {"help": info.description}
        if not flag.startswith("-"):  # positional: its name is already the parameter's
            target = command
            options["nargs"] = "+" if where.many else None
        else:
            options["dest"] = parameter
        if info.annotation == bool | None:
            options.update(action="store_true", default=None)  # unset: the setting decides
        else:
            options.update(type=Path if where.path else str, metavar=where.metavar)
        target.add_argument(flag, **options)
    command.add_argument(
        "-v", "--verbose", action="store_true", help="show the log and, on failure, the traceback on the terminal"
    )


def parser(model: type[RunParameters] | None = None) -> argparse.ArgumentParser:
    """The command line; `model`: the run parameters its flags come from (RunParameters)."""
    model = model or run_parameters()
    top = argparse.ArgumentParser(
        prog="thesis",
        description="The thesis pipeline: prices, SEC filings and capex "
        "guidance into DuckDB, validated, transformed and published.",
    )
    top.add_argument("--version", action="version", version=version_line())
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="fetch (or replay), load, validate, build, publish",
        description="Fetch live from Yahoo Finance and SEC EDGAR (set THESIS_SEC_USER_AGENT "
        "to 'Name email'), or replay a folder, then load, validate, transform "
        "and publish.",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--sample", action="store_true", help="replay the bundled sample into DATA_DIR/sample, without network"
    )
    add_flags(run, "run", model, into={"replay_from": where})

    imp = commands.add_parser(
        "import-prices",
        help="load yfinance CSV exports",
        description="Copy yfinance CSV exports into the raw zone, validate and load them. "
        "Run `thesis build` afterwards.",
    )
    add_flags(imp, "import-prices", model)

    build = commands.add_parser(
        "build",
        help="load the seeds, transform, validate and publish",
        description="Load the seeds, build staging and marts from what is loaded, validate, score "
        "the claims and publish.",
    )
    add_flags(build, "build", model)
    rebuild = commands.add_parser(
        "rebuild",
        help="a new warehouse from the data directory's raw zone",
        description="Move DATA_DIR/warehouse.duckdb aside (to warehouse.duckdb.before-rebuild-<time>, with its run "
        "history), replay DATA_DIR/raw (prices/, sec/, and sec/bulk/ in bulk mode; never _quarantine/) into a new "
        "one without network, build and publish: the fix for a damaged warehouse file.",
    )
    add_flags(rebuild, "rebuild", model)
    rebuild.set_defaults(sample=False)
    for name, text in (
        ("report", "write the HTML report again from what is built, as it was built"),
        ("status", "last runs, rows and latest dates"),
    ):
        command = commands.add_parser(
            name,
            help=text,
            description=text[0].upper() + text[1:] + ". Without --data-dir: the data directory a run wrote last, "
            "./var or the sample's ./var/sample.",
        )
        add_flags(command, name, model)
        command.add_argument("--sample", action="store_true", help="the sample's data (DATA_DIR/sample)")
    serve = commands.add_parser(
        "serve",
        help="serve the daily flow on the schedule in prefect.yaml",
        description="Serve the `daily` flow on the cron schedule declared in prefect.yaml, with the flags as the "
        "deployment's default parameters (--from: replayed on every scheduled run). Uses the Prefect server in "
        "PREFECT_API_URL, or starts a temporary one.",
    )
    add_flags(serve, "serve", model)
    alerts = commands.add_parser(
        "alerts",
        help="notify when a run of the daily deployment fails, crashes or is late",
        description="Create or update, on the Prefect server in PREFECT_API_URL, the automations that notify "
        "when a run of the `daily` deployment fails or crashes (naming the run, the step that failed and why), "
        "and when one has not finished a while after it was due. Running it again updates them.",
    )
    to = alerts.add_mutually_exclusive_group(required=True)
    to.add_argument("--webhook", metavar="URL", help="post each message as JSON to this URL (a Custom Webhook block)")
    to.add_argument(
        "--block",
        metavar="TYPE/NAME",
        help="send through this saved notification block instead, e.g. slack-webhook/on-call (`prefect block ls`)",
    )
    alerts.add_argument(
        "--late-after",
        metavar="MINUTES",
        help="a run not finished this many minutes after it was due notifies (THESIS_ALERT_LATE_AFTER_MINUTES)",
    )
    alerts.add_argument("-v", "--verbose", action="store_true", help="on failure, the traceback on the terminal")
    return top


def run_parameters() -> type[RunParameters]:
    from pipeline.runtime.run_parameters import RunParameters

    return RunParameters


def version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("thesis-pipeline")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def version_line() -> str:
    return f"thesis {version()}"


def given(args: argparse.Namespace, model: type[RunParameters] | None = None) -> dict[str, Any]:
    """The run parameters given on the command line, by name."""
    values = {name: getattr(args, name, None) for name in (model or run_parameters()).model_fields}
    return {name: value for name, value in values.items() if value is not None}


def settings_from(args: argparse.Namespace, model: type[RunParameters] | None = None) -> Settings:
    from pipeline.runtime.run_parameters import settings_overrides
    from pipeline.runtime.settings import load_settings

    settings = load_settings(**settings_overrides(given(args, model)))
    if getattr(args, "sample", False) and args.command == "run":
        settings = settings.replace(data_dir=settings.data_dir / SAMPLE)
    return settings


def flow_parameters(values: Mapping[str, Any], model: type[RunParameters] | None = None) -> dict[str, Any]:
    """`values` (parameters by name, as the command line gives them) as a flow's JSON parameters;
    paths absolute, so a run means the same folders whatever directory it is started in."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value.resolve())
        return [plain(v) for v in value] if isinstance(value, list) else value

    checked = (model or run_parameters()).model_validate({k: plain(v) for k, v in values.items()})
    return checked.model_dump(mode="json", exclude_none=True)


def through_flow_or_core(
    args: argparse.Namespace, settings: Settings, flow: str, parameters: Mapping[str, Any], core: Callable[[Steps], R]
) -> R:
    """`core(steps)` in this process, each step shown as it runs (cli/progress.py), or, where runs
    are orchestrated, the flow `flow` (module:name) with those of `parameters` it takes, so that the
    run shows in Prefect's UI: its name and address printed first."""
    if not orchestrated(settings):
        from cli import progress

        with progress.shown(args.command, args.verbose) as steps:
            return core(steps)
    module, name = flow.split(":")
    chosen = getattr(importlib.import_module(module), name)
    takes = inspect.signature(chosen.fn).parameters
    with prefect_api(settings):
        announced = chosen.with_options(on_running=[*chosen.on_running_hooks, announce])
        return announced(**{k: v for k, v in flow_parameters(parameters).items() if k in takes})


def announce(flow: Any, flow_run: Any, state: Any) -> None:
    """The flow run's name and where the UI shows it, before it does anything: the run's log is there."""
    from prefect.utilities.urls import url_for

    print(f"Prefect flow run {flow_run.name}: {url_for(flow_run) or flow_run.id}", flush=True)


def entry() -> None:
    """The `thesis` command: main(), then an exit that adds nothing to the terminal but under --verbose."""
    code = main()
    if not {"-v", "--verbose"} & set(sys.argv[1:]):
        from cli import logs

        logs.quiet_exit()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        # Before the parser, which reads the run parameters' model: printed, and exited, as
        # argparse's version action does (the parser's still answers `--vers` and the like).
        print(version_line())
        sys.exit(0)
    from cli import logs  # first: it sends library warnings to the log

    args = parser().parse_args(argv)
    from warehouse.connection import WarehouseBroken, WarehouseBusy
    from warehouse.migrate import NewerWarehouseError

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
        from cli import logs

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
@dataclass(frozen=True)
class Stands:
    """A replay found nothing new before anything was read but its folder's bytes: why."""

    message: str


def prepare_run(args: argparse.Namespace, settings: Settings) -> Path | Stands | None:
    from pipeline import preflight
    from pipeline.runtime.settings import SAMPLE_DIR

    replay = SAMPLE_DIR if args.sample else args.replay_from
    preflight.writable_data_dir(settings)  # where the log goes, whatever the run finds
    if replay is not None and not orchestrated(settings):
        # The daily core asks the same; asked here, pandas and the pipeline are not even imported.
        from pipeline.build.standing import inputs_of, replayed_before

        if stands := replayed_before(settings, inputs_of(replay, settings.sec_bulk)):
            return Stands(stands)
    preflight.run(settings, replay)
    return replay


def prepare_import(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline import preflight

    preflight.writable_data_dir(settings)
    preflight.imported_files(args.import_files)


def prepare_build(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline import preflight

    preflight.writable_data_dir(settings)


def prepare_rebuild(args: argparse.Namespace, settings: Settings) -> Path:
    from pipeline import preflight
    from pipeline.rebuild import raw_zone

    preflight.writable_data_dir(settings)
    raw = raw_zone(settings)
    preflight.replay_folder(settings, raw)
    return raw


def prepare_reading(args: argparse.Namespace, settings: Settings) -> None:
    return None


def run(args: argparse.Namespace, settings: Settings, replay: Path | Stands | None) -> str | Partial:
    if isinstance(replay, Stands):
        from pipeline.build.standing import told

        return told(replay.message)
    from pipeline.build.summary import run_summary

    def core(steps: Steps) -> Any:
        from pipeline.daily import daily, sources

        return daily(settings, *sources(settings, replay), steps)

    # The folders the run uses: --sample's, or DATA_DIR/raw for `rebuild`.
    parameters = {**given(args), "data_dir": settings.data_dir, "replay_from": replay}
    result = through_flow_or_core(args, settings, "flows.daily:daily", parameters, core)
    if result.build is None:  # nothing new: no version to summarise, the current one stands
        return Partial(result.message, result.failed) if result.failed else result.message
    text = run_summary(settings, result.run_id, sample=args.sample)
    return Partial(text, result.failed) if result.failed else text


def rebuild(args: argparse.Namespace, settings: Settings, raw: Path) -> str | Partial:
    """The old warehouse aside, then `thesis run --from DATA_DIR/raw`."""
    from pipeline.rebuild import set_aside

    moved = set_aside(settings)
    done = run(args, settings, raw)
    aside = f"The previous warehouse (with its run history) is now {', '.join(map(str, moved))}.\n" if moved else ""
    return Partial(aside + done.text, done.failed) if isinstance(done, Partial) else aside + done


def import_prices(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    def core(steps: Steps) -> Any:
        from pipeline.ingest.prices import ingest_prices
        from pipeline.sources.prices import ImportedPrices

        return ingest_prices(settings, ImportedPrices(args.import_files, args.ticker), steps=steps)

    result = through_flow_or_core(args, settings, "flows.ingest:ingest_prices", given(args), core)
    return f"Loaded {result.rows} bars for {', '.join(result.tickers)}. Run `thesis build` to publish."


def build(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from pipeline.build.summary import run_summary

    def core(steps: Steps) -> Any:
        from pipeline.build.run import build as build_core

        return build_core(settings, steps=steps)

    result = through_flow_or_core(args, settings, "flows.build:build", given(args), core)
    return run_summary(settings, result.run_id, sample=False)


def report(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from cli import summary
    from pipeline.build.report import write_report
    from pipeline.runtime import run_lock

    found = summary.locate(settings, args.sample, explicit="data_dir" in settings.model_fields_set)
    if not found.paths.current.is_symlink():
        raise PipelineError(f"nothing is published in {found.paths.published} yet: run `thesis build` first")
    # It writes into the published version: not while a run publishes another.
    with run_lock.held(found, "report"):
        path = write_report(summary.as_built(found))
    return f"Report: {path} ({path.stat().st_size:,} bytes)"


def status(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from cli import summary

    return summary.status(summary.locate(settings, args.sample, explicit="data_dir" in settings.model_fields_set))


def serve(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from flows.serve import serve_daily
    from pipeline import preflight

    if args.replay_from:
        preflight.replay_folder(settings, args.replay_from)
    serve_daily(flow_parameters(given(args)))
    return "stopped serving"


def alerts(args: argparse.Namespace, settings: Settings, replay: None) -> str:
    from flows.alerts import WEBHOOK_BLOCK, registered, saved_block, set_up, webhook_block
    from flows.server import configured_api_url

    try:
        settings = settings.replace(alert_late_after_minutes=args.late_after)
    except SettingsError as exc:  # named as the command spells it
        raise SettingsError(str(exc).replace("--alert-late-after-minutes", "--late-after")) from None
    if configured_api_url() is None:
        raise SettingsError(
            "set PREFECT_API_URL to the Prefect server the `daily` deployment runs on (alerts live there)"
        )
    registered()  # before any block is made on a server that is not the deployment's
    if args.webhook:
        block, name = webhook_block(args.webhook), f"custom-webhook/{WEBHOOK_BLOCK}"
    else:
        block, name = saved_block(args.block), args.block
    return str(set_up(block, name, dt.timedelta(minutes=settings.alert_late_after_minutes)))


def orchestrated(settings: Settings) -> bool:
    """Whether runs go through the flows: where a Prefect API is configured (environment or
    profile), or the work fans out on Dask, which Prefect drives."""
    from flows.server import configured_api_url

    return configured_api_url() is not None or settings.task_runner == "dask"


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
Command = tuple[Callable[[argparse.Namespace, "Settings"], Path | Stands | None], Callable[..., str | Partial]]
COMMANDS: dict[str, Command] = {
    "run": (prepare_run, run),
    "import-prices": (prepare_import, import_prices),
    "build": (prepare_build, build),
    "rebuild": (prepare_rebuild, rebuild),
    "report": (prepare_reading, report),
    "status": (prepare_reading, status),
    "serve": (prepare_build, serve),
    "alerts": (prepare_reading, alerts),
}


if __name__ == "__main__":
    entry()
