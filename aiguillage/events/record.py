"""Recording events in the caller's transaction: one call at each place where something happens.

Every function here only adds a row to the session it is given; it commits
nothing. So an event exists exactly when the change it describes was
committed (it is an outbox of its own), and a rolled-back change leaves no
event behind. Payloads are validated against the type's schema (`types`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.events.types import check_payload
from aiguillage.store.base import utcnow
from aiguillage.store.event_models import EventRecord
from aiguillage.store.models import DecisionRecord, InvoiceRecord

#: Longest free text (reasons, errors) copied into a payload: events stay small.
MAX_TEXT = 500
#: Blocking findings listed in `invoice.decided` (the counts cover them all).
MAX_FINDINGS = 20
_SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "info": 3}


def record(session: Session, tenant_id: uuid.UUID, type_name: str, data: dict[str, Any], *,
           invoice_id: uuid.UUID | None = None, invoice_number: str | None = None,
           at: datetime | None = None) -> EventRecord:
    """Add one event to the session (numbered for the feed once its transaction has committed)."""
    if invoice_id is not None and invoice_number is None:
        invoice_number = session.scalar(
            select(InvoiceRecord.number).where(InvoiceRecord.tenant_id == tenant_id, InvoiceRecord.id == invoice_id))
    row = EventRecord(**event_row(tenant_id, type_name, data, invoice_id=invoice_id, invoice_number=invoice_number,
                                  at=at))
    session.add(row)
    session.flush()
    return row


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)[:MAX_TEXT]


def invoice_decided(session: Session, tenant_id: uuid.UUID, invoice: InvoiceRecord, decision: DecisionRecord,
                    reason: str | None = None) -> None:
    """`invoice.decided`, and `invoice.held` too when the decision holds the invoice (with why)."""
    data = decided_data(decision.outcome, invoice.status, decision.result or {})
    record(session, tenant_id, "invoice.decided", data, invoice_id=invoice.id, invoice_number=invoice.number)
    if invoice.status == "held":
        invoice_held(session, tenant_id, invoice, reason)


def event_row(tenant_id: uuid.UUID, type_name: str, data: dict[str, Any], *, invoice_id: uuid.UUID | None,
              invoice_number: str | None, at: datetime | None = None) -> dict[str, Any]:
    """The values of one event row, validated as `record` does, for a bulk insert (the lean intake path)."""
    return {"id": uuid.uuid4(), "tenant_id": tenant_id, "type": type_name, "occurred_at": at or utcnow(),
            "invoice_id": invoice_id, "invoice_number": invoice_number, "payload": check_payload(type_name, data)}


def held_data(reason: str | None) -> dict[str, Any]:
    """The payload of `invoice.held`."""
    return {"reason": _text(reason)}


def decided_data(outcome: str, status: str, result: dict[str, Any]) -> dict[str, Any]:
    """The payload of `invoice.decided`: outcome, status, counts, blocking findings, holds and channels."""
    findings = list(result.get("findings") or [])
    counts = {severity: 0 for severity in _SEVERITY_ORDER}
    for finding in findings:
        if finding.get("severity") in counts:
            counts[finding["severity"]] += 1
    blocking = sorted((f for f in findings if f.get("severity") in ("fatal", "error")),
                      key=lambda f: _SEVERITY_ORDER.get(f.get("severity"), 9))[:MAX_FINDINGS]
    ruleset = result.get("ruleset") if isinstance(result.get("ruleset"), dict) else {}
    return {
        "outcome": outcome,
        "status": status,
        "ruleset": ruleset.get("name"),
        "ruleset_version": ruleset.get("version"),
        "counts": counts,
        "findings": [{"rule": f.get("rule"), "severity": f.get("severity"), "message": _text(f.get("message")),
                      "field": f.get("field")} for f in blocking],
        "holds": [{"kind": h.get("kind"), "role": h.get("role"), "reason": _text(h.get("reason"))}
                  for h in result.get("holds") or []],
        "channels": [r.get("channel") for r in result.get("routes") or [] if r.get("channel")],
    }


def invoice_held(session: Session, tenant_id: uuid.UUID, invoice: InvoiceRecord | uuid.UUID | str,
                 reason: str | None) -> None:
    """`invoice.held`: someone must act before the invoice goes anywhere."""
    invoice_id, number = _invoice(invoice)
    record(session, tenant_id, "invoice.held", held_data(reason), invoice_id=invoice_id,
           invoice_number=number)


def payment_received(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, *, amount: str | None,
                     paid_on: Any = None, reference: str | None = None) -> None:
    """`payment.received`: the ERP booked a payment of the invoice."""
    record(session, tenant_id, "payment.received",
           {"amount": amount, "paid_on": paid_on, "reference": _text(reference)}, invoice_id=invoice_id)


def payment_allocated(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, *, amount: str,
                      currency: str | None = None, source: str | None = None, reference: str | None = None,
                      remaining: str | None = None) -> None:
    """`payment.allocated`: funds (a card payment, a bank statement line) were allocated to the invoice."""
    record(session, tenant_id, "payment.allocated",
           {"amount": amount, "currency": currency, "source": source, "reference": _text(reference),
            "remaining": remaining}, invoice_id=invoice_id)


def lifecycle_status(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, *, code: str,
                     label: str | None = None, platform: str | None = None, reason: str | None = None) -> None:
    """`lifecycle.status`: a French approved platform (PA) reported a lifecycle status of the invoice."""
    record(session, tenant_id, "lifecycle.status",
           {"code": code, "label": label, "platform": platform, "reason": _text(reason)}, invoice_id=invoice_id)


def _invoice(invoice: InvoiceRecord | uuid.UUID | str) -> tuple[uuid.UUID, str | None]:
    if isinstance(invoice, InvoiceRecord):
        return invoice.id, invoice.number
    return uuid.UUID(str(invoice)), None
