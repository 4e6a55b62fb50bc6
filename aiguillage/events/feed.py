"""A tenant's events after a cursor, in commit order: what `GET /v1/events` answers.

The cursor is an event's `tenant_seq` (see `sequencer`). `next` is where to
continue: the last event returned when the page is full, otherwise the
tenant's horizon (the sequencer numbers in one transaction at a time, so
every number up to the highest visible one has committed), so a reader
filtering on a few types does not re-scan the same events.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aiguillage.events.types import EventBase, envelope
from aiguillage.store.errors import NotFound
from aiguillage.store.event_models import EventRecord


@dataclass(frozen=True)
class FeedPage:
    events: list[EventRecord]
    next: int


def read_feed(session: Session, tenant_id: uuid.UUID, *, after: int, types: Sequence[str] | None = None,
              limit: int = 100, invoice_id: uuid.UUID | None = None) -> FeedPage:
    """Up to `limit` numbered events of the tenant after `after`, oldest first."""
    horizon = session.scalar(select(func.max(EventRecord.tenant_seq)).where(EventRecord.tenant_id == tenant_id)) or 0
    query = select(EventRecord).where(EventRecord.tenant_id == tenant_id, EventRecord.tenant_seq > after,
                                      EventRecord.tenant_seq <= horizon)
    if types:
        query = query.where(EventRecord.type.in_(list(types)))
    if invoice_id is not None:
        query = query.where(EventRecord.invoice_id == invoice_id)
    rows = list(session.scalars(query.order_by(EventRecord.tenant_seq).limit(limit)))
    if len(rows) == limit:
        return FeedPage(rows, rows[-1].tenant_seq or after)
    return FeedPage(rows, max(after, horizon))


def get_event(session: Session, tenant_id: uuid.UUID, event_id: uuid.UUID) -> EventRecord:
    """The tenant's event with this id (NotFound also for another tenant's, or one not yet numbered)."""
    row = session.scalars(select(EventRecord).where(EventRecord.tenant_id == tenant_id, EventRecord.id == event_id,
                                                    EventRecord.seq.is_not(None))).one_or_none()
    if row is None:
        raise NotFound(f"no event with id {event_id}")
    return row


def to_model(row: EventRecord) -> EventBase:
    """The event as the ERP sees it (feed item and webhook body)."""
    return envelope(event_id=row.id, type_name=row.type, seq=row.tenant_seq or 0, occurred_at=row.occurred_at,
                    invoice_id=row.invoice_id, invoice_number=row.invoice_number, payload=row.payload)


def body_of(row: EventRecord) -> bytes:
    """The exact bytes a webhook sends (and signs) for the event."""
    return to_model(row).model_dump_json().encode()
