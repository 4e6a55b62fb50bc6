"""Follow invoices at the PA: acknowledgements and lifecycle statuses into the store, and what they set off.

Statuses arrive as CDAR flows, announced by a signed webhook event or found
by polling (`poll`); either way `handle_flow` fetches the CDAR, checks it
with the French CDV rules, ties each status to our invoice (number, and the
seller's SIREN when given) and records it once: the row is unique per
(source flow, code), so a duplicated callback or a poll that sees a flow the
webhook already brought records nothing new. The timeline is ordered by the
time the status was issued, not received, so statuses that arrive out of
order still read in order; the current status is the latest issued.

A status's effect (see `statuses.Effect`) runs once, when it is first
recorded: 207 opens a query, 210/213 stop the reminders and raise an alert
for the AR team (audit `lifecycle.alert`), 211/212 record the payment.
The supplier's own statuses (`send_status`, e.g. 212 Encaissée) are written
as CDAR, checked, and submitted to its PA as a flow.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.adapters.flowapi import FlowService
from aiguillage.events import record as events
from aiguillage.fr import cdar
from aiguillage.fr.accounts import account, remember_flow, service_of
from aiguillage.fr.cdar_checks import check, fatal
from aiguillage.fr.statuses import SELLER_STATUSES, Effect, reason_error, status
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import NotFound
from aiguillage.store.fr_models import LifecycleEvent, PaFlow
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.workflows import starting
from aiguillage.workflows.runtime import EventNotAllowed

log = logging.getLogger("aiguillage.fr")

LIFECYCLE_TYPES = frozenset({"CustomerInvoiceLC", "SupplierInvoiceLC"})


class LifecycleRefused(ValueError):
    """A status message that cannot be taken: not CDAR, breaks a fatal CDV rule, or names no invoice of ours."""


@dataclass(frozen=True)
class Recorded:
    """What became of one status line: the event (None if it was a duplicate) and the invoice."""

    invoice_id: uuid.UUID
    code: str
    event: LifecycleEvent | None


# ---------------------------------------------------------------------- timeline


def timeline(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> list[LifecycleEvent]:
    """The invoice's statuses in the order they were issued."""
    Invoices(session, tenant_id).get(invoice_id)
    return list(session.scalars(
        select(LifecycleEvent).where(LifecycleEvent.tenant_id == tenant_id, LifecycleEvent.invoice_id == invoice_id)
        .order_by(LifecycleEvent.issued_at, LifecycleEvent.received_at)))


def current(events: list[LifecycleEvent]) -> LifecycleEvent | None:
    """The status that holds now: the latest issued."""
    return events[-1] if events else None


def flows_of(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> list[PaFlow]:
    return list(session.scalars(select(PaFlow).where(PaFlow.tenant_id == tenant_id, PaFlow.invoice_id == invoice_id)
                                .order_by(PaFlow.created_at)))


# ---------------------------------------------------------------------- recording


def _find_invoice(session: Session, tenant_id: uuid.UUID, line: cdar.StatusLine) -> InvoiceRecord | None:
    rows = list(session.scalars(select(InvoiceRecord).where(InvoiceRecord.tenant_id == tenant_id,
                                                            InvoiceRecord.number == line.invoice_number)))
    if len(rows) > 1 and line.seller_siren:
        rows = [row for row in rows if line.seller_siren in row.seller_key or
                _seller_siren(row) == line.seller_siren]
    if len(rows) > 1 and line.invoice_date:
        rows = [row for row in rows if row.issue_date == line.invoice_date]
    return rows[0] if len(rows) == 1 else None


def _seller_siren(row: InvoiceRecord) -> str | None:
    legal = ((row.model or {}).get("seller") or {}).get("legal_registration_identifier") or {}
    value = legal.get("value") if isinstance(legal, dict) else None
    return value[:9] if value else None


def record_status(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, line: cdar.StatusLine, *,
                  issued_at: datetime, source: str, source_flow_id: str, actor: Actor,
                  issuer_role: str | None = None, message_id: str | None = None) -> LifecycleEvent | None:
    """Record one status (None if this flow already brought it) and run its effect the first time."""
    existing = session.scalar(select(LifecycleEvent).where(
        LifecycleEvent.tenant_id == tenant_id, LifecycleEvent.source_flow_id == source_flow_id,
        LifecycleEvent.code == line.status_code))
    if existing is not None:
        return None
    amount = sum((c.amount for c in line.cashed), Decimal(0)) if line.cashed else None
    event = LifecycleEvent(tenant_id=tenant_id, invoice_id=invoice_id, code=line.status_code,
                           reason_code=line.reason_code, reason=line.reason, issued_at=issued_at, source=source,
                           issuer_role=issuer_role, source_flow_id=source_flow_id, message_id=message_id,
                           amount=amount, received_at=utcnow())
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:  # the same flow recorded meanwhile by another request (webhook and poll at once)
        return None
    known = status(line.status_code) if line.status_code in _known() else None
    AuditLog(session, tenant_id).append(actor, "lifecycle.status", "invoice", invoice_id, {
        "code": line.status_code, "label": known.label_fr if known else None, "reason_code": line.reason_code,
        "source": source, "flow_id": source_flow_id})
    events.lifecycle_status(session, tenant_id, invoice_id, code=line.status_code,
                            label=known.label_fr if known else None, platform=source, reason=line.reason)
    if known is not None and known.effect is not None and source != "supplier":
        _apply(session, tenant_id, invoice_id, line, known.effect, actor)
    return event


def _known() -> frozenset[str]:
    from aiguillage.fr.statuses import STATUSES

    return frozenset(STATUSES)


def _apply(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, line: cdar.StatusLine, effect: Effect,
           actor: Actor) -> None:
    label = status(line.status_code).label_fr
    why = " ".join(part for part in (line.reason_code, line.reason) if part) or "no reason given"
    if effect is Effect.OPEN_QUERY:
        with contextlib.suppress(EventNotAllowed):  # a query already open stays open
            starting.raise_query(session, tenant_id, invoice_id, actor, f"PA status {line.status_code} {label}: {why}")
    elif effect is Effect.RECORD_PAYMENT:
        with contextlib.suppress(EventNotAllowed):  # already recorded as paid
            starting.record_payment(session, tenant_id, invoice_id, actor)
    elif effect is Effect.STOP_AND_NOTIFY:
        with contextlib.suppress(EventNotAllowed, NotFound):  # no reminders, or already over
            starting.act(session, tenant_id, "reminder", invoice_id, "stop", actor)
    if effect in (Effect.STOP_AND_NOTIFY, Effect.NOTIFY):
        AuditLog(session, tenant_id).append(actor, "lifecycle.alert", "invoice", invoice_id, {
            "code": line.status_code, "label": label, "reason_code": line.reason_code, "reason": line.reason,
            "for": "accounts-receivable"})


def receive_cdar(session: Session, tenant_id: uuid.UUID, data: bytes, *, flow_id: str, source: str,
                 actor: Actor) -> list[Recorded]:
    """Every status of a CDAR message recorded against our invoices; `LifecycleRefused` says why not."""
    try:
        findings = fatal(check(data, source=f"flow {flow_id}"))
        message = cdar.read(data, source=f"flow {flow_id}")
    except cdar.CdarError as exc:
        raise LifecycleRefused(str(exc)) from None
    if findings:
        raise LifecycleRefused("; ".join(f"{f.rule_id} (line {f.line}): {f.message}" for f in findings[:5]))
    recorded: list[Recorded] = []
    for line in message.statuses:
        invoice = _find_invoice(session, tenant_id, line)
        if invoice is None:
            raise LifecycleRefused(f"flow {flow_id}: no single invoice numbered {line.invoice_number!r}")
        event = record_status(session, tenant_id, invoice.id, line, issued_at=message.issued_at, source=source,
                              source_flow_id=flow_id, actor=actor, issuer_role=message.issuer.role or None,
                              message_id=message.message_id)
        recorded.append(Recorded(invoice.id, line.status_code, event))
    return recorded


def handle_flow(session: Session, tenant_id: uuid.UUID, flow: dict[str, Any], service: FlowService, *,
                source: str, actor: Actor) -> list[Recorded]:
    """One flow the PA told us about (webhook) or we found (poll): an acknowledgement or a lifecycle status."""
    flow_id = str(flow.get("flowId") or "")
    if not flow_id:
        raise LifecycleRefused("the flow has no flowId")
    ack = (flow.get("acknowledgement") or {}).get("status") or "Pending"
    details = (flow.get("acknowledgement") or {}).get("details") or []
    if flow.get("flowDirection") == "In" and flow.get("flowType") in LIFECYCLE_TYPES:
        seen = session.scalar(select(PaFlow).where(PaFlow.tenant_id == tenant_id, PaFlow.flow_id == flow_id))
        if seen is not None and seen.ack_status == "Ok" and seen.invoice_id is not None:
            return []  # already taken (duplicate callback, or the poll after the webhook)
        data = service.original(flow_id)
        recorded = receive_cdar(session, tenant_id, data, flow_id=flow_id, source=source, actor=actor)
        row = remember_flow(session, tenant_id, flow_id, invoice_id=recorded[0].invoice_id if recorded else None,
                            flow_type=str(flow.get("flowType")), direction="In", ack_status="Ok")
        row.invoice_id = row.invoice_id or (recorded[0].invoice_id if recorded else None)
        row.ack_status, row.updated_at = "Ok", utcnow()
        return recorded
    row = session.scalar(select(PaFlow).where(PaFlow.tenant_id == tenant_id, PaFlow.flow_id == flow_id))
    if row is None:
        tracking = flow.get("trackingId")
        invoice_id = _uuid(tracking)
        record = session.get(InvoiceRecord, invoice_id) if invoice_id is not None else None
        if record is None or record.tenant_id != tenant_id:  # never tie a flow to another tenant's invoice
            invoice_id = None
        row = remember_flow(session, tenant_id, flow_id, invoice_id=invoice_id,
                            flow_type=str(flow.get("flowType") or "Undefined"), direction="Out", tracking_id=tracking)
    if row.ack_status != ack:
        row.ack_status, row.updated_at = ack, utcnow()
        row.detail = "; ".join(f"{d.get('reasonCode')}: {d.get('reasonMessage')}" for d in details) or None
        if row.invoice_id is not None:
            AuditLog(session, tenant_id).append(actor, "pa.acknowledgement", "invoice", row.invoice_id,
                                                {"flow_id": flow_id, "status": ack, "detail": row.detail})
            if ack == "Error":
                AuditLog(session, tenant_id).append(actor, "lifecycle.alert", "invoice", row.invoice_id, {
                    "flow_id": flow_id, "label": "refused by the PA's checks", "detail": row.detail,
                    "for": "accounts-receivable"})
    return []


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


# ---------------------------------------------------------------------- polling (fallback to webhooks)


@dataclass
class PollReport:
    acknowledged: int = 0
    statuses: int = 0
    refused: list[str] | None = None


def poll(session: Session, tenant_id: uuid.UUID, *, actor: Actor, service: FlowService | None = None) -> PollReport:
    """Ask the PA what changed: pending flows by GET /v1/flows/{id}, new lifecycle flows by search."""
    row = account(session, tenant_id)
    if row is None:
        raise LookupError("this tenant has no PA account")
    service = service or service_of(row)
    report = PollReport(refused=[])
    pending = list(session.scalars(select(PaFlow).where(PaFlow.tenant_id == tenant_id, PaFlow.direction == "Out",
                                                        PaFlow.ack_status == "Pending")))
    for flow_row in pending:
        before = flow_row.ack_status
        handle_flow(session, tenant_id, service.flow(flow_row.flow_id), service, source="poll", actor=actor)
        report.acknowledged += int(flow_row.ack_status != before)
    where: dict[str, Any] = {"flowDirection": ["In"], "flowType": sorted(LIFECYCLE_TYPES)}
    if row.polled_until is not None:
        where["updatedAfter"] = row.polled_until.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    cursor: str | None = None
    latest = row.polled_until
    while True:
        page = service.search(where, cursor)
        for flow in page.get("results") or []:
            try:
                with session.begin_nested():
                    recorded = handle_flow(session, tenant_id, flow, service, source="poll", actor=actor)
                report.statuses += sum(1 for r in recorded if r.event is not None)
            except LifecycleRefused as exc:
                report.refused.append(f"{flow.get('flowId')}: {exc}")
            updated = _time(flow.get("updatedAt"))
            if updated is not None and (latest is None or updated > latest):
                latest = updated
        cursor = page.get("nextCursor")
        if not cursor:
            break
    row.polled_until = latest
    return report


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------------- the supplier's own statuses


def send_status(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, code: str, *, actor: Actor,
                reason_code: str | None = None, reason: str | None = None, cashed: list[cdar.Cashed] | None = None,
                service: FlowService | None = None, now: datetime | None = None) -> LifecycleEvent:
    """Send one of the supplier's statuses (e.g. 212 Encaissée) to its PA as a CDAR flow, and record it."""
    if code not in SELLER_STATUSES:
        raise LifecycleRefused(f"a supplier may send statuses {', '.join(sorted(SELLER_STATUSES))}, not {code}")
    problem = reason_error(code, reason_code)
    if problem:
        raise LifecycleRefused(problem)
    invoice = Invoices(session, tenant_id).get(invoice_id)
    model = invoice.model or {}
    seller_siren = _seller_siren(invoice)
    buyer_legal = ((model.get("buyer") or {}).get("legal_registration_identifier") or {})
    buyer_siren = (buyer_legal.get("value") or "")[:9] or None
    buyer_address = ((model.get("buyer") or {}).get("electronic_address") or {}).get("value") or buyer_siren
    if code == "212" and not cashed:
        cashed = _cashed_from_model(model)
    moment = now or utcnow()
    line = cdar.StatusLine(invoice_number=invoice.number or "", status_code=code, invoice_date=invoice.issue_date,
                           invoice_type=str(model.get("type_code") or "380"), seller_siren=seller_siren,
                           reason_code=reason_code, reason=reason, cashed=list(cashed or []))
    message = cdar.status_message(
        message_id=f"CDV-{uuid.uuid4().hex[:16]}", issued_at=moment, line=line,
        sender=cdar.Party(role="SE", siren=seller_siren, name=(model.get("seller") or {}).get("name")),
        recipient=cdar.Party(role="BY", siren=buyer_siren, name=(model.get("buyer") or {}).get("name"),
                             address=buyer_address or "unknown"))
    data = cdar.write(message)
    findings = fatal(check(data, source="status to send"))
    if findings:
        raise LifecycleRefused("; ".join(f"{f.rule_id}: {f.message}" for f in findings[:5]))
    if service is None:
        row = account(session, tenant_id)
        if row is None:
            raise LookupError("this tenant has no PA account")
        service = service_of(row)
    import hashlib

    answer = service.submit({"trackingId": f"{invoice_id.hex[:24]}-{code}-{moment.strftime('%Y%m%d%H%M%S')}",
                             "name": f"CDV-{invoice.number}-{code}.xml", "flowSyntax": "CDAR",
                             "sha256": hashlib.sha256(data).hexdigest()},
                            f"CDV-{code}.xml", "application/xml", data)
    flow_id = str(answer["flowId"])
    remember_flow(session, tenant_id, flow_id, invoice_id=invoice_id, flow_type="CustomerInvoiceLC", direction="Out")
    event = record_status(session, tenant_id, invoice_id, line, issued_at=moment, source="supplier",
                          source_flow_id=flow_id, actor=actor, issuer_role="SE", message_id=message.message_id)
    if event is None:
        raise LifecycleRefused("this status was already sent in that flow")
    return event


def _cashed_from_model(model: dict[str, Any]) -> list[cdar.Cashed]:
    """212 needs the cashed amount per VAT rate: the invoice's VAT breakdown, tax included."""
    lines: list[cdar.Cashed] = []
    currency = model.get("currency_code") or "EUR"
    for breakdown in model.get("vat_breakdown") or []:
        taxable = Decimal(str(breakdown.get("taxable_amount") or "0"))
        tax = Decimal(str(breakdown.get("tax_amount") or "0"))
        rate = Decimal(str(breakdown.get("rate") or "0"))
        lines.append(cdar.Cashed(amount=taxable + tax, vat_rate=rate, currency=currency))
    if not lines:
        total = Decimal(str(((model.get("totals") or {}).get("amount_with_vat")) or "0"))
        lines.append(cdar.Cashed(amount=total, vat_rate=Decimal("0"), currency=currency))
    return lines
