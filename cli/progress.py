"""What a command shows while the core runs: each step as it happens, the tickers, files, companies
or archive members it has done, and the time taken.

On a terminal (stderr a TTY, without --verbose, whose log lines take stderr) a live display on
stderr, redrawn in place. Otherwise plain lines on stdout, one per finished step, with no control
character, so that a cron mail or a CI log reads as written; stderr stays for a failure's one line.
The core knows nothing of this: it is handed a `Steps` that runs each step in this process and
reports it here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO, TypeVar

from pipeline.runtime.steps import Direct, step_name

T = TypeVar("T")
R = TypeVar("R")

# Each step of the core as people call it, and what its items count (mapped steps only).
LABELS: dict[str, tuple[str, str]] = {
    "fetch_chunk": ("Yahoo Finance prices", "tickers"),
    "stage_files": ("price files", "files"),
    "fetch_company": ("SEC filings", "companies"),
    "stage_members": ("SEC bulk archive", "members"),
    "load_claims": ("read the claims", ""),
    "transform_and_validate": ("transform and validate", ""),
    "score_claims": ("score the claims", ""),
    "score_timeline": ("score the weekly timeline", ""),
    "export": ("export parquet", ""),
    "report": ("write the report", ""),
    "publish_version": ("publish", ""),
}


def label(fn: Callable) -> tuple[str, str]:
    name = step_name(fn)
    return LABELS.get(name, (name.replace("_", " "), "items"))


def size(item: object) -> int:
    """The tickers, files or members one mapped item holds (a chunk of tickers, a group of files)."""
    held = getattr(item, "tickers", item)
    return len(held) if isinstance(held, list | tuple) else 1


class Display(Protocol):
    def begin(self, label: str, total: int | None, unit: str) -> Any:
        """A step started (`total`: its items, for a mapped step); returns its handle."""
        ...

    def advance(self, step: Any, count: int) -> None: ...

    def end(self, step: Any) -> None: ...


class Plain:
    """One line per finished step: since the command started, the step, its items, its time."""

    def __init__(self, out: TextIO):
        self.out = out
        self.started = time.monotonic()

    def begin(self, label: str, total: int | None, unit: str) -> dict[str, Any]:
        return {"label": label, "total": total, "unit": unit, "done": 0, "at": time.monotonic()}

    def advance(self, step: dict[str, Any], count: int) -> None:
        step["done"] += count

    def end(self, step: dict[str, Any]) -> None:
        now = time.monotonic()
        items = f" ({step['done']:,} {step['unit']})" if step["total"] is not None else ""
        print(
            f"[{now - self.started:7.1f} s] {step['label']}{items}: {now - step['at']:.1f} s", file=self.out, flush=True
        )


class Live:
    """rich's progress display on the terminal: the command's elapsed time, and a row per step
    with its items done and its time, the running one spinning."""

    def __init__(self, out: TextIO, command: str):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(finished_text="[green]done"),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[items]}"),
            TimeElapsedColumn(),
            console=Console(file=out),
        )
        self.whole = self.progress.add_task(f"thesis {command}", total=None, items="")

    def begin(self, label: str, total: int | None, unit: str) -> Any:
        items = f"0 of {total:,} {unit}" if total is not None else ""
        return self.progress.add_task(label, total=total, items=items, unit=unit)

    def advance(self, step: Any, count: int) -> None:
        self.progress.advance(step, count)
        task = self.progress.tasks[step]
        self.progress.update(step, items=f"{task.completed:,.0f} of {task.total:,.0f} {task.fields['unit']}")

    def end(self, step: Any) -> None:
        task = self.progress.tasks[step]
        self.progress.update(step, total=task.total or 1, completed=task.total or 1)
        self.progress.stop_task(step)


class Shown(Direct):
    """Steps run one after another in this process, as `Direct`, each reported to `display`."""

    def __init__(self, display: Display):
        self.display = display

    def run(self, fn: Callable[..., R], *args: object) -> R:
        step = self.display.begin(label(fn)[0], None, "")
        result = fn(*args)
        self.display.end(step)
        return result

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        items = list(items)
        name, unit = label(fn)
        step = self.display.begin(name, sum(size(item) for item in items), unit)
        results = []
        for item in items:
            results.append(fn(item))
            self.display.advance(step, size(item))
        self.display.end(step)
        return results


@contextmanager
def shown(command: str, verbose: bool) -> Iterator[Shown]:
    """Steps that show as they run: live on a terminal, plain lines otherwise (and under --verbose)."""
    if verbose or not sys.stderr.isatty():
        yield Shown(Plain(sys.stdout))
        return
    live = Live(sys.stderr, command)
    with live.progress:
        try:
            yield Shown(live)
        finally:
            live.end(live.whole)
