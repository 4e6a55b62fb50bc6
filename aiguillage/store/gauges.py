"""What an operator watches, read from the store at scrape time: the same answer from every process.

Counting in the database (not in each process's memory) means the figures
survive restarts and agree between two servers and two workers on one
database. Every query is a grouped count or a min over an indexed column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aiguillage.store.base import utcnow
from aiguillage.store.models import DecisionRecord, InvoiceRecord, OutboxEntry
from aiguillage.store.vocabulary import InvoiceStatus, OutboxStatus
from aiguillage.store.workflow_models import WorkflowTimer

#: Outbox states that still have work to do.
OUTSTANDING = (OutboxStatus.PENDING.value, OutboxStatus.RETRYING.value, OutboxStatus.SENDING.value)


@dataclass
class StoreGauges:
    """One reading of the store, across tenants."""

    invoices: dict[str, int] = field(default_factory=dict)
    decisions: int = 0
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox_depth: int = 0
    outbox_oldest_age_s: float = 0.0
    received_oldest_age_s: float = 0.0
    dead_letters: int = 0
    timers_due: int = 0


def _age(now: datetime, oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands aggregates back without the column's type
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


def read_gauges(session: Session, now: datetime | None = None) -> StoreGauges:
    """Counts by invoice status, deliveries by channel and status, outbox depth and age, dead letters, timers due."""
    now = now or utcnow()
    gauges = StoreGauges()
    gauges.invoices = {s: int(n) for s, n in session.execute(
        select(InvoiceRecord.status, func.count()).group_by(InvoiceRecord.status))}
    gauges.decisions = int(session.scalar(select(func.count()).select_from(DecisionRecord)) or 0)
    gauges.deliveries = {(c, s): int(n) for c, s, n in session.execute(
        select(OutboxEntry.channel, OutboxEntry.status, func.count()).group_by(OutboxEntry.channel, OutboxEntry.status))}
    gauges.outbox_depth = sum(n for (_, s), n in gauges.deliveries.items() if s in OUTSTANDING)
    gauges.dead_letters = sum(n for (_, s), n in gauges.deliveries.items() if s == OutboxStatus.DEAD.value)
    oldest = session.scalar(select(func.min(OutboxEntry.created_at)).where(OutboxEntry.status.in_(OUTSTANDING)))
    gauges.outbox_oldest_age_s = _age(now, oldest)
    received = session.scalar(select(func.min(InvoiceRecord.received_at))
                              .where(InvoiceRecord.status == InvoiceStatus.RECEIVED.value))
    gauges.received_oldest_age_s = _age(now, received)
    gauges.timers_due = int(session.scalar(select(func.count()).select_from(WorkflowTimer).where(
        WorkflowTimer.fired.is_(False), WorkflowTimer.due_at <= now)) or 0)
    return gauges
