"""What people do from the pages, through the same calls and the same audit entries as the API.

`POST /v1/invoices/{id}/approve|reject|query|answer` call `workflows.starting`
and then append `workflow.<action>` to the audit log with the new state;
`POST /v1/deliveries/{id}/retry` calls `Outbox.requeue`. The pages do
exactly that, with the person as the actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.workflows import starting
from aiguillage.workflows.sessions import Posted


def _run(session: Session, tenant_id: uuid.UUID, actor: Actor, action: str, invoice_id: uuid.UUID,
         call: Callable[[], Posted], detail: dict[str, Any]) -> Posted:
    """Run the workflow call and audit it (EventNotAllowed propagates: the state does not take it)."""
    posted = call()
    AuditLog(session, tenant_id).append(actor, f"workflow.{action}", "invoice", invoice_id,
                                        dict(detail, state=posted.row.status))
    return posted


def approve(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID, comment: str) -> Posted:
    return _run(session, tenant_id, actor, "approve", invoice_id,
                lambda: starting.approve(session, tenant_id, invoice_id, actor), {"comment": comment or None})


def reject(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID, reason: str) -> Posted:
    return _run(session, tenant_id, actor, "reject", invoice_id,
                lambda: starting.reject(session, tenant_id, invoice_id, actor, reason), {"reason": reason})


def raise_query(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID, reason: str,
                extra: dict[str, Any]) -> Posted:
    return _run(session, tenant_id, actor, "query", invoice_id,
                lambda: starting.raise_query(session, tenant_id, invoice_id, actor, reason),
                {"reason": reason, **extra})


def answer_query(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID, answer: str) -> Posted:
    return _run(session, tenant_id, actor, "answer", invoice_id,
                lambda: starting.answer_query(session, tenant_id, invoice_id, actor, answer), {"answer": answer})


def resolve_query(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID,
                  resolution: str) -> Posted:
    return _run(session, tenant_id, actor, "resolve", invoice_id,
                lambda: starting.resolve_query(session, tenant_id, invoice_id, actor, resolution, None),
                {"resolution": resolution, "credit_note": None})


def retry_delivery(session: Session, tenant_id: uuid.UUID, actor: Actor, delivery_id: uuid.UUID) -> OutboxEntry:
    """Requeue a dead letter (`Conflict` unless it is dead), as `POST /v1/deliveries/{id}/retry` does."""
    return Outbox(session, tenant_id).requeue(delivery_id, actor)
