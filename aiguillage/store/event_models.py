"""Tables of the event feed and the webhooks (issue 19): events, their sequencer, subscriptions, deliveries.

An event row is written in the transaction of the change it describes, with
`seq` empty. The sequencer (`aiguillage.events.sequencer`) later numbers
committed events in one serialised transaction at a time, so a feed cursor
(`seq`) never passes an event that commits afterwards: PostgreSQL sequence
values commit out of order, `seq` values do not. `number` (insert order) is
what the sequencer numbers by: a transaction that saw another's effects
inserted its events after that one committed, so cause comes before effect.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, JsonDocument, UtcDateTime, new_id, utcnow

#: A 64-bit counter that is an auto-incrementing primary key on SQLite too.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class EventRecord(Base):
    """Something that happened to an invoice, told to the ERP by the feed and by webhooks."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "tenant_seq"),
        Index("ix_events_tenant_invoice", "tenant_id", "invoice_id"),
    )

    #: Insert order (the sequencer numbers committed events in this order).
    number: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    #: The event's stable public id: the webhook-id header, the receiver's de-duplication key.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    #: Commit order across tenants (webhook order); None until the sequencer has numbered it.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    #: Commit order within the tenant: the feed's cursor and the `sequence` the ERP sees (a global number
    #: would tell one tenant how busy the others are).
    tenant_seq: Mapped[int | None] = mapped_column(BigInteger)
    #: "invoice.decided", "delivery.dead", … (see `aiguillage.events.types`).
    type: Mapped[str] = mapped_column(String(48))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    invoice_number: Mapped[str | None] = mapped_column(String(200))
    #: The type's small payload (its `data`), validated against the type's schema when recorded.
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class EventSequencer(Base):
    """One row: the last `seq` handed out. Locking it serialises the sequencer (and webhook claims)."""

    __tablename__ = "event_sequencer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookSubscription(Base):
    """A tenant's endpoint that receives its events, signed with the subscription's secret."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_tenant", "tenant_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    url: Mapped[str] = mapped_column(String(2000))
    #: Event types sent; empty: every type.
    event_types: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    description: Mapped[str | None] = mapped_column(String(500))
    #: The signing secret ("whsec_" + base64), shown once when created; the worker needs it to sign.
    secret: Mapped[str] = mapped_column(String(200))
    #: "enabled" or "disabled" (by a person, or by the worker after a long failure).
    status: Mapped[str] = mapped_column(String(16))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Start of the current run of failed attempts (None after a success): disabling counts from it.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class WebhookDelivery(Base):
    """One event to send to one subscription (a replay is another row for the same event)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"], ondelete="CASCADE"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_chain", "subscription_id", "invoice_id", "event_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: The event's `seq`: deliveries of one invoice go out in this order, each after the previous succeeded.
    event_seq: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: "pending", "sending" (claimed until `claimed_until`) or "delivered".
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The receiver's HTTP status at the last attempt (None: no answer).
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: True for a delivery made by a replay request.
    replay: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
