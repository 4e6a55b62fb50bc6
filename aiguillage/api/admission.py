"""Saturation answers 503 with Retry-After *before* anything is stored, so an error always means "not stored".

Each server worker admits at most `MAX_IN_FLIGHT` intake requests (submit,
batch, evaluate) at once; one more waits up to `ADMISSION_WAIT_S` for a
slot, then is answered 503 with `Retry-After` without its body being read.
The database refusing work for the same reason (its connection pool
exhausted, the server unreachable) is answered the same way: those errors
arise before the storing transaction commits, so nothing was stored.
"""

from __future__ import annotations

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
    slots: threading.BoundedSemaphore = current_app.extensions[_EXTENSION]
    if not slots.acquire(timeout=float(current_app.config["ADMISSION_WAIT_S"])):
        raise busy("the server is saturated (too many requests in flight)")
    g.admitted = True


def _release(_exc: BaseException | None) -> None:
    if g.pop("admitted", False):
        current_app.extensions[_EXTENSION].release()
