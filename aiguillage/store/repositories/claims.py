"""Claiming due outbox entries across tenants, and reporting how each attempt ended.

System-level, like `keys.resolve`: a dispatch worker serves every tenant,
so it claims by due time, not by tenant. Every write after the claim is
scoped by the tenant the claim carries.

How several workers never send the same entry at the same time:

- PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` picks due rows no other
  transaction holds, and the claim is written in the same transaction;
- SQLite: every writing transaction begins IMMEDIATE (`store.database`), so
  one claim runs at a time and sees the previous one's result.

A claim is a lease: `claimed_until`, pushed forward by `renew` while the
send runs. A worker that dies (SIGKILL, power loss) stops renewing, its
lease runs out and the entry is due again; its unfinished attempt is then
marked `abandoned`. That re-send is why at-least-once needs the delivery
key: the adapters derive every id the receiver sees from it.

Time is always passed in (`now`), never read from the database, so tests
drive leases and backoff with a fake clock and the two backends agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.models import DeliveryAttempt, InvoiceRecord, OutboxEntry
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.vocabulary import AttemptOutcome, InvoiceStatus, OutboxStatus

#: Statuses in which an entry waits for its `next_attempt_at`.
WAITING = (OutboxStatus.PENDING.value, OutboxStatus.RETRYING.value)
#: Statuses that end an entry's dispatch (until a manual retry).
FINAL = frozenset({OutboxStatus.SENT.value, OutboxStatus.DELIVERED.value, OutboxStatus.DEAD.value})
#: Invoice statuses the dispatch may move (it never touches a held, rejected or unrouted invoice).
DISPATCH_INVOICE_STATUSES = frozenset(
    {InvoiceStatus.QUEUED.value, InvoiceStatus.SENT.value, InvoiceStatus.DELIVERED.value, InvoiceStatus.FAILED.value}
)
#: Longest error text kept per attempt.
MAX_DETAIL = 4000


@dataclass(frozen=True)
class Claim:
    """One entry a worker now holds: everything it needs to send it, and the token that proves the hold."""

    entry_id: uuid.UUID
    tenant_id: uuid.UUID
    invoice_id: uuid.UUID
    #: The id of the attempt this claim started; also the entry's `claim_token`.
    token: uuid.UUID
    #: The attempt's number among all attempts at the entry (1, 2, …).
    attempt: int
    #: The attempt's number since the entry was queued or last retried by hand (what the retry limit counts).
    round_attempt: int
    channel: str
    format: str | None
    destination: dict[str, Any]
    delivery_key: str
    created_at: datetime
    claimed_until: datetime


@dataclass(frozen=True)
class Report:
    """How an attempt ended and what becomes of the entry."""

    outcome: AttemptOutcome
    status: OutboxStatus
    finished_at: datetime
    remote_id: str | None = None
    detail: str | None = None
    #: When a `retrying` entry is due again.
    next_attempt_at: datetime | None = None


def due_condition(now: datetime) -> Any:
    """Waiting entries whose time has come, and entries whose worker's lease ran out."""
    return or_(
        and_(OutboxEntry.status.in_(WAITING), OutboxEntry.next_attempt_at <= now),
        and_(OutboxEntry.status == OutboxStatus.SENDING.value, OutboxEntry.claimed_until <= now),
    )


def claim_due(
    session: Session,
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    max_attempts: int | None = None,
    actor: Actor,
    on_dead: Callable[[OutboxEntry, str], None] | None = None,
) -> list[Claim]:
    """Claim up to `limit` due entries, oldest due first, for `lease`; each gets a new `started` attempt.

    An entry whose previous lease expired has its unfinished attempt marked
    `abandoned` first. If that abandoned attempt was the last one the retry
    limit allows (`max_attempts`), the entry is dead-lettered instead of
    claimed: an invoice that kills every worker that touches it must not
    kill them forever. `on_dead(entry, reason)` is called for each, in the same transaction (the
    dispatch worker tells the ERP there; the store knows nothing of events).
    """
    if limit < 1:
        return []
    query = select(OutboxEntry).where(due_condition(now)).order_by(OutboxEntry.next_attempt_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims: list[Claim] = []
    for entry in session.scalars(query).all():
        if entry.status == OutboxStatus.SENDING.value and _abandon(session, entry, now, actor, max_attempts):
            if on_dead is not None:
                on_dead(entry, entry.last_error or "the last attempt was abandoned")
            continue
        number = entry.attempts + 1
        attempt = DeliveryAttempt(
            id=uuid.uuid4(),
            tenant_id=entry.tenant_id,
            outbox_id=entry.id,
            number=number,
            started_at=now,
            outcome=AttemptOutcome.STARTED.value,
            worker=worker,
        )
        session.add(attempt)
        entry.status = OutboxStatus.SENDING.value
        entry.attempts = number
        entry.claimed_by = worker
        entry.claimed_until = now + lease
        entry.claim_token = attempt.id
        entry.updated_at = now
        claims.append(
            Claim(
                entry_id=entry.id,
                tenant_id=entry.tenant_id,
                invoice_id=entry.invoice_id,
                token=attempt.id,
                attempt=number,
                round_attempt=number - (entry.requeued_after or 0),
                channel=entry.channel,
                format=entry.format,
                destination=dict(entry.destination or {}),
                delivery_key=entry.delivery_key,
                created_at=entry.created_at,
                claimed_until=entry.claimed_until,
            )
        )
    session.flush()
    return claims


def _abandon(session: Session, entry: OutboxEntry, now: datetime, actor: Actor, max_attempts: int | None) -> bool:
    """Close the attempt of an expired claim; True when the entry was dead-lettered for it."""
    detail = (
        f"no report from worker {entry.claimed_by} before its lease ran out at "
        f"{entry.claimed_until.isoformat() if entry.claimed_until else '?'}; it stopped mid-send, "
        "so the receiver may have the message: the re-send carries the same delivery key"
    )
    attempt = _attempt(session, entry.tenant_id, entry.claim_token)
    if attempt is not None and attempt.finished_at is None:
        attempt.finished_at = now
        attempt.outcome = AttemptOutcome.ABANDONED.value
        attempt.detail = detail
    audit = AuditLog(session, entry.tenant_id)
    audit.append(actor, "delivery.attempt", "invoice", entry.invoice_id, {
        "delivery": str(entry.id), "attempt": entry.attempts, "outcome": AttemptOutcome.ABANDONED.value,
        "worker": entry.claimed_by,
    })
    spent = entry.attempts - (entry.requeued_after or 0)
    if max_attempts is None or spent < max_attempts:
        return False
    reason = f"gave up after {spent} attempt(s): the last one was abandoned ({detail})"
    _close(entry, OutboxStatus.DEAD, now, None, reason)
    audit.append(actor, "delivery.dead", "invoice", entry.invoice_id, {"delivery": str(entry.id), "reason": reason})
    session.flush()
    roll_up_invoice(session, entry.tenant_id, entry.invoice_id, actor)
    return True


def renew(session: Session, tokens: Iterable[uuid.UUID], until: datetime) -> int:
    """Extend the leases of claims still held (by token) to `until`; returns how many were extended."""
    wanted = list(tokens)
    if not wanted:
        return 0
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.claim_token.in_(wanted), OutboxEntry.status == OutboxStatus.SENDING.value)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def finish(session: Session, claim: Claim, report: Report, actor: Actor) -> bool:
    """Record how the claimed attempt ended and move the entry on; False if the claim was lost meanwhile.

    A claim is lost when its lease ran out and another worker took the entry
    (this worker was paused longer than its lease). The attempt is still
    recorded as it happened, but the entry is left to its new holder.
    """
    detail = None if report.detail is None else report.detail[:MAX_DETAIL]
    attempt = _attempt(session, claim.tenant_id, claim.token)
    if attempt is not None:
        attempt.finished_at = report.finished_at
        attempt.outcome = report.outcome.value
        attempt.remote_id = None if report.remote_id is None else report.remote_id[:300]
        attempt.detail = detail
    entry = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.tenant_id == claim.tenant_id, OutboxEntry.id == claim.entry_id)
        .with_for_update()
    ).one()
    held = entry.claim_token == claim.token and entry.status == OutboxStatus.SENDING.value
    audit = AuditLog(session, claim.tenant_id)
    record: dict[str, Any] = {
        "delivery": str(entry.id), "attempt": claim.attempt, "outcome": report.outcome.value,
        "status": report.status.value if held else entry.status, "remote_id": report.remote_id,
    }
    if report.next_attempt_at is not None and held:
        record["next_attempt_at"] = report.next_attempt_at.isoformat()
    if report.outcome is not AttemptOutcome.OK:
        record["error"] = (detail or "")[:500]
    if not held:
        record["claim_lost"] = True
    audit.append(actor, "delivery.attempt", "invoice", entry.invoice_id, record)
    if not held:
        session.flush()
        return False
    last_error = None if report.outcome is AttemptOutcome.OK else detail
    _close(entry, report.status, report.finished_at, report.next_attempt_at, last_error)
    if report.status is OutboxStatus.DEAD:
        audit.append(actor, "delivery.dead", "invoice", entry.invoice_id,
                     {"delivery": str(entry.id), "reason": (detail or "")[:500]})
    session.flush()
    roll_up_invoice(session, claim.tenant_id, claim.invoice_id, actor)
    return True


def _close(entry: OutboxEntry, status: OutboxStatus, now: datetime, next_attempt_at: datetime | None,
           last_error: str | None) -> None:
    """Release the claim and put the entry in its new status."""
    entry.status = status.value
    entry.next_attempt_at = next_attempt_at
    entry.last_error = last_error
    entry.claimed_by = None
    entry.claimed_until = None
    entry.claim_token = None
    entry.updated_at = now


def _attempt(session: Session, tenant_id: uuid.UUID, attempt_id: uuid.UUID | None) -> DeliveryAttempt | None:
    if attempt_id is None:
        return None
    return session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.tenant_id == tenant_id, DeliveryAttempt.id == attempt_id)
    ).one_or_none()


def roll_up_invoice(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor) -> None:
    """Move the invoice to what its deliveries say: failed if one is dead, sent or delivered when all are done.

    Only an invoice the dispatch owns (queued, sent, delivered, failed) is
    moved; one still held for approval, say, is left alone. The invoice row
    is locked first, so two deliveries of one invoice finishing at the same
    moment take turns, and the second sees the first's status.
    """
    record = session.scalars(
        select(InvoiceRecord)
        .where(InvoiceRecord.tenant_id == tenant_id, InvoiceRecord.id == invoice_id)
        .with_for_update()
    ).one()
    if record.status not in DISPATCH_INVOICE_STATUSES:
        return
    statuses = set(
        session.scalars(
            select(OutboxEntry.status).where(OutboxEntry.tenant_id == tenant_id, OutboxEntry.invoice_id == invoice_id)
        )
    )
    if OutboxStatus.DEAD.value in statuses:
        target = InvoiceStatus.FAILED
    elif statuses and statuses <= {OutboxStatus.DELIVERED.value}:
        target = InvoiceStatus.DELIVERED
    elif statuses and statuses <= {OutboxStatus.SENT.value, OutboxStatus.DELIVERED.value}:
        target = InvoiceStatus.SENT
    else:
        target = InvoiceStatus.QUEUED
    Invoices(session, tenant_id).set_status(record.id, target, actor, reason="deliveries")
