"""The dispatch worker's loop: claim due entries, send them on a few threads, keep their leases alive.

One thread (the caller's) claims and renews; `concurrency` threads send.
It claims only as many entries as it has free threads, so nothing it holds
waits behind a slow send, and renews the leases of what is in flight every
third of a lease, so a long send keeps its claim while a dead worker's
claim runs out within one lease.

`stop()` (what SIGTERM calls) is graceful: no new claims, sends under way
finish and are recorded, then `run` returns. Several workers, on one
machine or many, can share a database: the claim (see
`store.repositories.claims`) makes sure no entry is sent by two at once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from aiguillage.dispatch.attempt import Dispatcher, Done
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.dispatch.stats import WorkerStats
from aiguillage.events.transitions import delivery_abandoned_dead
from aiguillage.store.actor import WORKER, Actor
from aiguillage.store.base import utcnow
from aiguillage.store.database import reading_engine, session_factory, transaction
from aiguillage.store.repositories.claims import Claim, claim_due, renew

log = logging.getLogger("aiguillage.worker")
#: One JSON object per delivery attempt (`aiguillage worker` prints them on standard error).
ATTEMPTS = logging.getLogger("aiguillage.deliveries")


def default_name() -> str:
    """How this process appears in claims and attempts: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker runs."""

    #: Deliveries sent at the same time (threads).
    concurrency: int = 1
    #: Seconds between looks at the outbox when nothing is due.
    poll: float = 1.0
    #: How long a claim holds without renewal: a killed worker's deliveries are picked up after at most this.
    lease: timedelta = timedelta(seconds=60)
    #: Send what is due now, then return (instead of waiting for more).
    once: bool = False
    name: str = field(default_factory=default_name)
    #: Fire due workflow timers (escalations, reminders, SLAs) once per poll, before claiming.
    timers: bool = True

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.poll <= 0:
            raise ValueError("poll must be a positive number of seconds")
        if self.lease < timedelta(seconds=1):
            raise ValueError("the lease must be at least one second")


class Worker:
    """`Worker(engine).run()` until `stop()`; or with `WorkerSettings(once=True)`, until nothing is due."""

    def __init__(
        self,
        engine: Engine,
        *,
        settings: WorkerSettings | None = None,
        policy: RetryPolicy | None = None,
        adapters: AdapterPool | None = None,
        clock: Callable[[], datetime] = utcnow,
        actor: Actor = WORKER,
        stats: WorkerStats | None = None,
        recover: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings or WorkerSettings()
        self.policy = policy or RetryPolicy()
        self.adapters = adapters or AdapterPool()
        self.clock = clock
        self.actor = actor
        self.stats = stats or WorkerStats()
        self._sessions = session_factory(engine)
        self.adapters.use_store(self._sessions)
        self.dispatcher = Dispatcher(self._sessions, session_factory(reading_engine(engine)), self.adapters,
                                     self.policy, clock, actor)
        self._stopping = threading.Event()
        #: Decides invoices a crash left `received` (given by `aiguillage worker`: it lives with the API's deciding).
        self.recover = recover

    def stop(self) -> None:
        """Finish the sends under way, record them, claim nothing more (safe from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> WorkerStats:
        """Dispatch until stopped (or, with `once`, until nothing is due); returns the totals."""
        settings = self.settings
        renew_every = settings.lease.total_seconds() / 3
        in_flight: dict[Future[Done], Claim] = {}
        busy = False
        last_renewal = time.monotonic()
        last_timers: float | None = None
        log.info("worker %s: %d thread(s), lease %ss", settings.name, settings.concurrency,
                 settings.lease.total_seconds())
        with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="aiguillage-send") as executor:
            while True:
                if settings.timers and not self.stopping and (
                        last_timers is None or time.monotonic() - last_timers >= settings.poll):
                    self._recover()
                    self._fire_timers()
                    last_timers = time.monotonic()
                claimed: list[Claim] = []
                free = settings.concurrency - len(in_flight)
                if free > 0 and not self.stopping:
                    claimed = self._claim(free)
                    for claim in claimed:
                        in_flight[executor.submit(self.dispatcher.perform, claim)] = claim
                    busy = busy or bool(claimed)
                if not in_flight:
                    if self.stopping or settings.once:
                        break
                    if busy:
                        self._idle()
                        busy = False
                    self._stopping.wait(settings.poll)
                    continue
                done, _ = wait(in_flight, timeout=min(settings.poll, renew_every), return_when=FIRST_COMPLETED)
                for future in done:
                    self._collect(future, in_flight.pop(future))
                if in_flight and time.monotonic() - last_renewal >= renew_every:
                    self._renew(in_flight.values())
                    last_renewal = time.monotonic()
        if busy:
            self._idle()
        log.info("worker %s: stopped after %d delivery attempt(s)", settings.name, self.stats.deliveries)
        return self.stats

    def _recover(self) -> None:
        """Decide what a crashed server process left `received`; what it queues is claimed in this same pass."""
        if self.recover is None:
            return
        try:
            decided = self.recover()
        except Exception:  # noqa: BLE001 - tried again at the next poll
            log.exception("worker %s: the recovery pass failed", self.settings.name)
            return
        if decided:
            log.info("worker %s: %d invoice(s) left received were decided", self.settings.name, decided)

    def _fire_timers(self) -> None:
        """Fire the workflow timers due on the worker's clock; what they queue is claimed in this same pass."""
        from aiguillage.workflows.timers import fire_due_timers

        try:
            with transaction(self._sessions) as session:
                fired = fire_due_timers(session, self.clock())
        except Exception:  # noqa: BLE001 - a timer that cannot fire now is tried again at the next poll
            log.exception("worker %s: firing workflow timers failed", self.settings.name)
            return
        if fired.fired or fired.refused:
            log.info("worker %s: %d timer(s) fired, %d refused", self.settings.name, fired.fired, fired.refused)

    def _claim(self, limit: int) -> list[Claim]:
        started = time.perf_counter()
        try:
            with transaction(self._sessions) as session:
                claims = claim_due(session, self.settings.name, now=self.clock(), lease=self.settings.lease,
                                   limit=limit, max_attempts=self.policy.max_attempts, actor=self.actor,
                                   on_dead=lambda entry, reason: delivery_abandoned_dead(session, entry, reason))
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("worker %s: claiming failed; trying again in %ss", self.settings.name, self.settings.poll)
            self._stopping.wait(self.settings.poll)
            return []
        if claims:
            self.stats.add_claim(time.perf_counter() - started, len(claims))
        return claims

    def _collect(self, future: Future[Done], claim: Claim) -> None:
        try:
            done = future.result()
        except Exception:  # noqa: BLE001 - e.g. the database went away while recording
            log.exception("delivery %s: could not be recorded; it is retried when its lease runs out", claim.entry_id)
            return
        self.stats.add(done.timings, done.report.status.value)
        if ATTEMPTS.isEnabledFor(logging.INFO):
            timings = done.timings
            ATTEMPTS.info(json.dumps({
                "event": "delivery_attempt",
                # The attempt's id: the same id is in the outbox's attempt history (GET /v1/deliveries/…).
                "request_id": str(claim.token), "delivery": str(claim.entry_id), "invoice": str(claim.invoice_id),
                "tenant": str(claim.tenant_id), "channel": claim.channel, "attempt": claim.attempt,
                "outcome": done.report.outcome.value, "status": done.report.status.value, "held": done.held,
                "remote_id": done.report.remote_id, "detail": done.report.detail,
                "duration_ms": round((timings.load + timings.render + timings.send + timings.record) * 1000, 2),
            }))

    def _renew(self, claims: Iterable[Claim]) -> None:
        try:
            with transaction(self._sessions) as session:
                renew(session, [claim.token for claim in claims], self.clock() + self.settings.lease)
        except Exception:  # noqa: BLE001 - the next renewal may succeed before the lease runs out
            log.exception("worker %s: renewing leases failed", self.settings.name)

    def _idle(self) -> None:
        try:
            for line in self.adapters.idle():
                log.info("idle: %s", line)
        except Exception:  # noqa: BLE001 - batched work is retried at the next idle moment
            log.exception("worker %s: an adapter's idle work failed", self.settings.name)
