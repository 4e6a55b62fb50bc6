"""When to try a failed delivery again, and when to stop trying.

Exponential backoff (base, 2×base, 4×base, … capped at `max_delay`) spreads
retries over the hours a counterpart may be down; jitter takes up to
`jitter` of each delay off at random, so deliveries that failed together
(a mail relay restarting) do not all come back in the same second.
`max_attempts` counts the attempts since the entry was queued or retried by
hand; past it the delivery is dead-lettered with its last error.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff and limit. The defaults wait 30 s, 1 min, 2 min, … up to 6 h, and make the 12th and
    last attempt 11 to 14.5 hours after the first: long enough to ride out a night's outage."""

    base: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    max_attempts: int = 12
    #: Fraction of each delay that may be taken off at random (0: none, 1: anything down to zero).
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.max_delay < self.base:
            raise ValueError("backoff needs 0 < base <= max_delay")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    def gives_up_after(self, attempt: int) -> bool:
        """True when `attempt` (counted in the current round) was the last one allowed."""
        return attempt >= self.max_attempts

    def delay(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number `attempt` (1 → about `base`)."""
        full = min(self.max_delay, self.base * (2 ** min(max(attempt, 1) - 1, 40)))
        return full * (1 - self.jitter * self.rng.random())

    def next_attempt(self, attempt: int, now: datetime) -> datetime:
        """When the next attempt is due after failed attempt `attempt` at `now`."""
        return now + self.delay(attempt)
