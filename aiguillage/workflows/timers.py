"""Fire due workflow timers: the `aiguillage timers` command and the dispatch worker call this.

Timers are rows (`workflow_timers`), so they survive restarts and any
process may fire them; the clock is a parameter, so tests move time
instead of waiting. Each timer is fired in its own savepoint: one whose
session has moved on (the invoice was approved before its escalation fell
due) is marked `refused` and the others still fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.errors import NotFound
from aiguillage.store.workflow_models import WorkflowState, WorkflowTimer
from aiguillage.workflows.runtime import EventNotAllowed
from aiguillage.workflows.sessions import Workflows

#: Who acts when a timer fires (in the audit log).
TIMERS = Actor("timers")


@dataclass(frozen=True)
class Fired:
    """What one call fired: counts by outcome."""

    fired: int = 0
    refused: int = 0


def fire_due_timers(session: Session, now: datetime, *, limit: int = 500) -> Fired:
    """Post every timer due at `now` (oldest first, at most `limit`) to its session; the caller commits.

    On PostgreSQL, due rows are locked with SKIP LOCKED, so several workers
    firing at once never fire the same timer twice.
    """
    query = (
        select(WorkflowTimer)
        .where(WorkflowTimer.fired.is_(False), WorkflowTimer.due_at <= now)
        .order_by(WorkflowTimer.due_at, WorkflowTimer.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    fired = refused = 0
    for timer in list(session.scalars(query)):
        row = session.get(WorkflowState, timer.workflow_id)
        outcome = "fired"
        if row is None:
            outcome = "refused"
        else:
            try:
                with session.begin_nested():
                    Workflows(session, row.tenant_id).post(row.kind, row.sid, dict(timer.event), TIMERS, now=now)
            except (EventNotAllowed, NotFound):
                outcome = "refused"
        if not timer.fired:  # the event itself may have cancelled or replaced it
            timer.fired, timer.fired_at, timer.outcome = True, now, outcome
        fired += outcome == "fired"
        refused += outcome == "refused"
        session.flush()
    return Fired(fired, refused)
