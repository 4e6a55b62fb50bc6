"""Card payment through a PSP's hosted checkout: start one for a customer's invoices, and settle it from
the PSP's signed webhook.

The portal calls `start_checkout` with the invoices the customer ticked
(or a part amount of one) and redirects to the URL it returns. The card is
typed on the PSP's page; we keep the request (amounts, invoices, the PSP's
session id) under our own idempotency key, which is also sent to the PSP,
so a retried request never opens two sessions. `handle_webhook` verifies
the event, records its id once (a redelivery is answered "duplicate" and
does nothing), records the payment once (by the PSP's payment reference)
and allocates it to the invoices of the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.payments.ledger import Ledger
from aiguillage.payments.matching import ZERO, OpenItem, Proposal, Share
from aiguillage.payments.money import shown
from aiguillage.payments.psp.base import CheckoutAdapter, CheckoutLine, PaymentEvent
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.payment_models import CheckoutRequest, InvoiceBalance, PspEvent
from aiguillage.store.repositories.audit import AuditLog

#: Who acts when a PSP's webhook settles a payment.
PSP_ACTOR = Actor("psp")


@dataclass(frozen=True)
class CheckoutStarted:
    checkout_id: uuid.UUID
    redirect_url: str
    amount: Decimal
    currency: str


def adapter_from_config(config: Mapping[str, Any]) -> CheckoutAdapter | None:
    """The PSP adapter the configuration names (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE)."""
    if not config.get("STRIPE_API_KEY"):
        return None
    from aiguillage.payments.psp.stripe import StripeCheckout

    return StripeCheckout(str(config["STRIPE_API_KEY"]), str(config.get("STRIPE_WEBHOOK_SECRET") or ""),
                          base_url=config.get("STRIPE_API_BASE") or None,
                          tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE") or 300))


def start_checkout(session: Session, tenant_id: uuid.UUID, adapter: CheckoutAdapter, *, customer_code: str,
                   invoice_ids: list[uuid.UUID], success_url: str, cancel_url: str, actor: Actor,
                   amount: Decimal | None = None, idempotency_key: str | None = None,
                   customer_email: str | None = None) -> CheckoutStarted:
    """Open a hosted checkout for the customer's selected open invoices (or `amount` of the one selected).

    Invalid when an invoice is not the customer's, not open, in another
    currency than the others, or the part amount is not within what is open.
    The same `idempotency_key` (a portal form token) returns the checkout already started.
    """
    if idempotency_key:
        earlier = session.scalars(select(CheckoutRequest).where(
            CheckoutRequest.tenant_id == tenant_id, CheckoutRequest.idempotency_key == idempotency_key)).one_or_none()
        if earlier is not None and earlier.redirect_url:
            return CheckoutStarted(earlier.id, earlier.redirect_url, earlier.amount, earlier.currency)
    ledger = Ledger(session, tenant_id)
    if not invoice_ids or len(set(invoice_ids)) != len(invoice_ids):
        raise Invalid("select one or more invoices, each once", pointer="/invoice_ids")
    balances: list[InvoiceBalance] = []
    for invoice_id in invoice_ids:
        try:
            balance = ledger.balance(invoice_id)
        except NotFound:
            raise NotFound(f"no invoice with id {invoice_id}") from None
        if balance.customer_code != customer_code:
            raise NotFound(f"no invoice with id {invoice_id}")  # another customer's: as if it did not exist
        if balance.kind != "invoice" or balance.amount_due - balance.allocated <= ZERO:
            raise Invalid(f"invoice {balance.number} has nothing left to pay", pointer="/invoice_ids")
        balances.append(balance)
    currencies = {b.currency for b in balances}
    if len(currencies) != 1:
        raise Invalid("the invoices selected are in different currencies; pay them separately", pointer="/invoice_ids")
    items = [{"invoice_id": str(b.invoice_id), "number": b.number or "", "amount": str(b.amount_due - b.allocated)}
             for b in balances]
    if amount is not None:
        open_amount = Decimal(items[0]["amount"])
        if len(balances) != 1:
            raise Invalid("a part amount pays one invoice: select only that one", pointer="/amount")
        if not ZERO < amount <= open_amount:
            raise Invalid(f"the amount must be more than 0 and at most {open_amount}", pointer="/amount")
        items[0]["amount"] = str(amount)
    total = sum((Decimal(i["amount"]) for i in items), ZERO)
    currency = currencies.pop()
    request = CheckoutRequest(tenant_id=tenant_id, customer_code=customer_code, provider=adapter.name,
                              idempotency_key=idempotency_key or f"co_{uuid.uuid4().hex}", amount=total,
                              currency=currency, items=items, status="created")
    session.add(request)
    session.flush()
    # PspError propagates: the caller's transaction is rolled back, no request is left half-made.
    created = adapter.create_checkout(
        lines=[CheckoutLine(f"Facture / Invoice {i['number']}", Decimal(i["amount"])) for i in items],
        currency=currency, idempotency_key=f"{tenant_id}:{request.idempotency_key}", success_url=success_url,
        cancel_url=cancel_url, customer_email=customer_email,
        metadata={"checkout_id": str(request.id), "tenant_id": str(tenant_id), "customer": customer_code})
    request.session_id, request.redirect_url, request.status = created.session_id, created.url, "open"
    session.flush()
    AuditLog(session, tenant_id).append(actor, "checkout.start", "checkout", request.id, {
        "customer": customer_code, "amount": str(total), "currency": currency, "provider": adapter.name,
        "invoices": [i["invoice_id"] for i in items]})
    return CheckoutStarted(request.id, created.url, total, currency)


def handle_webhook(session: Session, adapter: CheckoutAdapter, payload: bytes, headers: Mapping[str, str]) -> str:
    """Verify and act on one PSP webhook, in the caller's transaction; what was done, in words.

    Raises WebhookRefused for a bad signature (nothing is recorded then).
    """
    event = adapter.verify_webhook(payload, dict(headers))
    record = PspEvent(provider=adapter.name, event_id=event.event_id, event_type=event.type, outcome="received")
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return "duplicate"
    record.outcome = _act(session, adapter, event, record)
    session.flush()
    return record.outcome


def _act(session: Session, adapter: CheckoutAdapter, event: PaymentEvent, record: PspEvent) -> str:
    if event.session is None:
        return "ignored"
    request = session.scalars(select(CheckoutRequest).where(
        CheckoutRequest.provider == adapter.name, CheckoutRequest.session_id == event.session.session_id)
    ).one_or_none()
    if request is None:
        return "unknown checkout session"
    record.tenant_id = request.tenant_id
    if event.type == "checkout.session.expired":
        if request.status == "open":
            request.status, request.updated_at = "expired", utcnow()
        return "expired"
    if event.session.payment_status != "paid":
        return f"not paid ({event.session.payment_status})"
    return _settle(session, adapter, request, event)


def _settle(session: Session, adapter: CheckoutAdapter, request: CheckoutRequest, event: PaymentEvent) -> str:
    paid = event.session
    assert paid is not None
    ledger = Ledger(session, request.tenant_id)
    reference = paid.payment_reference or paid.session_id
    payment, created = ledger.record(
        PSP_ACTOR, source="card", dedupe_key=f"{adapter.name}:{reference}", amount=paid.amount,
        currency=paid.currency, received_on=utcnow().date(), reference=reference,
        customer_code=request.customer_code, remittance=f"checkout {request.id}")
    request.status, request.payment_id, request.updated_at = "paid", payment.id, utcnow()
    if not created:
        return "already recorded"
    if paid.amount != request.amount or paid.currency != request.currency:
        payment.note = (f"the PSP reports {paid.amount} {paid.currency} for a checkout of {request.amount} "
                        f"{request.currency}: left for a person to allocate")
        return "amount differs: unallocated"
    shares = []
    for item in request.items:
        balance = ledger.balance(uuid.UUID(item["invoice_id"]))
        open_item = OpenItem(invoice_id=balance.invoice_id, number=balance.number,
                             customer_code=balance.customer_code, currency=balance.currency,
                             amount_due=balance.amount_due, allocated=balance.allocated)
        shares.append(Share(open_item, Decimal(item["amount"]), "checkout"))
    applied = ledger.apply(payment, Proposal(shares, customer_code=request.customer_code), PSP_ACTOR)
    if payment.unapplied:
        payment.note = "part of the card payment found the invoices already paid: unapplied, to refund or allocate"
    return f"paid: {len(applied.allocations)} allocation(s), {shown(payment.unapplied)} unapplied"
