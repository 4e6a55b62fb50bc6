"""Helpers for the workflow tests: stored invoices with a decision that holds them for approval.

Invoices are stored through the repositories (not the API) so that thousands
can be made quickly; the decision is the JSON a ruleset such as

    route
      otherwise -> approval by "finance", then email to "ap@buyer.example"
                   with (escalate_after = "48h", escalate_to = "cfo", remind_every = "7d", remind_max = 3)

produces (`test_workflow_policy` checks the real language gives this shape).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.actor import Actor
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.vocabulary import InvoiceStatus

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0042.json"
ERP = Actor("key:aig_erp00001", role="erp")
APPROVER = Actor("key:aig_appr0001", role="approver")
#: The sample's due date is 2026-12-20; "now" in these tests is before it.
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

_DOCUMENT = SAMPLE.read_bytes()
_INVOICE = read_invoice(_DOCUMENT, "sample.json")


def decision_result(*, approval: str | None = "finance", params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored decision: an approval hold (unless None) and one e-mail route with workflow parameters."""
    route = {"channel": "email", "format": None, "to": "ap@buyer.example", "params": params or {}, "source": "t:1"}
    holds = [{"kind": "approval", "role": approval, "reason": None, "source": "t:1"}] if approval else []
    return {"findings": [], "enrichments": [], "routes": [route], "holds": holds, "rulesets": [],
            "today": "2026-12-01", "explain": None}


def stored_invoice(session: Session, tenant_id: uuid.UUID, number: str, *, customer: str | None = "ACME",
                   amount: str | None = None, result: dict[str, Any] | None = None,
                   issue_date: str | None = None) -> uuid.UUID:
    """Store an invoice with this number and record `result` as its decision (held if it holds)."""
    invoice = _INVOICE.model_copy(deep=True)
    invoice.number = number
    if amount is not None:
        invoice.totals.amount_with_vat = Decimal(amount)
    if issue_date is not None:
        from datetime import date

        invoice.issue_date = date.fromisoformat(issue_date)
    invoices = Invoices(session, tenant_id)
    record = invoices.receive(invoice, _DOCUMENT, ERP, content_type="application/json", customer_code=customer).invoice
    result = result if result is not None else decision_result()
    status = InvoiceStatus.HELD if result["holds"] else InvoiceStatus.QUEUED
    invoices.record_decision(record.id, "held" if result["holds"] else "queued", result, ERP, status=status)
    return record.id


def bulk_invoices(session: Session, tenant_id: uuid.UUID, prefix: str, count: int,
                  result: dict[str, Any]) -> list[uuid.UUID]:
    """`count` held invoices with this decision, inserted in bulk (copies of one received normally)."""
    from aiguillage.store.models import DecisionRecord, InvoiceRecord

    template = Invoices(session, tenant_id).get(stored_invoice(session, tenant_id, f"{prefix}-template", result=result))
    columns = ("seller_key", "syntax", "content_type", "document", "document_sha256", "model", "model_sha256",
               "customer_code", "issue_date", "currency_code", "amount_with_vat", "received_by")
    records = [InvoiceRecord(tenant_id=tenant_id, number=f"{prefix}-{index:05d}", status=InvoiceStatus.HELD.value,
                             **{name: getattr(template, name) for name in columns}) for index in range(count)]
    session.add_all(records)
    session.flush()
    session.add_all([DecisionRecord(tenant_id=tenant_id, invoice_id=r.id, outcome="held", result=result)
                     for r in records])
    session.flush()
    return [r.id for r in records]
