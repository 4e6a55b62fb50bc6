"""Contention is the server's business: run a transaction again when the database says "try again".

Under month-end load two submissions may meet on one row: a serialization
failure or deadlock (PostgreSQL 40001, 40P01), a lock not available
(55P03), SQLite's "database is locked", a unique violation lost to a
concurrent insert, or an optimistic-lock conflict on a workflow session.
None of these means the request was wrong, so none may reach the client:
`retrying` rolls back and runs the unit of work again, with a short jittered
wait, a few times.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aiguillage.store.errors import Conflict

T = TypeVar("T")

log = logging.getLogger("aiguillage.store")

#: PostgreSQL SQLSTATEs that say "the same transaction may succeed if run again".
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: How many times a unit of work runs before the contention is reported.
ATTEMPTS = 6


class StillContended(Exception):
    """The unit of work met contention on every attempt."""


def is_contention(exc: BaseException) -> bool:
    """Whether running the same transaction again may succeed (never a client error)."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, Conflict):  # only the optimistic-lock kind reaches here: see `retrying`
        return type(exc).__name__ == "WorkflowConflict"
    if isinstance(exc, IntegrityError):
        return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)
    if isinstance(exc, OperationalError | DBAPIError):
        if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        return "database is locked" in str(exc.orig)
    return False


def retrying(session: Session, work: Callable[[], T], *, attempts: int = ATTEMPTS, what: str = "transaction") -> T:
    """Run `work` (which commits) until it does without contention; roll back between tries."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            session.rollback()
            if not is_contention(exc):
                raise
            if attempt == attempts:
                raise StillContended(f"{what}: contention on {attempts} attempts ({exc.__class__.__name__})") from exc
            log.info("%s: contention (%s), attempt %d of %d", what, exc.__class__.__name__, attempt, attempts)
            time.sleep(random.uniform(0, 0.02 * 2 ** attempt))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")
