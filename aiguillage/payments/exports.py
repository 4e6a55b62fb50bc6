"""CSV exports for accounting: allocations, open items, and the payment data French e-reporting asks for.

French e-reporting (from September 2026) wants, for invoices whose VAT is
due when paid (services), the date and amount of each payment received,
per VAT rate. A payment of part of an invoice is split over its VAT
breakdown (BG-23) in proportion to each rate's total with VAT; cents are
given out by largest remainder so the parts add up exactly to the payment.
Reversed allocations and write-offs are not payments and are left out.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.payments.ledger import Ledger
from aiguillage.payments.money import shown
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.payment_models import Allocation, InvoiceBalance, Payment

EXPORTS = ("allocations", "open-items", "e-reporting")
CENT = Decimal("0.01")


def _csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else str(shown(v)) if isinstance(v, Decimal) else v for v in row])
    return out.getvalue()


def _allocations(session: Session, tenant_id: uuid.UUID, since: date | None, until: date | None,
                 *, live_money_only: bool) -> list[tuple[Allocation, Payment | None, InvoiceBalance | None]]:
    """Allocations with their payment and balance; the period is the payment date for money paid
    (`live_money_only`: not reversed, not write-offs), else the day the allocation was made."""
    query = (select(Allocation, Payment, InvoiceBalance)
             .outerjoin(Payment, (Payment.tenant_id == Allocation.tenant_id) & (Payment.id == Allocation.payment_id))
             .outerjoin(InvoiceBalance, (InvoiceBalance.tenant_id == Allocation.tenant_id)
                        & (InvoiceBalance.invoice_id == Allocation.invoice_id))
             .where(Allocation.tenant_id == tenant_id))
    if live_money_only:
        query = query.where(Allocation.reversed_at.is_(None), Allocation.payment_id.is_not(None))
        if since is not None:
            query = query.where(Payment.received_on >= since)
        if until is not None:
            query = query.where(Payment.received_on <= until)
    else:
        if since is not None:
            query = query.where(Allocation.created_at >= datetime.combine(since, time.min, UTC))
        if until is not None:
            query = query.where(Allocation.created_at < datetime.combine(until + timedelta(days=1), time.min, UTC))
    return [tuple(r) for r in session.execute(query.order_by(Allocation.created_at, Allocation.id))]  # type: ignore[misc]


def allocations_csv(session: Session, tenant_id: uuid.UUID, since: date | None = None,
                    until: date | None = None) -> str:
    """Every allocation (reversed ones too, with who reversed them), by when it was made."""
    header = ["allocation_id", "created_at", "created_by", "kind", "method", "payment_id", "payment_source",
              "payment_reference", "received_on", "payer_name", "invoice_id", "invoice_number", "customer_code",
              "currency", "amount", "reversed_at", "reversed_by"]
    rows = ([a.id, a.created_at.isoformat(), a.created_by, a.kind, a.method, a.payment_id,
             p.source if p else "", p.reference if p else "", p.received_on.isoformat() if p else "",
             p.payer_name if p else "", a.invoice_id, b.number if b else "", b.customer_code if b else "",
             b.currency if b else (p.currency if p else ""), a.amount,
             a.reversed_at.isoformat() if a.reversed_at else "", a.reversed_by or ""]
            for a, p, b in _allocations(session, tenant_id, since, until, live_money_only=False))
    return _csv(header, rows)


def open_items_csv(session: Session, tenant_id: uuid.UUID) -> str:
    """What every invoice and credit note still owes (paid ones left out), oldest first.

    Reads only: invoices without a balance row yet are shown as they would be made.
    """
    ledger = Ledger(session, tenant_id)
    rows = ledger.balances() + ledger.missing_balances(add=False)
    items = sorted((b for b in rows if b.status in ("open", "partially_paid")),
                   key=lambda b: (b.issue_date or date.max, b.number or ""))
    header = ["invoice_id", "invoice_number", "customer_code", "kind", "issue_date", "due_date", "currency",
              "amount_due", "allocated", "open", "status", "creditor_reference"]
    return _csv(header, ([b.invoice_id, b.number, b.customer_code, b.kind, b.issue_date, b.due_date, b.currency,
                          b.amount_due, b.allocated, b.amount_due - b.allocated, b.status, b.creditor_reference]
                         for b in items))


def split_by_rate(amount: Decimal, breakdown: list[dict[str, object]]) -> list[tuple[str, Decimal | None, Decimal]]:
    """(category, rate, part) for each VAT line of BG-23, the parts adding up to `amount` to the cent."""
    weights = []
    for line in breakdown:
        taxable = Decimal(str(line.get("taxable_amount") or 0))
        tax = Decimal(str(line.get("tax_amount") or 0))
        rate = line.get("rate")
        weights.append((str(line.get("category_code") or ""), Decimal(str(rate)) if rate is not None else None,
                        taxable + tax))
    total = sum((w for _, _, w in weights), Decimal(0))
    if not weights or total == 0:
        return [("", None, amount)]
    raw = [amount * w / total for _, _, w in weights]
    parts = [r.quantize(CENT, rounding=ROUND_DOWN) for r in raw]
    left = int(((amount - sum(parts, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    step = CENT if left >= 0 else -CENT
    for i in order[:abs(left)]:
        parts[i] += step
    return [(category, rate, part) for (category, rate, _), part in zip(weights, parts, strict=True)]


def e_reporting_rows(session: Session, tenant_id: uuid.UUID, since: date | None,
                     until: date | None) -> Iterator[list[object]]:
    allocations = _allocations(session, tenant_id, since, until, live_money_only=True)
    invoice_ids = {a.invoice_id for a, _, _ in allocations}
    models: dict[uuid.UUID, tuple[str | None, date | None, dict]] = {}
    for start in range(0, len(invoice_ids), 500):
        chunk = list(invoice_ids)[start:start + 500]
        for record in session.scalars(select(InvoiceRecord).where(InvoiceRecord.tenant_id == tenant_id,
                                                                  InvoiceRecord.id.in_(chunk))):
            models[record.id] = (record.number, record.issue_date, record.model or {})
    for allocation, payment, balance in allocations:
        number, issued, model = models.get(allocation.invoice_id, (None, None, {}))
        for category, rate, part in split_by_rate(allocation.amount, list(model.get("vat_breakdown") or [])):
            yield [number, allocation.invoice_id, issued.isoformat() if issued else "",
                   balance.customer_code if balance else "", payment.received_on.isoformat() if payment else "",
                   payment.currency if payment else "", category, "" if rate is None else str(rate), part,
                   allocation.payment_id, allocation.id]


def e_reporting_csv(session: Session, tenant_id: uuid.UUID, since: date | None = None,
                    until: date | None = None) -> str:
    """Payment data for French e-reporting: per invoice, payment date and amount received per VAT rate."""
    header = ["invoice_number", "invoice_id", "invoice_issue_date", "customer_code", "payment_date", "currency",
              "vat_category", "vat_rate", "amount_paid", "payment_id", "allocation_id"]
    return _csv(header, e_reporting_rows(session, tenant_id, since, until))


def export(session: Session, tenant_id: uuid.UUID, kind: str, since: date | None = None,
           until: date | None = None) -> str:
    if kind == "allocations":
        return allocations_csv(session, tenant_id, since, until)
    if kind == "open-items":
        return open_items_csv(session, tenant_id)
    if kind == "e-reporting":
        return e_reporting_csv(session, tenant_id, since, until)
    raise ValueError(f"unknown export {kind!r} (use {', '.join(EXPORTS)})")
