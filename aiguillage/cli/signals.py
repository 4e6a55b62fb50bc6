"""Run a long-lived loop (`worker`, `webhooks`) until SIGTERM or SIGINT asks it to finish what is under way."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

T = TypeVar("T")


def run_until_signalled(run: Callable[[], T], stop: Callable[[], None],
                        on_signal: Callable[[signal.Signals], None] | None = None) -> T:
    """`run()`, with SIGTERM and SIGINT calling `stop()` (after `on_signal`); the previous handlers come back after."""

    def graceful(signum: int, _frame: FrameType | None) -> None:
        if on_signal is not None:
            on_signal(signal.Signals(signum))
        stop()

    previous = {sig: signal.signal(sig, graceful) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
