"""The console's Payments page: money waiting to be allocated, a payment's allocations, allocating and reversing by hand.

Reading is for the roles that read payments through the API (its
`READ_DELIVERIES`); allocating and reversing for those that record them
(`RECORD_PAYMENTS`: admins and AR). Both acts go through the same ledger
functions as `POST /v1/payments/{id}/allocations` and
`POST /v1/allocations/{id}/reverse`, so they lock, re-check, audit
(`allocation.manual`, `allocation.reverse`) and stop reminders the same way.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from aiguillage.payments.ledger import Ledger
from aiguillage.store.errors import Invalid
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.payment_models import Allocation
from aiguillage.store.repositories.users import user_actor
from aiguillage.web import database
from aiguillage.web.auth import console_page, current_user
from aiguillage.web.console import blueprint
from aiguillage.web.roles import Permission

#: The list's filters: what is still to allocate (the default), or one ledger status.
FILTERS = ("to_allocate", "unallocated", "partially_allocated", "allocated")


def _tenant() -> uuid.UUID:
    user = current_user()
    assert user is not None
    return user.tenant_id


def _numbers(invoice_ids: set[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    if not invoice_ids:
        return {}
    return dict(database.session().execute(select(InvoiceRecord.id, InvoiceRecord.number).where(
        InvoiceRecord.tenant_id == _tenant(), InvoiceRecord.id.in_(invoice_ids))).all())


@blueprint.get("/payments")
@console_page(Permission.READ_DELIVERIES)
def payments() -> str:
    """Payments, newest first; by default those not (fully) allocated yet."""
    shown = request.args.get("status", "to_allocate")
    if shown not in FILTERS:
        shown = "to_allocate"
    ledger = Ledger(database.session(), _tenant())
    if shown == "to_allocate":
        rows = ledger.payments(status="unallocated", limit=200) + ledger.payments(status="partially_allocated",
                                                                                  limit=200)
        rows.sort(key=lambda p: p.created_at, reverse=True)
    else:
        rows = ledger.payments(status=shown, limit=200)
    return render_template("console/payments.html", payments=rows, status=shown, filters=FILTERS)


@blueprint.get("/payments/<uuid:payment_id>")
@console_page(Permission.READ_DELIVERIES)
def payment(payment_id: uuid.UUID) -> str:
    return _payment_page(payment_id)[0]


def _payment_page(payment_id: uuid.UUID, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    ledger = Ledger(database.session(), _tenant())
    found = ledger.payment(payment_id)
    allocations = ledger.allocations(payment_id=payment_id)
    return render_template("console/payment.html", payment=found, allocations=allocations,
                           numbers=_numbers({a.invoice_id for a in allocations}), error=error,
                           done=request.args.get("done")), status


def _invoice_id(text: str) -> uuid.UUID | None:
    """The tenant's invoice a person names by number (or id); None when none or several match."""
    text = text.strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    found = database.session().scalars(select(InvoiceRecord.id).where(
        InvoiceRecord.tenant_id == _tenant(), InvoiceRecord.number == text).limit(2)).all()
    return found[0] if len(found) == 1 else None


@blueprint.post("/payments/<uuid:payment_id>/allocations")
@console_page(Permission.RECORD_PAYMENTS)
def allocate(payment_id: uuid.UUID) -> Response | tuple[str, int]:
    """Allocate (part of) the payment to an invoice; without an amount, as much as both have open."""
    user = current_user()
    assert user is not None
    session = database.session()
    ledger = Ledger(session, user.tenant_id)
    ledger.payment(payment_id)  # another tenant's: 404
    invoice_id = _invoice_id(request.form.get("invoice", ""))
    if invoice_id is None or session.scalars(select(InvoiceRecord.id).where(
            InvoiceRecord.tenant_id == user.tenant_id, InvoiceRecord.id == invoice_id)).first() is None:
        return _payment_page(payment_id, error=_("No invoice with this number."), status=400)
    text = request.form.get("amount", "").strip().replace(",", ".")
    try:
        amount = Decimal(text) if text else None
    except InvalidOperation:
        return _payment_page(payment_id, error=_("Write the amount as a number, for example 120.50."), status=400)
    if amount is not None and (not amount.is_finite() or amount <= 0):
        return _payment_page(payment_id, error=_("Write the amount as a number, for example 120.50."), status=400)
    try:
        ledger.allocate_manually(payment_id, invoice_id, amount, user_actor(user))
    except Invalid:
        session.rollback()
        return _payment_page(payment_id, error=_(
            "This cannot be allocated: the payment or the invoice has less left, or their currencies differ."),
            status=400)
    session.commit()
    return redirect(url_for("console.payment", payment_id=payment_id, done="allocated"), 303)


@blueprint.post("/allocations/<uuid:allocation_id>/reverse")
@console_page(Permission.RECORD_PAYMENTS)
def reverse(allocation_id: uuid.UUID) -> Response | tuple[str, int]:
    """Un-allocate: the amount goes back to the payment and the invoice; the allocation is kept, stamped reversed."""
    user = current_user()
    assert user is not None
    session = database.session()
    ledger = Ledger(session, user.tenant_id)
    try:
        row: Allocation = ledger.reverse(allocation_id, user_actor(user))
    except Invalid:
        session.rollback()
        return render_template("error.html", status=409, message=_("This allocation was already reversed.")), 409
    session.commit()
    if request.form.get("back") == "invoice" or row.payment_id is None:
        return redirect(url_for("console.invoice", invoice_id=row.invoice_id, done="reversed") + "#payments", 303)
    return redirect(url_for("console.payment", payment_id=row.payment_id, done="reversed"), 303)
