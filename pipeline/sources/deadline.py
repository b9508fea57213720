"""A hard deadline around a blocking call that may ignore its own timeout."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from pipeline.runtime.errors import DeadlineExceeded

T = TypeVar("T")


def call_with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run `fn` and return its result, or raise DeadlineExceeded after `seconds`.

    yfinance can hang for minutes on dropped packets despite its own `timeout=`. The call runs
    in a daemon thread, so a hung socket is abandoned rather than waited for and cannot keep
    the process alive.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"deadline:{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"{what} gave no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
