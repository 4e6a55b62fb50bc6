"""When a failed webhook is tried again, and when a subscription that keeps failing is disabled.

Exponential backoff with jitter (5 s, 10 s, 20 s, … capped at an hour):
a receiver that is down for a night gets a try every hour and everything
arrives, in order, once it is back. A subscription is disabled only after it
has failed without a single success for `disable_after` (three days by
default) and at least `min_failures` times, with the reason kept on it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class WebhookPolicy:
    base: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.2
    disable_after: timedelta = timedelta(days=3)
    min_failures: int = 10
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def next_attempt(self, attempt: int, now: datetime) -> datetime:
        """When to try again after failed attempt number `attempt` (1, 2, …)."""
        full = min(self.max_delay, self.base * (2 ** min(max(attempt, 1) - 1, 30)))
        return now + full * (1 - self.jitter * self.rng.random())

    def should_disable(self, failing_since: datetime, failures: int, now: datetime) -> bool:
        return failures >= self.min_failures and now - failing_since >= self.disable_after
