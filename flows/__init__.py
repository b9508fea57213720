"""Prefect flows over the pipeline's core: each flow takes JSON parameters, builds the settings,
and runs the core's steps as Prefect tasks. Nothing else lives here."""

import os

# Before Prefect is imported: no analytics; the core's log lines (logger "pipeline") in the run's
# logs, and outside a flow run (the core called directly in the same process) in ours alone. Where
# Prefect was imported first (a worker's flow run), flows/run_log.py attaches them for each run.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipeline")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")


def quiet_terminal() -> None:
    """For the `thesis` command: Prefect's console handler shows only what is critical, so a
    failure ends in the command's one line; every run's full log is still in Prefect's API."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
