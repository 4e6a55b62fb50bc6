"""Apply what workflow rules asked for, in the transaction that saved the session.

Rule actions only emit effects (see `runtime`); here they become rows:
timers, an invoice's status, outbox entries (releasing an approved invoice,
sending a reminder), audit entries, and events signalled to the invoice's
other workflows (a query pauses its reminders).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.errors import NotFound
from aiguillage.store.models import DecisionRecord, InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import CHANNELS, Outbox
from aiguillage.store.vocabulary import InvoiceStatus
from aiguillage.store.workflow_models import WorkflowState, WorkflowTimer
from aiguillage.workflows.destinations import destination_document, settings_from_customer
from aiguillage.workflows.runtime import Effect, EventNotAllowed


def apply(session: Session, tenant_id: uuid.UUID, row: WorkflowState, effects: list[Effect], actor: Actor,
          now: datetime) -> None:
    """Turn each effect into rows, in order."""
    for effect in effects:
        handler = _HANDLERS.get(effect.kind)
        if handler is not None:
            handler(session, tenant_id, row, effect.data, actor, now)


def _timer(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
           now: datetime) -> None:
    """Schedule an event; a pending timer of the same name is replaced (cancelled)."""
    if row.version > 1:  # a session saved only once (just started) has no timers yet
        _cancel(session, row, now, name=data["name"])
    session.add(WorkflowTimer(
        tenant_id=tenant_id, workflow_id=row.id, name=data["name"],
        due_at=now + timedelta(seconds=max(0, int(data["after_s"]))), event=data["event"], fired=False,
        created_at=now,
    ))
    session.flush()


def _cancel_timers(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
                   now: datetime) -> None:
    _cancel(session, row, now)


def _cancel(session: Session, row: WorkflowState, now: datetime, *, name: str | None = None) -> None:
    query = (
        update(WorkflowTimer)
        .where(WorkflowTimer.workflow_id == row.id, WorkflowTimer.fired.is_(False))
        .values(fired=True, fired_at=now, outcome="cancelled")
    )
    if name is not None:
        query = query.where(WorkflowTimer.name == name)
    session.execute(query, execution_options={"synchronize_session": False})


def _audit(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
           now: datetime) -> None:
    target = ("invoice", row.invoice_id) if row.invoice_id is not None else ("workflow", row.id)
    AuditLog(session, tenant_id).append(actor, data["action"], target[0], target[1], data.get("detail") or {})


def _invoice_status(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
                    now: datetime) -> None:
    if row.invoice_id is not None:
        Invoices(session, tenant_id).set_status(row.invoice_id, data["status"], actor, reason=data.get("reason"))


def _signal(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
            now: datetime) -> None:
    """Post to the invoice's other workflow; one that does not exist or does not take it is left alone."""
    from aiguillage.workflows.sessions import Workflows

    if row.invoice_id is None:
        return
    workflows = Workflows(session, tenant_id)
    with contextlib.suppress(NotFound, EventNotAllowed):
        workflows.post(data["chart"], row.sid, data["event"], actor, now=now)


def _latest_decision(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> DecisionRecord | None:
    return session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.tenant_id == tenant_id, DecisionRecord.invoice_id == invoice_id)
        .order_by(DecisionRecord.created_at.desc(), DecisionRecord.id.desc())
        .limit(1)
    ).one_or_none()


def _destination(session: Session, tenant_id: uuid.UUID, invoice: InvoiceRecord, route: dict[str, Any]) -> dict[str, Any]:
    customer = Customers(session, tenant_id).find_code(invoice.customer_code) if invoice.customer_code else None
    settings = settings_from_customer(customer) if customer is not None else None
    return destination_document(route, settings)


def _release(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
             now: datetime) -> None:
    """Queue the routes the held decision chose: the same keys submission would have used, so never twice."""
    if row.invoice_id is None:
        return
    invoices = Invoices(session, tenant_id)
    invoice = invoices.get(row.invoice_id)
    decision = _latest_decision(session, tenant_id, invoice.id)
    routes = (decision.result.get("routes") or []) if decision is not None else []
    outbox = Outbox(session, tenant_id)
    for index, route in enumerate(routes, 1):
        if route.get("channel") not in CHANNELS:
            continue
        outbox.enqueue(
            invoice.id, route["channel"], _destination(session, tenant_id, invoice, route),
            f"{invoice.id}:{index}:{route['channel']}", actor,
            format=(route.get("format") or None) and route["format"][:16],
            decision_id=decision.id if decision is not None else None, not_before=now,
        )
    status = InvoiceStatus.QUEUED if routes else InvoiceStatus.HELD
    invoices.set_status(invoice.id, status, actor, reason="approved" if routes else "approved, but no route")
    if routes:
        from aiguillage.workflows.starting import start_reminders

        start_reminders(session, tenant_id, invoice.id, actor, now=now)


def _reminder(session: Session, tenant_id: uuid.UUID, row: WorkflowState, data: dict[str, Any], actor: Actor,
              now: datetime) -> None:
    """Send reminder n through the channel the invoice went by (its decision's first route)."""
    if row.invoice_id is None:
        return
    invoice = Invoices(session, tenant_id).get(row.invoice_id)
    decision = _latest_decision(session, tenant_id, invoice.id)
    routes = [r for r in ((decision.result.get("routes") or []) if decision else []) if r.get("channel") in CHANNELS]
    number = int(data["number"])
    detail: dict[str, Any] = {"number": number}
    if routes:
        route = dict(routes[0])
        route["params"] = dict(route.get("params") or {}, reminder=number)
        queued = Outbox(session, tenant_id).enqueue(
            invoice.id, route["channel"], _destination(session, tenant_id, invoice, route),
            f"{invoice.id}:reminder:{number}:{route['channel']}", actor,
            format=(route.get("format") or None) and route["format"][:16], not_before=now,
        )
        detail.update(channel=route["channel"], delivery=str(queued.entry.id))
    else:
        detail["channel"] = None
    AuditLog(session, tenant_id).append(actor, "invoice.remind", "invoice", invoice.id, detail)


_HANDLERS = {
    "timer": _timer,
    "cancel_timers": _cancel_timers,
    "audit": _audit,
    "invoice_status": _invoice_status,
    "signal": _signal,
    "release": _release,
    "reminder": _reminder,
}
