"""What the pages show about invoices: balance and aging, findings in words, history, the query thread.

Read-only helpers over the store; both the portal and the console use them.
The balance is the amount due (BT-115) less recorded payments (the
`workflow.payment` audit entries, as `POST /v1/invoices/{id}/payments`
writes them; a payment without an amount settles the invoice). The card
payments work (issue 14) plugs its allocations in here.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.store.models import AuditEntry, InvoiceRecord
from aiguillage.store.workflow_models import WorkflowState, WorkflowTimer

#: Aging buckets, in days past the due date (upper bounds; None: no bound).
AGING = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))

#: Audit actions a customer sees in its invoice's history (and the words for each, in `templates`).
CUSTOMER_HISTORY = frozenset({
    "invoice.receive", "invoice.status", "invoice.view", "workflow.query", "workflow.answer",
    "workflow.resolve", "workflow.approve", "workflow.reject", "workflow.payment", "invoice.download",
})


@dataclass
class InvoiceRow:
    """One invoice as a list shows it."""

    record: InvoiceRecord
    due_date: date | None
    amount_due: Decimal | None
    balance: Decimal | None
    aging: str | None
    days_late: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return self.record.id


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def payments_by_invoice(session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> dict[str, list[dict]]:
    """The recorded payments of these invoices (audit details), by invoice id (text)."""
    found: dict[str, list[dict]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        select(AuditEntry.target_id, AuditEntry.detail).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.action == "workflow.payment",
            AuditEntry.target_type == "invoice", AuditEntry.target_id.in_([str(i) for i in ids]))
    )
    for target, detail in rows:
        found[str(target)].append(detail or {})
    return found


def aging_bucket(due: date | None, today: date, balance: Decimal | None) -> tuple[str | None, int]:
    """The aging bucket of an open invoice and its days past due (None when nothing is owed)."""
    if due is None or balance is None or balance <= 0:
        return None, 0
    late = (today - due).days
    for name, bound in AGING:
        if bound is None or late <= bound:
            return name, max(late, 0)
    return AGING[-1][0], late


def rows_for(session: Session, tenant_id: uuid.UUID, records: list[InvoiceRecord], today: date) -> list[InvoiceRow]:
    payments = payments_by_invoice(session, tenant_id, [r.id for r in records])
    rows = []
    for record in records:
        model = record.model or {}
        due_text = model.get("due_date")
        due = date.fromisoformat(due_text) if due_text else None
        totals = model.get("totals") or {}
        amount_due = _decimal(totals.get("amount_due_for_payment"))
        if amount_due is None:
            amount_due = record.amount_with_vat
        balance = amount_due
        for payment in payments.get(str(record.id), []):
            paid = _decimal(payment.get("amount"))
            balance = Decimal("0.00") if paid is None or balance is None else balance - paid
        if balance is not None and balance < 0:
            balance = Decimal("0.00")
        bucket, late = aging_bucket(due, today, balance)
        rows.append(InvoiceRow(record, due, amount_due, balance, bucket, late))
    return rows


def workflows_of(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> dict[str, WorkflowState]:
    """The invoice's workflow sessions by kind (approval, query, delivery, reminder)."""
    rows = session.scalars(select(WorkflowState).where(
        WorkflowState.tenant_id == tenant_id, WorkflowState.invoice_id == invoice_id))
    return {row.kind: row for row in rows}


#: Approval roles the customer's own users hold: `approval by "customer"` (or "customer:<who>") in a route.
CUSTOMER_APPROVAL_ROLE = "customer"


def customer_approves(approval: WorkflowState | None) -> bool:
    """Whether the portal may decide this approval: held, and for the customer (not the supplier's finance)."""
    if approval is None or approval.status != "held" or not approval.role:
        return False
    return approval.role == CUSTOMER_APPROVAL_ROLE or approval.role.startswith(f"{CUSTOMER_APPROVAL_ROLE}:")


#: Invoice statuses a customer sees: released to it (being sent, sent, delivered, or a send that failed).
RELEASED = frozenset({"queued", "sent", "delivered", "failed"})


def visible_to_customer(session: Session, tenant_id: uuid.UUID,
                        records: list[InvoiceRecord]) -> list[InvoiceRecord]:
    """The invoices released to the customer, and those its own approval holds (or held, then decided).

    An invoice the supplier still holds (validation errors, its own approval,
    a probable duplicate), or rejected before sending, was never issued to
    the customer: the portal does not show it.
    """
    held = [r.id for r in records if r.status == "held"]
    customer_held: set[uuid.UUID] = set()
    if held:
        approvals = session.scalars(select(WorkflowState).where(
            WorkflowState.tenant_id == tenant_id, WorkflowState.kind == "approval",
            WorkflowState.invoice_id.in_(held)))
        customer_held = {a.invoice_id for a in approvals if customer_approves(a)}
    return [r for r in records if r.status in RELEASED or r.id in customer_held]


def sla_due(session: Session, tenant_id: uuid.UUID, workflow_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """When each workflow's pending SLA or escalation timer falls due."""
    if not workflow_ids:
        return {}
    rows = session.execute(select(WorkflowTimer.workflow_id, WorkflowTimer.due_at).where(
        WorkflowTimer.tenant_id == tenant_id, WorkflowTimer.workflow_id.in_(workflow_ids),
        WorkflowTimer.fired.is_(False), WorkflowTimer.name.in_(("sla", "escalate"))))
    return {workflow: due for workflow, due in rows}


def thread(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The query's messages (raised, answered, resolved), oldest first."""
    wanted = {"workflow.query", "workflow.answer", "workflow.resolve"}
    return [e for e in sorted(entries, key=lambda e: e.id) if e.action in wanted]


def customer_history(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The history a customer may see: no findings, rule ids, keys or internal steps."""
    shown = []
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.action not in CUSTOMER_HISTORY:
            continue
        if entry.action == "invoice.status" and (entry.detail or {}).get("to") not in {"sent", "delivered", "rejected"}:
            continue
        shown.append(entry)
    return shown


def findings(decision_result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The decision's findings, most severe first."""
    order = {"fatal": 0, "error": 1, "warning": 2, "info": 3}
    found = list((decision_result or {}).get("findings") or [])
    return sorted(found, key=lambda f: order.get(str(f.get("severity")), 9))
