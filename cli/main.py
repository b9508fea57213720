"""The `thesis` command line."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings, SettingsError, parse_date, parse_tickers

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample"
PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


def settings_arguments() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("settings (override THESIS_* environment variables)")
    group.add_argument("--data-dir", type=Path, help="where the raw zone, warehouse and exports live (default ./var)")
    group.add_argument("--tickers", type=parse_tickers, help="comma-separated tickers (default NVDA,ORCL)")
    group.add_argument("--benchmark", help="benchmark ticker (default ^SOX)")
    group.add_argument("--anchor-date", type=parse_date, help="rebase date, YYYY-MM-DD (default 2025-08-01)")
    group.add_argument("--as-of", type=parse_date, help="score the thesis claims as of this date, YYYY-MM-DD "
                                                          "(default: all the data)")
    return common


def parser() -> argparse.ArgumentParser:
    common = settings_arguments()
    top = argparse.ArgumentParser(prog="thesis", description="The thesis pipeline: prices into DuckDB, "
                                  "validated, transformed and published.")
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", parents=[common], help="fetch (or replay), load, validate, build, publish",
                              description="Fetch live from Yahoo Finance and SEC EDGAR (set THESIS_SEC_USER_AGENT "
                                          "to 'Name email'), or replay a folder, then load, validate, transform "
                                          "and publish.")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                       help="replay DIR/prices/* (a raw zone, or yfinance CSV exports) and DIR/sec/{companyfacts,"
                            "submissions}/*.json without network")
    where.add_argument("--sample", action="store_true",
                       help="replay the bundled sample into DATA_DIR/sample, without network")

    imp = commands.add_parser("import-prices", parents=[common], help="load yfinance CSV exports",
                              description="Copy yfinance CSV exports into the raw zone, validate and load them. "
                                          "Run `thesis build` afterwards.")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--ticker", help="the ticker, where neither the file's contents nor its name say")

    commands.add_parser("build", parents=[common], help="transform, validate and publish what is loaded",
                        description="Build staging and marts from what is loaded, validate, publish.")
    commands.add_parser("report", parents=[common], help="write the HTML report from what is built",
                        description="Write the thesis report, one self-contained HTML file that works offline, "
                                    "from the working database to DATA_DIR/published/report.html.")
    commands.add_parser("status", parents=[common], help="last runs, rows and latest dates",
                        description="Show the last runs and, per ticker, the rows and latest date stored.")
    commands.add_parser("serve", parents=[common], help="serve the daily flow on the schedule in prefect.yaml",
                        description="Serve the `daily` flow on the cron schedule declared in prefect.yaml. "
                                    "Point PREFECT_API_URL at a running `prefect server start`.")
    return top


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env().replace(
        data_dir=args.data_dir, tickers=args.tickers, benchmark=args.benchmark, anchor_date=args.anchor_date,
        as_of=args.as_of)
    if getattr(args, "sample", False):
        # The sample never mixes with real data.
        settings = settings.replace(data_dir=settings.data_dir / "sample")
    return settings


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_from(args)
        print(dispatch(args, settings))
    except (PipelineError, SettingsError) as exc:
        print(f"thesis: error: {exc}", file=sys.stderr)
        # The traceback's frames hold open DuckDB handles; left to interpreter exit, their
        # bindings report them as leaks on stderr, after the one line that matters.
        traceback.clear_frames(exc.__traceback__)
        return 1
    return 0


def dispatch(args: argparse.Namespace, settings: Settings) -> str:
    # Prefect is imported here, not at the top, so `--help` and `status` answer at once.
    from pipeline import summary

    if args.command == "status":
        return summary.status(settings)
    if args.command == "serve":
        return serve()
    if args.command == "report":
        from pipeline.build import variables
        from pipeline.report import write_report

        path = write_report(settings, variables(settings))
        return f"Report: {path} ({path.stat().st_size:,} bytes)"
    if args.command == "build":
        from pipeline.build import build

        result = build(settings)
        return summary.run_summary(settings, result.run_id, sample=False)
    if args.command == "import-prices":
        from pipeline.ingest_prices import ingest_prices
        from pipeline.sources.prices import ImportedPrices

        result = ingest_prices(settings, ImportedPrices(args.files, args.ticker))
        return f"Loaded {result.rows} bars for {', '.join(result.tickers)}. Run `thesis build` to publish."

    from pipeline.daily import daily, replay_sources

    if args.sample:
        prices, filings = replay_sources(SAMPLE_DIR, mode="sample")
    elif args.from_dir:
        prices, filings = replay_sources(args.from_dir)
    else:
        prices = filings = None
    result = daily(settings, prices, filings)
    return summary.run_summary(settings, result.run_id, sample=args.sample)


def serve() -> str:
    import yaml
    from prefect.schedules import Cron

    from pipeline.daily import daily

    deployment = next(d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"] if d["name"] == "daily")
    schedule = deployment["schedules"][0]
    daily.serve(name="daily", schedules=[Cron(schedule["cron"], timezone=schedule["timezone"])])
    return "stopped serving"


if __name__ == "__main__":
    sys.exit(main())
