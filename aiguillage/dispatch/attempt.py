"""One attempt at one claimed delivery: load, render, send, record; and what a failure means.

The send happens outside any database transaction (a slow counterpart must
not hold a lock), between two short ones: the claim before, the report
after. How a failure is sorted:

- `PermanentDeliveryError` (bad address, rejected document): dead-letter now;
- `TemporaryDeliveryError` (timeout, 4xx SMTP, 5xx HTTP): retry after a
  backoff, dead-letter once the retry limit is reached;
- any other exception (a bug, a missing library): treated as temporary, so
  a fix and a restart deliver it, but logged with its traceback.

Ending a process (SIGKILL, power loss) records nothing: the lease runs out
and another worker tries again, with the same delivery key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from aiguillage.adapters.base import (
    Delivery,
    DeliveryError,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
)
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.dispatch.destination import build_delivery
from aiguillage.dispatch.stats import Timings
from aiguillage.dispatch.workflow_events import report_to_workflow
from aiguillage.events.transitions import delivery_attempt
from aiguillage.store.actor import Actor
from aiguillage.store.database import transaction
from aiguillage.store.repositories.claims import Claim, Report, finish
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.vocabulary import AttemptOutcome, OutboxStatus

log = logging.getLogger("aiguillage.worker")

#: What each adapter outcome makes of the entry: acknowledged by the counterpart, or handed on.
_STATUS = {
    DeliveryStatus.DELIVERED: OutboxStatus.DELIVERED,
    DeliveryStatus.PUBLISHED: OutboxStatus.DELIVERED,
    DeliveryStatus.QUEUED: OutboxStatus.SENT,
    DeliveryStatus.STAGED: OutboxStatus.SENT,
    DeliveryStatus.DUPLICATE: OutboxStatus.SENT,
}


@dataclass(frozen=True)
class Done:
    """What became of one claimed delivery."""

    claim: Claim
    report: Report
    #: False when the claim was lost to another worker before the report (see `claims.finish`).
    held: bool
    timings: Timings


@dataclass
class Dispatcher:
    """Performs attempts; shared by the worker's threads (it keeps no per-attempt state)."""

    sessions: sessionmaker[Session]
    reading_sessions: sessionmaker[Session]
    adapters: AdapterPool
    policy: RetryPolicy
    clock: Callable[[], datetime]
    actor: Actor

    def perform(self, claim: Claim) -> Done:
        """Make the attempt the claim started and record its outcome."""
        timings = Timings()
        started = time.perf_counter()
        try:
            delivery = self._load(claim)
            timings.load = time.perf_counter() - started
            adapter = self.adapters.get(claim.channel)
            mark = time.perf_counter()
            rendered = adapter.render(delivery)
            timings.render = time.perf_counter() - mark
            mark = time.perf_counter()
            result = adapter.send(delivery, rendered)
            timings.send = time.perf_counter() - mark
            report = self._success(result)
        except DeliveryError as exc:
            report = self._failure(claim, exc, describe(exc), timed_out=_timed_out(exc))
        except Exception as exc:  # noqa: BLE001 - anything else is retried as temporary, and logged
            log.exception("delivery %s (attempt %d) failed unexpectedly", claim.entry_id, claim.attempt)
            report = self._failure(claim, exc, f"{type(exc).__name__}: {exc}", timed_out=_timed_out(exc))
        mark = time.perf_counter()
        with transaction(self.sessions) as session:
            held = finish(session, claim, report, self.actor)
            if held:  # issue 8: the invoice's delivery workflow follows its attempts
                delivery_attempt(session, claim, report)  # issue 19: and the ERP hears of it
                report_to_workflow(session, claim, report, self.actor, report.finished_at)
        timings.record = time.perf_counter() - mark
        _log(claim, report, held)
        return Done(claim, report, held, timings)

    def _load(self, claim: Claim) -> Delivery:
        """The invoice and the customer's settings, in a short read-only transaction."""
        with transaction(self.reading_sessions) as session:
            record = Invoices(session, claim.tenant_id).get(claim.invoice_id)
            invoice = invoice_from_record(record)
            customer = None
            if claim.destination.get("settings") is None and record.customer_code:
                customer = Customers(session, claim.tenant_id).find_code(record.customer_code)
            return build_delivery(claim, invoice, invoice_id=str(record.id), customer_code=record.customer_code,
                                  customer=customer)

    def _success(self, result: DeliveryResult) -> Report:
        detail = result.detail
        if result.receipt:
            detail = f"{detail}; receipt: {result.receipt}" if detail else f"receipt: {result.receipt}"
        if result.status is DeliveryStatus.DUPLICATE:
            detail = f"already delivered by an earlier attempt; {detail}"
        return Report(AttemptOutcome.OK, _STATUS[result.status], self.clock(), remote_id=result.delivery_id,
                      detail=detail or None)

    def _failure(self, claim: Claim, exc: Exception, detail: str, *, timed_out: bool) -> Report:
        now = self.clock()
        outcome = AttemptOutcome.TIMEOUT if timed_out else AttemptOutcome.FAILED
        if isinstance(exc, PermanentDeliveryError):
            return Report(outcome, OutboxStatus.DEAD, now, detail=f"permanent: {detail}")
        if self.policy.gives_up_after(claim.round_attempt):
            return Report(outcome, OutboxStatus.DEAD, now,
                          detail=f"gave up after {claim.round_attempt} attempt(s); last error: {detail}")
        return Report(outcome, OutboxStatus.RETRYING, now, detail=detail,
                      next_attempt_at=self.policy.next_attempt(claim.round_attempt, now))


def describe(exc: DeliveryError) -> str:
    """The error and what the counterpart said, in one line."""
    return f"{exc.message} ({exc.detail})" if exc.detail else exc.message


def _timed_out(exc: BaseException) -> bool:
    """True when a timeout is anywhere in the exception's chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TimeoutError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _log(claim: Claim, report: Report, held: bool) -> None:
    where = f"delivery {claim.entry_id} ({claim.channel}, attempt {claim.attempt})"
    if not held:
        log.warning("%s: %s, but another worker took it over meanwhile", where, report.outcome.value)
    elif report.outcome is AttemptOutcome.OK:
        log.info("%s: %s as %s", where, report.status.value, report.remote_id)
    elif report.status is OutboxStatus.DEAD:
        log.error("%s: dead-lettered: %s", where, report.detail)
    else:
        log.warning("%s: %s, retry at %s: %s", where, report.outcome.value,
                    report.next_attempt_at.isoformat() if report.next_attempt_at else "?", report.detail)
