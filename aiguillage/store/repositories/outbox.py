"""The outbox: deliveries to make, and every attempt at making them.

Entries are written in the same transaction as the decision that routed the
invoice (the transactional-outbox pattern), so a routed invoice always has
its deliveries queued and a crash can only cause a resend, never a loss. The
`delivery_key` de-duplicates: queueing the same delivery twice returns the
first entry. Claiming due entries across tenants is the worker's job
(`repositories.claims`); everything here is per tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.models import DeliveryAttempt, InvoiceRecord, OutboxEntry
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size
from aiguillage.store.repositories.claims import roll_up_invoice
from aiguillage.store.vocabulary import AttemptOutcome, OutboxStatus

#: The channels an entry can name (one adapter module each, issue 7).
CHANNELS = frozenset({"peppol", "edi", "email", "print", "fax", "portal", "pa"})


@dataclass(frozen=True)
class Queued:
    """The outcome of `enqueue`: the entry, and whether this call queued it."""

    entry: OutboxEntry
    created: bool


@dataclass(frozen=True)
class DeliveryView:
    """One delivery as people and the API see it: the entry and every attempt at it, in order."""

    entry: OutboxEntry
    attempts: list[DeliveryAttempt]


def deliveries_for_invoice(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID | str) -> list[DeliveryView]:
    """Every delivery of the tenant's invoice with its attempts (what `GET /v1/invoices/{id}` shows).

    `NotFound` for an invoice the tenant does not have.
    """
    return Outbox(session, tenant_id).deliveries(invoice_id)


class Outbox(TenantScoped):
    """A tenant's outbox entries and delivery attempts."""

    noun = "delivery"

    def enqueue(
        self,
        invoice_id: uuid.UUID,
        channel: str,
        destination: dict[str, Any],
        delivery_key: str,
        actor: Actor,
        *,
        format: str | None = None,  # noqa: A002 - the column's name
        decision_id: uuid.UUID | None = None,
        not_before: datetime | None = None,
    ) -> Queued:
        """Queue one delivery of an invoice; the same `delivery_key` queues nothing new."""
        if channel not in CHANNELS:
            raise Invalid(f"unknown channel {channel!r}: expected one of {', '.join(sorted(CHANNELS))}")
        invoice = self._get(InvoiceRecord, invoice_id, noun="invoice")
        existing = self._by_key(delivery_key)
        if existing is not None:
            return Queued(existing, created=False)
        entry = OutboxEntry(
            tenant_id=self.tenant_id,
            invoice_id=invoice.id,
            decision_id=decision_id,
            channel=channel,
            format=format,
            destination=destination,
            delivery_key=delivery_key,
            status=OutboxStatus.PENDING.value,
            next_attempt_at=not_before or utcnow(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(entry)
        except IntegrityError:
            existing = self._by_key(delivery_key)
            if existing is None:
                raise
            return Queued(existing, created=False)
        self._audit(actor, "delivery.queue", invoice.id, {"delivery": str(entry.id), "channel": channel})
        return Queued(entry, created=True)

    def get(self, entry_id: uuid.UUID | str) -> OutboxEntry:
        """One entry, or `NotFound`."""
        return self._get(OutboxEntry, entry_id)

    def for_invoice(self, invoice_id: uuid.UUID) -> list[OutboxEntry]:
        """The invoice's deliveries, oldest first."""
        return list(
            self.session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.tenant_id == self.tenant_id, OutboxEntry.invoice_id == invoice_id)
                .order_by(OutboxEntry.created_at, OutboxEntry.channel)
            )
        )

    def attempts(self, entry_id: uuid.UUID | str) -> list[DeliveryAttempt]:
        """Every attempt at one delivery, in order."""
        entry = self.get(entry_id)
        return list(
            self.session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.tenant_id == self.tenant_id, DeliveryAttempt.outbox_id == entry.id)
                .order_by(DeliveryAttempt.number)
            )
        )

    def record_attempt(
        self,
        entry_id: uuid.UUID | str,
        outcome: AttemptOutcome | str,
        actor: Actor,
        *,
        started_at: datetime,
        finished_at: datetime | None = None,
        remote_id: str | None = None,
        detail: str | None = None,
        status: OutboxStatus | str,
        next_attempt_at: datetime | None = None,
    ) -> DeliveryAttempt:
        """Keep one attempt and move the entry to `status` (retry time, sent, dead, …)."""
        entry = self.get(entry_id)
        outcome = AttemptOutcome(outcome)
        number = 1 + (
            self.session.scalar(
                select(func.max(DeliveryAttempt.number)).where(
                    DeliveryAttempt.tenant_id == self.tenant_id, DeliveryAttempt.outbox_id == entry.id
                )
            )
            or 0
        )
        attempt = DeliveryAttempt(
            tenant_id=self.tenant_id,
            outbox_id=entry.id,
            number=number,
            started_at=started_at,
            finished_at=finished_at or utcnow(),
            outcome=outcome.value,
            remote_id=remote_id,
            detail=detail,
        )
        self.session.add(attempt)
        entry.attempts = number
        entry.status = OutboxStatus(status).value
        entry.next_attempt_at = next_attempt_at
        entry.last_error = None if outcome is AttemptOutcome.OK else detail
        entry.updated_at = utcnow()
        self.session.flush()
        self._audit(
            actor,
            "delivery.attempt",
            entry.invoice_id,
            {"delivery": str(entry.id), "attempt": number, "outcome": outcome.value, "status": entry.status},
        )
        return attempt

    def deliveries(self, invoice_id: uuid.UUID | str) -> list[DeliveryView]:
        """The invoice's deliveries, oldest first, each with its attempts (two queries, whatever the count)."""
        invoice = self._get(InvoiceRecord, invoice_id, noun="invoice")
        entries = self.for_invoice(invoice.id)
        return self._views(entries)

    def view(self, entry_id: uuid.UUID | str) -> DeliveryView:
        """One delivery with its attempts, or `NotFound`."""
        return self._views([self.get(entry_id)])[0]

    def page(
        self,
        *,
        status: OutboxStatus | str | None = None,
        invoice_id: uuid.UUID | None = None,
        after: uuid.UUID | str | None = None,
        limit: int | None = None,
    ) -> list[OutboxEntry]:
        """Entries oldest first, optionally in one status or of one invoice; `after` (an entry id) continues."""
        query = select(OutboxEntry).where(OutboxEntry.tenant_id == self.tenant_id)
        if status is not None:
            query = query.where(OutboxEntry.status == OutboxStatus(status).value)
        if invoice_id is not None:
            query = query.where(OutboxEntry.invoice_id == invoice_id)
        if after is not None:
            last = self.get(after)
            query = query.where(
                (OutboxEntry.created_at > last.created_at)
                | ((OutboxEntry.created_at == last.created_at) & (OutboxEntry.id > last.id))
            )
        query = query.order_by(OutboxEntry.created_at, OutboxEntry.id).limit(page_size(limit))
        return list(self.session.scalars(query))

    def requeue(self, entry_id: uuid.UUID | str, actor: Actor, *, now: datetime | None = None) -> OutboxEntry:
        """Queue a dead-lettered delivery again, due now, with a fresh round of attempts.

        `Conflict` unless the entry is dead: anything else is still in the
        worker's hands or already done. The attempts so far stay, numbered on.
        """
        entry = self.get(entry_id)
        if entry.status != OutboxStatus.DEAD.value:
            raise Conflict(f"delivery {entry.id} is {entry.status}; only a dead-lettered delivery can be retried")
        now = now or utcnow()
        entry.status = OutboxStatus.PENDING.value
        entry.next_attempt_at = now
        entry.requeued_after = entry.attempts
        entry.updated_at = now
        self.session.flush()
        self._audit(actor, "delivery.retry", entry.invoice_id,
                    {"delivery": str(entry.id), "after_attempts": entry.attempts, "last_error": entry.last_error})
        roll_up_invoice(self.session, self.tenant_id, entry.invoice_id, actor)
        return entry

    def _views(self, entries: list[OutboxEntry]) -> list[DeliveryView]:
        if not entries:
            return []
        attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {entry.id: [] for entry in entries}
        for attempt in self.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.tenant_id == self.tenant_id, DeliveryAttempt.outbox_id.in_(list(attempts)))
            .order_by(DeliveryAttempt.outbox_id, DeliveryAttempt.number)
        ):
            attempts[attempt.outbox_id].append(attempt)
        return [DeliveryView(entry, attempts[entry.id]) for entry in entries]

    def _by_key(self, delivery_key: str) -> OutboxEntry | None:
        return self.session.scalars(
            select(OutboxEntry).where(OutboxEntry.tenant_id == self.tenant_id, OutboxEntry.delivery_key == delivery_key)
        ).one_or_none()

    def _audit(self, actor: Actor, action: str, invoice_id: uuid.UUID, detail: dict[str, Any]) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "invoice", invoice_id, detail)
