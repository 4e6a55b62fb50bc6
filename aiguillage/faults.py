"""Crash points for tests that prove recovery: the process kills itself where a real crash would hurt most.

`AIGUILLAGE_CRASH_AT=after-store` makes a server process SIGKILL itself
right after an invoice's storing transaction commits and before it is
decided (tests/test_recovery.py). Unset, a crash point costs one
dictionary look-up.
"""

from __future__ import annotations

import os
import signal

ENV = "AIGUILLAGE_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, at once and without cleanup, when the environment asks for this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
