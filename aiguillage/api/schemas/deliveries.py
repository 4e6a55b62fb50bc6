"""Delivery bodies: one delivery (an outbox entry) with its attempts, pages of them, the list filter.

`Delivery.from_view` is also what `GET /v1/invoices/{id}` uses to show an
invoice's deliveries (`store.repositories.outbox.deliveries_for_invoice`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiguillage.api.schemas.common import Request
from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.outbox import DeliveryView

DeliveryState = Literal["pending", "sending", "sent", "delivered", "failed", "retrying", "dead"]
AttemptState = Literal["started", "ok", "failed", "timeout", "abandoned"]


class DeliveryAttempt(BaseModel):
    """One try at sending: when, how it ended, what the counterpart called it or said."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    finished_at: datetime | None = Field(description="Null while the attempt is under way")
    outcome: AttemptState
    remote_id: str | None = Field(description="The counterpart's id: Message-ID, access point message id, file path")
    detail: str | None = Field(description="The counterpart's answer, or the error")
    worker: str | None = Field(description="The worker process that made the attempt (host:pid)")


class DeliverySummary(BaseModel):
    """One delivery of an invoice down one channel."""

    id: uuid.UUID
    invoice_id: uuid.UUID
    channel: str
    format: str | None
    delivery_key: str = Field(description="De-duplication key; every id the receiver sees derives from it")
    status: DeliveryState
    attempt_count: int = Field(description="Attempts so far, including any before a manual retry")
    next_attempt_at: datetime | None = Field(description="When a pending or retrying delivery is due")
    last_error: str | None = Field(description="Why the last attempt failed; for a dead delivery, why it was given up")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_entry(cls, entry: OutboxEntry) -> DeliverySummary:
        """The body for a stored outbox entry."""
        return DeliverySummary(
            id=entry.id, invoice_id=entry.invoice_id, channel=entry.channel, format=entry.format,
            delivery_key=entry.delivery_key, status=entry.status, attempt_count=entry.attempts,
            next_attempt_at=entry.next_attempt_at, last_error=entry.last_error, created_at=entry.created_at,
            updated_at=entry.updated_at,
        )


class Delivery(DeliverySummary):
    """A delivery with every attempt at it, oldest first."""

    attempts: list[DeliveryAttempt]

    @classmethod
    def from_view(cls, view: DeliveryView) -> Delivery:
        """The body for a delivery and its attempts, as the store returns them."""
        summary = DeliverySummary.from_entry(view.entry)
        return cls(**summary.model_dump(), attempts=[DeliveryAttempt.model_validate(a) for a in view.attempts])


class DeliveryQuery(Request):
    """Filter deliveries; page with `after`."""

    status: DeliveryState | None = Field(None, description="Only deliveries in this status (e.g. dead)")
    invoice_id: uuid.UUID | None = Field(None, description="Only the deliveries of this invoice")
    after: uuid.UUID | None = Field(None, description="Continue after this delivery (the previous page's `next`)")
    limit: int = Field(100, ge=1, le=500)


class DeliveryPage(BaseModel):
    """Deliveries, oldest first."""

    items: list[DeliverySummary]
    next: uuid.UUID | None = Field(description="Pass as `after` for more; null when there are no more")
