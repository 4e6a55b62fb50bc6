"""Where a worker's time goes, per stage, and how its deliveries ended: for logs and benchmarks.

Stages: claim (the claiming transaction, shared by the entries it claimed),
load (invoice and settings from the store), render (the channel's
documents), send (the counterpart), record (the result transaction).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

STAGES = ("claim", "load", "render", "send", "record")


@dataclass
class Timings:
    """Seconds one delivery spent in each stage."""

    claim: float = 0.0
    load: float = 0.0
    render: float = 0.0
    send: float = 0.0
    record: float = 0.0


@dataclass
class WorkerStats:
    """Totals across a worker's deliveries; safe to add to from several threads."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    outcomes: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0
    claims: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_claim(self, seconds: float, claimed: int) -> None:
        """One claiming transaction that took `seconds` and claimed `claimed` entries."""
        with self._lock:
            self.seconds["claim"] += seconds
            self.claims += claimed

    def add(self, timings: Timings, status: str) -> None:
        """One delivery attempt that ended with the entry in `status`."""
        with self._lock:
            for stage in STAGES[1:]:
                self.seconds[stage] += getattr(timings, stage)
            self.outcomes[status] += 1
            self.deliveries += 1

    def per_delivery_ms(self) -> dict[str, float]:
        """Mean milliseconds per delivery attempt in each stage (claim spread over the entries claimed)."""
        with self._lock:
            result = {}
            for stage in STAGES:
                count = self.claims if stage == "claim" else self.deliveries
                result[stage] = 1000 * self.seconds[stage] / count if count else 0.0
            return result
