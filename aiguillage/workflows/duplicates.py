"""Probable duplicates and unusual amounts, asked of the store in the transaction that records the decision.

Why here and not after queueing: a probable duplicate must never reach the
customer, so the check runs in the transaction that records the decision,
and a duplicate is held (status `held`, reason and `invoice.duplicate` in
the audit) instead of having its routes queued. An amount far above the
customer's usual is a warning in the audit (`invoice.unusual_amount`).

Each question is one indexed statement (`store.repositories.lookalikes`), so
it costs the same for the first invoice and the millionth, and concurrent
submissions settle on a row lock instead of colliding on a shared document.
No durable_rules session is involved: a session's state must stay bounded
per invoice (DESIGN.md), and a window over all of a customer's invoices is not.

The window comes from the decision's `duplicate_window` setting; a
malformed one falls back to the default (see `starting._policy`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from aiguillage.events import record as events
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.lookalikes import Lookalikes, fingerprint
from aiguillage.store.vocabulary import InvoiceStatus

#: An amount above this many times the customer's mean is unusual.
UNUSUAL_FACTOR = 5
#: Below this many earlier invoices the mean says nothing yet.
UNUSUAL_MIN_HISTORY = 5

BY_NUMBER = "number"
BY_BUYER_AMOUNT_DATE = "buyer, amount and date"


@dataclass(frozen=True)
class Observation:
    """What the look-alike checks found about one invoice."""

    duplicate_of: str | None
    duplicate_by: str | None
    unusual: bool


def normalised_number(number: str | None) -> str:
    """The invoice number as compared: the store already refuses an exact repeat from the same seller,
    so what gets through is the same number spelt differently ("f2026-42 " for "F2026-42")."""
    return "".join((number or "").split()).upper()


def buyer_key(invoice: InvoiceRecord) -> str:
    """The customer's code, else the buyer's name as written on the invoice."""
    name = ((invoice.model or {}).get("buyer") or {}).get("name") or ""
    return (invoice.customer_code or str(name))[:300]


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


def check_duplicate(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                    window_s: int | None = None, now: datetime | None = None) -> Observation:
    """Look the invoice up; when `duplicate_of` is set, it is now held and must not be queued.

    Runs once per decided invoice (deciding happens once: the invoice
    leaves `received` in the same transaction); asking again for the same
    invoice finds it owning its own fingerprints, so says nothing new.
    """
    now = now or utcnow()
    if window_s is None:
        from aiguillage.workflows.starting import _policy

        window_s = _policy(session, tenant_id, invoice_id)[0].duplicate_window_s
    window = timedelta(seconds=window_s)
    invoices = Invoices(session, tenant_id)
    invoice = invoices.get(invoice_id)
    lookalikes = Lookalikes(session, tenant_id)
    buyer = buyer_key(invoice)

    duplicate_of: uuid.UUID | None = None
    duplicate_by: str | None = None
    number = normalised_number(invoice.number)
    if number:
        owner = lookalikes.claim("number", fingerprint(invoice.seller_key, number), invoice.id, now, window)
        if owner != invoice.id:
            duplicate_of, duplicate_by = owner, BY_NUMBER
    owner = lookalikes.claim("buyer-amount-date", fingerprint(buyer, invoice.amount_with_vat, invoice.issue_date),
                             invoice.id, now, window)
    if duplicate_of is None and owner != invoice.id:
        duplicate_of, duplicate_by = owner, BY_BUYER_AMOUNT_DATE

    amount = cents(invoice.amount_with_vat)
    usual = lookalikes.usual(buyer)
    limit = usual.mean_cents * UNUSUAL_FACTOR if usual.count >= UNUSUAL_MIN_HISTORY else 0
    unusual = 0 < limit < amount
    # Last, so the statistic's row lock is held for the shortest time before the caller commits.
    lookalikes.count(buyer, amount, invoice.id)

    audit = AuditLog(session, tenant_id)
    if duplicate_of is not None:
        reason = f"probable duplicate of invoice {duplicate_of} (same {duplicate_by})"
        invoices.set_status(invoice.id, InvoiceStatus.HELD, actor, reason=reason)
        events.invoice_held(session, tenant_id, invoice, reason)  # the ERP is told (issue 19)
        audit.append(actor, "invoice.duplicate", "invoice", invoice.id, {"of": str(duplicate_of), "by": duplicate_by})
    if unusual:
        audit.append(actor, "invoice.unusual_amount", "invoice", invoice.id,
                     {"severity": "warning", "amount_cents": amount, "usual_limit_cents": limit})
    return Observation(
        duplicate_of=str(duplicate_of) if duplicate_of is not None else None,
        duplicate_by=duplicate_by,
        unusual=unusual,
    )
