"""Saturation answers 429/503 with Retry-After *before* anything is stored, so an error always means "not stored".

Each server worker admits at most `MAX_IN_FLIGHT` intake requests (submit,
batch, evaluate) at once; one more waits up to `ADMISSION_WAIT_S` for a
slot, then is answered 503 with `Retry-After` without its body being read:
the server as a whole is saturated. Within that, one API key may hold at
most `MAX_IN_FLIGHT_PER_KEY` of the slots (0: all of them); one more
request from that key is answered 429 with `Retry-After` at once, so one
tenant's month-end run cannot take every slot from the others.
The database refusing work for the same reason (its connection pool
exhausted, the server unreachable) is answered the same way: those errors
arise before the storing transaction commits, so nothing was stored.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aiguillage.api.problems import Problem, problem_response
from aiguillage.store.contention import StillContended

log = logging.getLogger("aiguillage.admission")

#: Endpoints whose requests count against the in-flight limit.
INTAKE_ENDPOINTS = frozenset({"invoices.submit_invoice", "batch.submit_batch", "evaluate.evaluate_invoice"})
#: Seconds a client is told to wait before sending again.
RETRY_AFTER_S = 1
_EXTENSION = "aiguillage.admission"
#: The per-key counts (`KeyShares`).
KEYS_EXTENSION = "aiguillage.admission.keys"


class KeyShares:
    """Intake requests in flight per API key, in one server worker (keys are told apart by a digest)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def enter(self, key: str) -> bool:
        """Count one more request of `key`; False (nothing counted) when the key has its share already."""
        with self._lock:
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return False
            self._counts[key] = count + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            count = self._counts.get(key, 0) - 1
            if count > 0:
                self._counts[key] = count
            else:
                self._counts.pop(key, None)


def key_of(authorization: str | None) -> str | None:
    """Which key a request presents, as a digest (the key itself is not kept); None without one."""
    if not authorization:
        return None
    return hashlib.sha256(authorization.strip().encode()).hexdigest()


def too_many(detail: str) -> Problem:
    """The 429 that tells one client it sends more at once than its share; nothing was stored."""
    return Problem(429, f"{detail}; nothing was stored, send it again (same Idempotency-Key) after "
                   f"{RETRY_AFTER_S} s", type="too-many-requests", title="Too Many Requests",
                   headers={"Retry-After": str(RETRY_AFTER_S)})


def busy(detail: str) -> Problem:
    """The 503 that tells a client to send the same request again later (with the same Idempotency-Key)."""
    return Problem(503, f"{detail}; nothing was stored, send it again (same Idempotency-Key) after "
                   f"{RETRY_AFTER_S} s", type="busy", title="Service Unavailable",
                   headers={"Retry-After": str(RETRY_AFTER_S)})


def init_app(app: Flask) -> None:
    """Install the in-flight limit and the 503 answers for a saturated database."""
    limit = int(app.config["MAX_IN_FLIGHT"])
    if limit < 1:
        raise ValueError("MAX_IN_FLIGHT must be at least 1")
    app.extensions[_EXTENSION] = threading.BoundedSemaphore(limit)
    per_key = int(app.config.get("MAX_IN_FLIGHT_PER_KEY") or limit)
    if per_key < 1:
        raise ValueError("MAX_IN_FLIGHT_PER_KEY must be at least 1 (or 0: the whole MAX_IN_FLIGHT)")
    app.extensions[KEYS_EXTENSION] = KeyShares(per_key)
    app.before_request(_admit)
    app.teardown_request(_release)

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(_exc: PoolTimeout) -> Response:
        log.warning("database connection pool exhausted on %s %s", request.method, request.path)
        return problem_response(busy("the server is saturated (no database connection free)"))

    @app.errorhandler(StillContended)
    def _contended(_exc: StillContended) -> Response:
        log.warning("contention outlasted the retries on %s %s", request.method, request.path)
        return problem_response(busy("the server is saturated (contention)"))

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        return problem_response(busy("the database is unavailable or overloaded"))


def _admit() -> None:
    if request.endpoint not in INTAKE_ENDPOINTS:
        return
    key = key_of(request.headers.get("Authorization"))
    shares: KeyShares = current_app.extensions[KEYS_EXTENSION]
    if key is not None:
        if not shares.enter(key):
            raise too_many(f"this API key already has {shares.limit} requests in flight (its share of the server)")
        g.admitted_key = key
    slots: threading.BoundedSemaphore = current_app.extensions[_EXTENSION]
    if not slots.acquire(timeout=float(current_app.config["ADMISSION_WAIT_S"])):
        if g.pop("admitted_key", None) is not None:
            shares.leave(key)  # type: ignore[arg-type]
        raise busy("the server is saturated (too many requests in flight)")
    g.admitted = True


def _release(_exc: BaseException | None) -> None:
    if g.pop("admitted", False):
        current_app.extensions[_EXTENSION].release()
    key = g.pop("admitted_key", None)
    if key is not None:
        current_app.extensions[KEYS_EXTENSION].leave(key)
