"""The webhook worker's loop: number new events, claim due deliveries, send each invoice's chain in order.

Per poll: run the sequencer (which also queues deliveries), claim up to
`batch` due deliveries (whole per-invoice chains, see `deliveries.claim`),
and send the chains on `concurrency` threads, each chain one event after
the other. A failure ends its chain for now: the failed delivery waits for
its backoff and the rest of the chain is given back, so event n+1 of an
invoice never reaches the receiver before event n was accepted. Successes
are recorded a few at a time (and the chain's leases renewed with them); a
worker killed before recording them re-sends them later under the same
event ids, which is what receivers de-duplicate on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from aiguillage.events import deliveries
from aiguillage.events.deliveries import Job
from aiguillage.events.feed import body_of
from aiguillage.events.retry import WebhookPolicy
from aiguillage.events.sender import Connections, post_event
from aiguillage.events.sequencer import BATCH, pending, sequence_pending
from aiguillage.store.base import utcnow
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.event_models import EventRecord
from aiguillage.store.models import Tenant  # noqa: F401 - registers every table (the events' foreign keys name them)

log = logging.getLogger("aiguillage.webhooks")


@dataclass(frozen=True)
class WebhookSettings:
    concurrency: int = 4
    poll: float = 1.0
    lease: timedelta = timedelta(seconds=60)
    #: Deliveries claimed per round.
    batch: int = 200
    #: Seconds to wait for a receiver's answer.
    timeout: float = 10.0
    #: Successes recorded per transaction within a chain.
    record_every: int = 50
    once: bool = False
    #: Allow webhook URLs that resolve to loopback or private addresses (tests, a receiver on the same network).
    allow_private: bool = False


@dataclass
class WebhookStats:
    delivered: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)


class WebhookWorker:
    """`WebhookWorker(engine).run()` until `stop()`; with `once`, until nothing is due."""

    def __init__(self, engine: Engine, *, settings: WebhookSettings | None = None,
                 policy: WebhookPolicy | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings or WebhookSettings()
        self.policy = policy or WebhookPolicy()
        self.clock = clock
        self.stats = WebhookStats()
        self._sessions = session_factory(engine)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        #: Per sending thread: its keep-alive connections.
        self._local = threading.local()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> WebhookStats:
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="aiguillage-webhook") as executor:
            while not self._stopping.is_set():
                try:
                    self.sequence()
                    jobs = self._claim()
                except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                    log.exception("webhooks: sequencing or claiming failed; trying again")
                    jobs = []
                if not jobs:
                    if self.settings.once:
                        break
                    self._stopping.wait(self.settings.poll)
                    continue
                chains: dict[tuple, list[Job]] = {}
                for job in jobs:
                    chains.setdefault(job.chain, []).append(job)
                for future in [executor.submit(self._send_chain, chain) for chain in chains.values()]:
                    try:
                        future.result()
                    except Exception:  # noqa: BLE001 - its leases run out and it is sent again
                        log.exception("webhooks: a chain could not be recorded")
        return self.stats

    def sequence(self) -> int:
        """Number every committed event (and queue its deliveries); how many were numbered."""
        total = 0
        while True:
            with transaction(self._sessions) as session:
                if not pending(session):
                    return total
                done = sequence_pending(session, self.clock())
            total += done
            if done < BATCH:
                return total

    def _claim(self) -> list[Job]:
        with transaction(self._sessions) as session:
            return deliveries.claim(session, now=self.clock(), lease=self.settings.lease, limit=self.settings.batch)

    def _bodies(self, jobs: list[Job]) -> dict:
        with transaction(self._sessions) as session:
            rows = session.scalars(select(EventRecord).where(EventRecord.id.in_([j.event_id for j in jobs])))
            return {row.id: body_of(row) for row in rows}

    def _send_chain(self, chain: list[Job]) -> None:
        """Send one chain in order; stop at the first failure and give the rest back."""
        bodies = self._bodies(chain)
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = Connections(self.settings.timeout)
        done: list[Job] = []
        codes: dict = {}
        last_record = time.monotonic()
        for index, job in enumerate(chain):
            if self._stopping.is_set():
                self._record(done, codes, chain[index:], release=True)
                return
            result = post_event(job.url, job.secret, str(job.event_id), bodies[job.event_id],
                                timeout=self.settings.timeout, connections=connections,
                                allow_private=self.settings.allow_private)
            if not result.ok:
                self._record(done, codes, chain[index + 1:], release=True, failure=(job, result))
                return
            done.append(job)
            codes[job.delivery_id] = result.status_code
            if len(done) >= self.settings.record_every or \
                    time.monotonic() - last_record > self.settings.lease.total_seconds() / 3:
                self._record(done, codes, chain[index + 1:])
                done, codes, last_record = [], {}, time.monotonic()
        self._record(done, codes, [])

    def _record(self, done: list[Job], codes: dict, rest: list[Job], *, release: bool = False,
                failure: tuple | None = None) -> None:
        now = self.clock()
        with transaction(self._sessions) as session:
            deliveries.delivered(session, done, now, codes)
            if failure is not None:
                job, result = failure
                reason = deliveries.failed(session, job, now, result.error or "failed", result.status_code,
                                           self.policy)
                if reason:
                    log.error("webhook subscription %s: %s", job.subscription_id, reason)
                    with self._lock:
                        self.stats.disabled.append(reason)
            if release:
                deliveries.release(session, rest)
            else:
                deliveries.renew(session, rest, now + self.settings.lease)
        with self._lock:
            self.stats.delivered += len(done)
            self.stats.failed += 1 if failure is not None else 0
        if failure is not None:
            log.warning("webhook %s (event %s, attempt %d): %s", failure[0].url, failure[0].event_id,
                        failure[0].attempt, failure[1].error)
