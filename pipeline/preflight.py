"""Checks made before a run starts anything: no warehouse, raw zone or orchestrator is touched
until the paths, the settings and a replay's tickers are known to be usable. Each check is quick
(file names and headers, no parsing of bars) and fails with one line."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.payloads.raw_zone import payload_paths, read_meta, replay_parts
from pipeline.runtime.errors import PayloadError, SettingsError, path_problem
from pipeline.runtime.settings import Settings


def writable_data_dir(settings: Settings) -> None:
    """The data directory is a directory this process can write, or can be made in one, and what
    the pipeline keeps in it has the kind it needs (a folder where it keeps files, a file where it
    keeps one)."""
    path = settings.data_dir
    try:
        os.stat(path)  # a symlink loop or an overlong name says so here, not as exists() == False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SettingsError(f"{path_problem(exc) or exc} (--data-dir, THESIS_DATA_DIR)") from None
    if path.exists() and not path.is_dir():
        raise SettingsError(f"the data directory {path} is a file, not a directory (--data-dir, THESIS_DATA_DIR)")
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(
            f"the data directory {path} is not writable here{read_only(existing)}: check the path's permissions "
            "(--data-dir, THESIS_DATA_DIR)"
        )
    for folder in (settings.paths.raw, settings.paths.published, settings.paths.logs, settings.paths.reports):
        if folder.exists() and not folder.is_dir():
            raise SettingsError(f"{folder} is a file, but `{folder.name}` must be a folder: move the file away")
    for file in (settings.paths.lock, settings.paths.warehouse):
        if file.is_dir():
            raise SettingsError(f"{file} is a folder, but `{file.name}` must be a file: move the folder away")


def read_only(path: Path) -> str:
    """' (a read-only file system)' where `path` lies on one: no permission change helps there."""
    return " (a read-only file system)" if os.statvfs(path).f_flag & os.ST_RDONLY else ""


def replay_folder(settings: Settings, folder: Path) -> None:
    """A replay folder exists and holds prices/ or sec/ (or both); its prices/, where it has one,
    hold prices for every configured ticker and the benchmark."""
    # Here, not above: the data directory's check runs before a replay with nothing new, which
    # imports no pandas.
    from pipeline.payloads.price_files import declared_tickers
    from pipeline.payloads.staged_prices import ticker_names
    from pipeline.sources.prices import PRICE_SUFFIXES

    if not folder.is_dir():
        raise PayloadError(f"no such folder to replay: {folder}")
    if "prices" not in replay_parts(folder):
        return  # SEC filings only: the prices are skipped, and the run says so
    prices = folder / "prices"
    held: set[str] = set()
    for path in payload_paths(prices, PRICE_SUFFIXES):
        held |= declared_tickers(path, read_meta(path), ticker_names(settings))
    absent = [t for t in settings.universe if t not in held]
    if absent:
        found = ", ".join(sorted(held)) or "none"
        raise PayloadError(
            f"{prices} holds no prices for {', '.join(absent)} (it holds {found}); "
            "check --tickers (or --tickers-file) and --benchmark"
        )


def live_run(settings: Settings) -> None:
    from pipeline.sources.sec import require_user_agent

    require_user_agent(settings.user_agent)
    if settings.history_start > settings.last_session:
        raise SettingsError(
            f"THESIS_HISTORY_START={settings.history_start} is after the last closed NYSE session "
            f"({settings.last_session}): a ticker never seen would be fetched from a day with no bar yet"
        )


def imported_files(files: Sequence[Path]) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise PayloadError(f"no such file: {', '.join(missing)}")


def run(settings: Settings, replay_from: Path | None) -> None:
    """Everything `thesis run` (or the `daily` flow) needs before it starts."""
    writable_data_dir(settings)
    if replay_from is None:
        live_run(settings)
    else:
        replay_folder(settings, replay_from)
