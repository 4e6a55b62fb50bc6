"""Starting an invoice's workflows from its stored decision, and the actions people and machines take.

One function per thing that happens to an invoice (approve, reject, raise a
query, …), each posting one complete event to the invoice's session in
the caller's transaction. The API, the worker and the timers all come here,
so a transition means the same wherever it is asked for.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.workflow_models import WorkflowState
from aiguillage.workflows.effects import _latest_decision
from aiguillage.workflows.events import event
from aiguillage.workflows.policy import DEFAULTS, Policy, policy_from_decision
from aiguillage.workflows.sessions import Posted, Workflows, invoice_sid

log = logging.getLogger(__name__)


def _policy(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> tuple[Policy, dict[str, Any] | None]:
    """The decision's workflow policy; a malformed parameter ("48 hours") falls back to the defaults.

    The checker knows an approval's parameters but not the routes', so a bad
    route parameter surfaces only here: it must not undo the decision being
    recorded in this transaction.
    It is logged, and the audit keeps the message (see `start_workflows`).
    """
    decision = _latest_decision(session, tenant_id, invoice_id)
    if decision is None:
        return DEFAULTS, None
    try:
        return policy_from_decision(decision.result), decision.result
    except Invalid as exc:
        log.warning("invoice %s: workflow parameters ignored: %s", invoice_id, exc.message)
        return DEFAULTS, dict(decision.result, policy_error=exc.message)


def start_workflows(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor,
                    now: datetime | None = None) -> list[WorkflowState]:
    """Start what the invoice's latest decision asks for; starting twice starts nothing new.

    An `approval by "role"` hold starts the approval workflow (escalation as
    the hold's parameters, or else the routes', say); a reminder policy and a due date start the
    payment reminders once the invoice is released (at once when nothing holds it).
    """
    now = now or utcnow()
    invoice = Invoices(session, tenant_id).get(invoice_id)
    policy, result = _policy(session, tenant_id, invoice.id)
    if result is None:
        return []
    workflows = Workflows(session, tenant_id)
    started: list[WorkflowState] = []
    if result.get("policy_error"):
        AuditLog(session, tenant_id).append(actor, "workflow.policy_invalid", "invoice", invoice.id,
                                            {"severity": "warning", "message": result["policy_error"]})
    approvals = [h for h in result.get("holds") or [] if h.get("kind") == "approval" and h.get("role")]
    if approvals and workflows.find("approval", invoice_sid(invoice.id)) is None:
        start = event("start", actor=actor.name, role=approvals[0]["role"], to_role=policy.escalate_to,
                      after_s=policy.escalate_after_s if policy.escalate_to else 0)
        started.append(workflows.post("approval", invoice_sid(invoice.id), start, actor, invoice_id=invoice.id,
                                      create=True, now=now, row_known=None).row)
    if not approvals:  # a held invoice is reminded of only once it has been released
        reminder = start_reminders(session, tenant_id, invoice.id, actor, now=now, policy=policy)
        if reminder is not None:
            started.append(reminder)
    return started


def start_reminders(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                    now: datetime | None = None, policy: Policy | None = None) -> WorkflowState | None:
    """Start payment reminders when the policy asks for them and the invoice has a due date.

    The first reminder falls due at the end of the due date; None when
    nothing was started (no policy, no due date, or already started).
    """
    now = now or utcnow()
    invoice = Invoices(session, tenant_id).get(invoice_id)
    if policy is None:
        policy, _ = _policy(session, tenant_id, invoice.id)
    due = (invoice.model or {}).get("due_date")
    workflows = Workflows(session, tenant_id)
    if not (policy.remind_every_s and policy.remind_max and due):
        return None
    if workflows.find("reminder", invoice_sid(invoice.id)) is not None:
        return None
    due_end = datetime.combine(date.fromisoformat(due), time.max, tzinfo=UTC)
    start = event("start", actor=actor.name, after_s=max(0, int((due_end - now).total_seconds())),
                  every_s=policy.remind_every_s, max_count=policy.remind_max)
    return workflows.post("reminder", invoice_sid(invoice.id), start, actor, invoice_id=invoice.id,
                          create=True, now=now, row_known=None).row


def act(session: Session, tenant_id: uuid.UUID, kind: str, invoice_id: uuid.UUID, action: str, actor: Actor, *,
        now: datetime | None = None, **values: Any) -> Posted:
    """Post `action` to the invoice's `kind` workflow (NotFound if it has none, EventNotAllowed if refused)."""
    workflows = Workflows(session, tenant_id)
    row = workflows.for_invoice(kind, invoice_id)
    return workflows.post(kind, invoice_sid(invoice_id), event(action, actor=actor.name, **values), actor,
                          now=now, row_known=row)


def approve(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
            now: datetime | None = None) -> Posted:
    """Approve a held invoice: its routes are queued in the same transaction."""
    return act(session, tenant_id, "approval", invoice_id, "approve", actor, now=now)


def reject(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, reason: str, *,
           now: datetime | None = None) -> Posted:
    """Reject a held invoice: it is never sent."""
    return act(session, tenant_id, "approval", invoice_id, "reject", actor, now=now, reason=reason)


def raise_query(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, reason: str, *,
                now: datetime | None = None) -> Posted:
    """Open a query on an invoice (or reopen an answered one); its SLA timer starts, reminders pause."""
    workflows = Workflows(session, tenant_id)
    Invoices(session, tenant_id).get(invoice_id)
    sid = invoice_sid(invoice_id)
    policy, _ = _policy(session, tenant_id, invoice_id)
    message = event("raise", actor=actor.name, reason=reason, after_s=policy.query_sla_s)
    if workflows.find("query", sid) is not None:
        return workflows.post("query", sid, message, actor, now=now)
    return workflows.post("query", sid, message, actor, invoice_id=invoice_id, create=True, now=now)


def answer_query(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, answer: str, *,
                 now: datetime | None = None) -> Posted:
    return act(session, tenant_id, "query", invoice_id, "answer", actor, now=now, reason=answer)


def resolve_query(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, resolution: str,
                  credit_note: str | None = None, *, now: datetime | None = None) -> Posted:
    """Close a query, optionally naming the credit note that settled it; reminders resume."""
    return act(session, tenant_id, "query", invoice_id, "resolve", actor, now=now, reason=resolution,
               credit_note=credit_note or "")


def record_payment(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                   now: datetime | None = None) -> Posted | None:
    """The invoice is paid: its reminders stop (None when it had none)."""
    try:
        return act(session, tenant_id, "reminder", invoice_id, "paid", actor, now=now)
    except NotFound:
        return None


def delivery_event(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, action: str, actor: Actor, *,
                   final: bool = False, reason: str = "", now: datetime | None = None) -> Posted:
    """Hook for the dispatch worker: "queue", "sent", "delivered", "failed" (final → dead), "requeue"."""
    workflows = Workflows(session, tenant_id)
    sid = invoice_sid(invoice_id)
    message = event(action, actor=actor.name, final=1 if final else 0, reason=reason)
    if workflows.find("delivery", sid) is None:
        Invoices(session, tenant_id).get(invoice_id)
        return workflows.post("delivery", sid, message, actor, invoice_id=invoice_id, create=True, now=now)
    return workflows.post("delivery", sid, message, actor, now=now)
