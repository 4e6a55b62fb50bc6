"""Tables of the invoice workflows: the saved durable_rules sessions and their timers.

durable_rules keeps sessions in memory and breaks past 1,024 live ones per
ruleset (see DESIGN.md), so a session lives here between events and only
for the length of one event in the engine. `version` gives optimistic
locking: two processes posting to the same session cannot both win. Timers
are rows, not engine timers, so they survive restarts and any process
(`aiguillage timers`, the dispatch worker) can fire them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, JsonDocument, UtcDateTime, new_id, utcnow


class WorkflowState(Base):
    """One workflow session: an invoice's approval, query, delivery or reminders, or a correlation window."""

    __tablename__ = "workflow_states"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "sid"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        Index("ix_workflow_states_queue", "tenant_id", "kind", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: The invoice the session is about; None for a correlation session (one per tenant and customer).
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    #: "approval", "query", "delivery", "reminder" or "correlation".
    kind: Mapped[str] = mapped_column(String(16))
    #: The durable_rules session id (unique per tenant and kind).
    sid: Mapped[str] = mapped_column(String(200))
    #: The statechart's current state, for queues and listings ("held", "open", …).
    status: Mapped[str] = mapped_column(String(24))
    #: Who must act now (an approval's role), for the approver's queue.
    role: Mapped[str | None] = mapped_column(String(64))
    #: The durable_rules session: {"state": …, "facts": […], "events": […]}.
    state: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    #: Bumped by every saved event; a save from a stale read fails (optimistic locking).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class WorkflowTimer(Base):
    """An event to post to a session when its time comes (escalation, SLA, reminder)."""

    __tablename__ = "workflow_timers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "workflow_id"], ["workflow_states.tenant_id", "workflow_states.id"], ondelete="CASCADE"
        ),
        Index("ix_workflow_timers_due", "fired", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: What the timer is for ("escalate", "sla", "remind"); a new timer of a name replaces the pending one.
    name: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The event posted to the session when due (every attribute the rules test).
    event: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    #: Set once fired, or cancelled (the session moved on); kept for the record.
    fired: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: "fired", "cancelled" or "refused" (the session no longer accepted the event).
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
