"""Events from the dispatch worker's attempts and from the workflows' transitions.

Called in the transaction that records the attempt or saves the workflow
session, so the event commits with the change. What maps to what:

- an attempt ending `sent`, `delivered`, `retrying` or `dead` → `delivery.sent`,
  `delivery.delivered`, `delivery.failed` (with the next attempt's time), `delivery.dead`;
- approval `approve` → `approval.approved` (and `invoice.released` once its routes are queued),
  `reject` → `approval.rejected`; query `raise` → `query.opened`, `answer` → `query.answered`,
  `resolve` → `query.resolved`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from aiguillage.events.record import _text, record

#: Outbox status after an attempt → event type.
_DELIVERY_TYPES = {
    "sent": "delivery.sent",
    "delivered": "delivery.delivered",
    "retrying": "delivery.failed",
    "dead": "delivery.dead",
}


class _Claim(Protocol):
    entry_id: uuid.UUID
    tenant_id: uuid.UUID
    invoice_id: uuid.UUID
    attempt: int
    channel: str
    format: str | None


class _Report(Protocol):
    status: Any
    finished_at: datetime
    remote_id: str | None
    detail: str | None
    next_attempt_at: datetime | None


def delivery_attempt(session: Session, claim: _Claim, report: _Report) -> None:
    """The event an attempt's outcome means for the ERP (none for an outcome it need not hear of)."""
    status = getattr(report.status, "value", report.status)
    type_name = _DELIVERY_TYPES.get(status)
    if type_name is None:
        return
    failed = type_name in ("delivery.failed", "delivery.dead")
    record(session, claim.tenant_id, type_name, {
        "delivery_id": claim.entry_id, "channel": claim.channel, "format": claim.format, "attempt": claim.attempt,
        "remote_id": report.remote_id, "error": _text(report.detail) if failed else None,
        "next_attempt_at": report.next_attempt_at if type_name == "delivery.failed" else None,
    }, invoice_id=claim.invoice_id, at=report.finished_at)


def delivery_abandoned_dead(session: Session, entry: Any, reason: str) -> None:
    """`delivery.dead` for an entry dead-lettered because its last attempt was abandoned (the worker died
    mid-send on every try): no report ever came, so `delivery_attempt` never saw it."""
    record(session, entry.tenant_id, "delivery.dead", {
        "delivery_id": entry.id, "channel": entry.channel, "format": entry.format, "attempt": entry.attempts,
        "remote_id": None, "error": _text(reason), "next_attempt_at": None,
    }, invoice_id=entry.invoice_id)


def workflow_event(session: Session, tenant_id: uuid.UUID, kind: str, message: dict[str, Any], row: Any,
                   now: datetime) -> None:
    """The events one workflow transition means (`row` is the saved `WorkflowState`)."""
    invoice_id = row.invoice_id
    if invoice_id is None:
        return
    action = message.get("action")
    state = (row.state or {}).get("state") or {}
    by = _text(message.get("actor"))
    found: list[tuple[str, dict[str, Any]]] = []
    if kind == "approval" and action == "approve":
        found.append(("approval.approved", {"by": by}))
        if row.status == "released":
            found.append(("invoice.released", {"by": by}))
    elif kind == "approval" and action == "reject":
        found.append(("approval.rejected", {"by": by, "reason": _text(message.get("reason"))}))
    elif kind == "query" and action == "raise":
        found.append(("query.opened", {"by": by, "reason": _text(message.get("reason"))}))
    elif kind == "query" and action == "answer":
        found.append(("query.answered", {"by": by, "answer": _text(message.get("reason"))}))
    elif kind == "query" and action == "resolve":
        found.append(("query.resolved", {"by": by, "resolution": _text(message.get("reason")),
                                         "credit_note": _text(state.get("credit_note"))}))
    for type_name, data in found:
        record(session, tenant_id, type_name, data, invoice_id=invoice_id, at=now)
