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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from aiguillage.events import record as events
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.lookalikes import Lookalikes, Usual, fingerprint
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
    return buyer_key_of(invoice.model, invoice.customer_code)


def buyer_key_of(model: dict | None, customer_code: str | None) -> str:
    """`buyer_key` from the stored model and customer code (the lean path has no ORM row)."""
    name = ((model or {}).get("buyer") or {}).get("name") or ""
    return (customer_code or str(name))[:300]


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


@dataclass(frozen=True)
class Candidate:
    """One invoice of a batch to look up: what its fingerprints and statistic are made of."""

    invoice_id: uuid.UUID
    seller_key: str
    number: str | None
    buyer: str
    amount: Decimal | None
    issue_date: date | None
    window_s: int


@dataclass(frozen=True)
class Finding:
    """`Observation` for one candidate, with the numbers an unusual amount is reported with."""

    duplicate_of: uuid.UUID | None
    duplicate_by: str | None
    unusual: bool
    amount_cents: int
    limit_cents: int


def observe_many(session: Session, tenant_id: uuid.UUID, candidates: Sequence[Candidate], *,
                 now: datetime | None = None) -> list[Finding]:
    """`check_duplicate`'s questions for many invoices at once, answered as if asked one after the other.

    One upsert per fingerprint kind (and window), one read and one upsert of
    the amount statistic, whatever the number of invoices; a fingerprint
    shown twice within the batch is claimed by the first, so the second is
    its duplicate, exactly as two submissions in a row. Writes nothing but
    fingerprints and statistics: the caller records what was found.
    """
    now = now or utcnow()
    lookalikes = Lookalikes(session, tenant_id)
    digests: list[tuple[str | None, str]] = []
    for candidate in candidates:
        number = normalised_number(candidate.number)
        digests.append((fingerprint(candidate.seller_key, number) if number else None,
                        fingerprint(candidate.buyer, candidate.amount, candidate.issue_date)))
    owners: dict[tuple[str, str], uuid.UUID] = {}
    for position, kind in enumerate(("number", "buyer-amount-date")):
        by_window: dict[int, dict[str, uuid.UUID]] = {}
        for candidate, pair in zip(candidates, digests, strict=True):
            if pair[position] is not None:
                by_window.setdefault(candidate.window_s, {}).setdefault(pair[position], candidate.invoice_id)
        for window_s, claims in sorted(by_window.items()):
            found = lookalikes.claim_many(kind, claims, now, timedelta(seconds=window_s))
            owners.update({(kind, digest): owner for digest, owner in found.items()})

    usual = lookalikes.usual_many(c.buyer for c in candidates)
    seen: dict[str, list[int]] = {}
    findings: list[Finding] = []
    for candidate, (by_number, by_alike) in zip(candidates, digests, strict=True):
        duplicate_of: uuid.UUID | None = None
        duplicate_by: str | None = None
        owner = owners.get(("number", by_number)) if by_number is not None else None
        if owner is not None and owner != candidate.invoice_id:
            duplicate_of, duplicate_by = owner, BY_NUMBER
        owner = owners[("buyer-amount-date", by_alike)]
        if duplicate_of is None and owner != candidate.invoice_id:
            duplicate_of, duplicate_by = owner, BY_BUYER_AMOUNT_DATE
        amount = cents(candidate.amount)
        before = usual.get(candidate.buyer, Usual(0, 0))
        earlier = seen.setdefault(candidate.buyer, [0, 0])
        so_far = Usual(before.count + earlier[0], before.total_cents + earlier[1])
        limit = so_far.mean_cents * UNUSUAL_FACTOR if so_far.count >= UNUSUAL_MIN_HISTORY else 0
        earlier[0] += 1
        earlier[1] += amount
        findings.append(Finding(duplicate_of, duplicate_by, 0 < limit < amount, amount, limit))
    lookalikes.count_many((c.buyer, cents(c.amount), c.invoice_id) for c in candidates)
    return findings
