"""Number committed events in commit order, and queue them for the webhook subscriptions that want them.

Why not a database sequence as the cursor: PostgreSQL hands out sequence
values when rows are inserted, and transactions commit in another order, so
a reader could see event 11 committed, move its cursor past 10, and never
see 10 when its transaction commits a moment later. Here `seq` is given
after commit, by one transaction at a time (it locks the single
`event_sequencer` row; on SQLite every writing transaction is serialised
anyway), and each run numbers only events already committed, above every
number handed out before. A `seq` is therefore never followed by a smaller
one becoming visible: the feed's cursor is safe under concurrent writers.
Each event also gets `tenant_seq`, the same order counted within its tenant:
that is the cursor a tenant sees, so it learns nothing of other tenants.

The same transaction queues one webhook delivery per enabled subscription
whose event types match, so the feed and the webhooks see one order.
Any process may run it: the webhook worker at every poll, the feed before
it reads.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from aiguillage.store.event_models import (
    EventRecord,
    EventSequencer,
    WebhookDelivery,
    WebhookSubscription,
)

SEQUENCER_ID = 1
#: Events numbered per run; a run takes milliseconds, so a feed reader never waits long behind one.
BATCH = 2000


def pending(session: Session) -> bool:
    """True when some committed event has no number yet (cheap: one indexed look-up)."""
    return session.scalar(select(EventRecord.number).where(EventRecord.seq.is_(None)).limit(1)) is not None


def sequence_pending(session: Session, now: datetime, *, limit: int = BATCH) -> int:
    """Number up to `limit` committed events and fan them out; returns how many. Commit right after."""
    query = select(EventSequencer).where(EventSequencer.id == SEQUENCER_ID).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    sequencer = session.scalars(query).one()
    # Read after the lock: in READ COMMITTED this statement sees what every earlier run committed.
    rows = session.execute(
        select(EventRecord.number, EventRecord.id, EventRecord.tenant_id, EventRecord.type, EventRecord.invoice_id)
        .where(EventRecord.seq.is_(None))
        .order_by(EventRecord.number)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    first = sequencer.last_seq + 1
    numbered = [(row, first + index) for index, row in enumerate(rows)]
    last_of_tenant = dict(session.execute(
        select(EventRecord.tenant_id, func.max(EventRecord.tenant_seq))
        .where(EventRecord.tenant_id.in_({row.tenant_id for row in rows}))
        .group_by(EventRecord.tenant_id)
    ).all())
    values = []
    for row, seq in numbered:
        last_of_tenant[row.tenant_id] = (last_of_tenant.get(row.tenant_id) or 0) + 1
        values.append({"number": row.number, "seq": seq, "tenant_seq": last_of_tenant[row.tenant_id]})
    session.execute(update(EventRecord), values)
    sequencer.last_seq = first + len(rows) - 1
    _fan_out(session, numbered, now)
    session.flush()
    return len(rows)


def _fan_out(session: Session, numbered: list, now: datetime) -> None:
    """One pending delivery per (event, enabled subscription of its tenant that wants its type)."""
    tenants = {row.tenant_id for row, _ in numbered}
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.tenant_id.in_(tenants),
                                          WebhookSubscription.status == "enabled")
    ).all()
    if not subscriptions:
        return
    by_tenant: dict = {}
    for subscription in subscriptions:
        by_tenant.setdefault(subscription.tenant_id, []).append(subscription)
    values = [
        {"id": uuid.uuid4(), "tenant_id": row.tenant_id, "subscription_id": subscription.id, "event_id": row.id,
         "event_seq": seq, "invoice_id": row.invoice_id, "status": "pending", "attempts": 0,
         "next_attempt_at": now, "replay": False, "created_at": now}
        for row, seq in numbered
        for subscription in by_tenant.get(row.tenant_id, ())
        if not subscription.event_types or row.type in subscription.event_types
    ]
    if values:
        session.execute(insert(WebhookDelivery), values)
