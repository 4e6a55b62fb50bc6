"""Tell an invoice's delivery statechart how an attempt ended, in the transaction that recorded it.

The outbox entry is the source of truth for sending; the delivery workflow
(`workflows.charts`, "queued → sent → delivered, or failed → retrying →
dead") is the view people and other workflows follow. So a workflow that
refuses the event (an invoice with two routes, one already delivered) or
fails for any other reason must never undo the attempt's record: the event
is posted inside a savepoint, and a failure is logged and rolled back alone.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.repositories.claims import Claim, Report
from aiguillage.store.vocabulary import OutboxStatus

log = logging.getLogger("aiguillage.worker")

#: The entry's new status → the delivery workflow's event and whether it is final (dead).
EVENTS: dict[OutboxStatus, tuple[str, bool]] = {
    OutboxStatus.SENT: ("sent", False),
    OutboxStatus.DELIVERED: ("delivered", False),
    OutboxStatus.RETRYING: ("failed", False),
    OutboxStatus.DEAD: ("failed", True),
}


def report_to_workflow(session: Session, claim: Claim, report: Report, actor: Actor, now: datetime) -> str | None:
    """Post the attempt's outcome to the invoice's delivery workflow; its new state, or None if not moved.

    A workflow not started yet (or left dead, then retried by hand: the
    claim proves the entry was queued again) is queued first, so the
    attempt's event is always one the chart can take.
    """
    mapped = EVENTS.get(report.status)
    if mapped is None:
        return None
    action, final = mapped
    from aiguillage.workflows.sessions import Workflows, invoice_sid
    from aiguillage.workflows.starting import delivery_event

    try:
        with session.begin_nested():
            row = Workflows(session, claim.tenant_id).find("delivery", invoice_sid(claim.invoice_id))
            status = row.status if row is not None else None
            if status in (None, "new"):
                delivery_event(session, claim.tenant_id, claim.invoice_id, "queue", actor, now=now)
            elif status == "dead":
                delivery_event(session, claim.tenant_id, claim.invoice_id, "requeue", actor, now=now)
            posted = delivery_event(session, claim.tenant_id, claim.invoice_id, action, actor, final=final,
                                    reason=(report.detail or "")[:500] if action == "failed" else "", now=now)
            return posted.row.status
    except Exception as exc:  # noqa: BLE001 - the attempt's record stands whatever the workflow says
        log.info("delivery %s: the delivery workflow did not take %r: %s", claim.entry_id, action, exc)
        return None
