"""What the pages show about invoices: balance and aging, findings in words, history, the query thread.

Read-only helpers over the store; both the portal and the console use them.
The balance and payment status come from the payments ledger
(`payments.ledger`): the amount due less what is allocated to the invoice
(card payments, bank statements, payments the ERP books, manual
allocations). An invoice the ledger has no row for yet owes its amount due.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.payments.ledger import Ledger, balance_values, payment_status
from aiguillage.store.models import AuditEntry, InvoiceRecord
from aiguillage.store.payment_models import Allocation, InvoiceBalance, Payment
from aiguillage.store.workflow_models import WorkflowState, WorkflowTimer

#: Aging buckets, in days past the due date (upper bounds; None: no bound).
AGING = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))

#: Audit actions a customer sees in its invoice's history (and the words for each, in `templates`).
CUSTOMER_HISTORY = frozenset({
    "invoice.receive", "invoice.status", "invoice.view", "workflow.query", "workflow.answer",
    "workflow.resolve", "workflow.approve", "workflow.reject", "workflow.payment", "invoice.download",
    "allocation.automatic", "allocation.manual", "allocation.reverse",
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
    #: The ledger's status: open, partially_paid, paid or over_paid.
    payment_status: str = "open"

    @property
    def payable(self) -> bool:
        """Whether the customer may pay it by card: an invoice (not a credit note) with something left to pay."""
        return self.balance is not None and self.balance > 0 and self.payment_status in ("open", "partially_paid")

    @property
    def id(self) -> uuid.UUID:
        return self.record.id


def ledger_balances(session: Session, tenant_id: uuid.UUID,
                    records: list[InvoiceRecord]) -> dict[uuid.UUID, InvoiceBalance]:
    """The ledger's balance of each invoice: its stored row (one query for all), else what it owes by its
    document with nothing allocated (made here for reading, never stored)."""
    found = {b.invoice_id: b for b in Ledger(session, tenant_id).balances([r.id for r in records])} if records else {}
    for record in records:
        if record.id not in found:
            values = balance_values(record)
            found[record.id] = InvoiceBalance(tenant_id=tenant_id, invoice_id=record.id, allocated=Decimal("0.00"),
                                              status=payment_status(values["amount_due"], Decimal("0.00")), **values)
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
    balances = ledger_balances(session, tenant_id, records)
    rows = []
    for record in records:
        model = record.model or {}
        due_text = model.get("due_date")
        due = date.fromisoformat(due_text) if due_text else None
        ledger_row = balances[record.id]
        amount_due = ledger_row.amount_due
        balance = max(ledger_row.amount_due - ledger_row.allocated, Decimal("0.00")) \
            if ledger_row.kind == "invoice" else ledger_row.amount_due - ledger_row.allocated
        bucket, late = aging_bucket(due, today, balance)
        rows.append(InvoiceRow(record, due, amount_due, balance, bucket, late, payment_status=ledger_row.status))
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


def invoice_payments(session: Session, tenant_id: uuid.UUID,
                     invoice_id: uuid.UUID) -> tuple[list[Allocation], dict[uuid.UUID, Payment]]:
    """The invoice's allocations (reversed ones too, oldest first) and the payments they came from, by id."""
    allocations = Ledger(session, tenant_id).allocations(invoice_id=invoice_id)
    ids = {a.payment_id for a in allocations if a.payment_id}
    paid_by = {p.id: p for p in session.scalars(select(Payment).where(
        Payment.tenant_id == tenant_id, Payment.id.in_(ids)))} if ids else {}
    return allocations, paid_by
