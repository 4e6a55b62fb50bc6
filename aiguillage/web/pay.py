"""Card payment from the portal: the customer pays open invoices on the PSP's hosted checkout page.

The list's ticked invoices, or one invoice's whole open balance or a part
of it, are posted here (CSRF-checked like every portal form); we open a
checkout through `payments.checkout.start_checkout`, which refuses any
invoice that is not this customer's (the same 404 as a missing one), and
redirect to the PSP. The card is typed there, never here. The PSP's
signed webhook (`/v1/payments/webhooks/stripe`) settles the payment; the
return pages only show where it stands. Each pay form carries a random
token, our idempotency key (scoped to the customer), so a double
submission opens one checkout, not two.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from aiguillage.payments.checkout import adapter_from_config, start_checkout
from aiguillage.payments.psp import CheckoutAdapter, PspError
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.payment_models import CheckoutRequest
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.users import user_actor
from aiguillage.web import database, presenting, security
from aiguillage.web.auth import portal_page, portal_user
from aiguillage.web.portal import blueprint, own_invoice

_ADAPTER = "aiguillage.psp"
TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def adapter() -> CheckoutAdapter | None:
    """The configured PSP (the same one the API's checkout and webhook use), or None: no card payment here."""
    found = current_app.extensions.get(_ADAPTER)
    if found is None:
        found = adapter_from_config(current_app.config)
        if found is not None:
            current_app.extensions[_ADAPTER] = found
    return found


def checkout_origin() -> str:
    """Where the PSP's hosted page lives: `PSP_CHECKOUT_ORIGIN`, else the origin of a configured
    `STRIPE_API_BASE` (a loopback Stripe serves both), else Stripe's own checkout site."""
    configured = current_app.config.get("PSP_CHECKOUT_ORIGIN")
    if configured:
        return str(configured)
    base = current_app.config.get("STRIPE_API_BASE")
    if base:
        parts = urlsplit(str(base))
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"


@blueprint.after_request
def _allow_checkout_redirect(response: Response) -> Response:
    """Let pay forms lead to the PSP: browsers check a form's redirect target against the page's `form-action`.

    Runs before `security.headers` (after-request functions run last-registered first), which then
    leaves this policy in place.
    """
    if response.mimetype == "text/html" and adapter() is not None:
        response.headers["Content-Security-Policy"] = security.CSP.replace(
            "form-action 'self'", f"form-action 'self' {checkout_origin()}")
    return response


@blueprint.app_context_processor
def _pay_context() -> dict[str, object]:
    """Templates ask `card_payment()` whether to show pay forms, and `pay_token()` for a fresh form token."""
    return {"card_payment": lambda: adapter() is not None, "pay_token": lambda: secrets.token_urlsafe(18)}


def _key(token: str) -> str:
    """The idempotency key of a form token: scoped to the customer, so another's token cannot reach its checkout."""
    user = portal_user()
    return f"portal:{user.customer_code}:{token}"


def _token() -> str:
    token = request.form.get("token", "")
    if not 16 <= len(token) <= 64 or not set(token) <= TOKEN_CHARS:
        abort(400)
    return token


def _amount() -> Decimal | None:
    text = request.form.get("amount", "").strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid(_("Write the amount as a number, for example 120.50."), pointer="/amount-format") from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid(_("Write the amount as a number, for example 120.50."), pointer="/amount-format")
    return value


@blueprint.post("/pay")
@portal_page
def pay() -> Response | tuple[str, int]:
    """Open a hosted checkout for the invoices ticked (or `amount` of the one invoice) and go to the PSP's page."""
    psp = adapter()
    if psp is None:
        abort(404)
    user = portal_user()
    session = database.session()
    token = _token()
    try:
        ids = [uuid.UUID(value) for value in request.form.getlist("invoice_id")]
    except ValueError:
        abort(404)
    for invoice_id in ids:
        own_invoice(invoice_id)  # another customer's or tenant's, or not released: 404, nothing created
    try:
        started = start_checkout(
            session, user.tenant_id, psp, customer_code=user.customer_code or "", invoice_ids=ids,
            amount=_amount(), idempotency_key=_key(token), customer_email=user.email, actor=user_actor(user),
            success_url=url_for("portal.paid", token=token, _external=True),
            cancel_url=url_for("portal.pay_cancelled", token=token, _external=True))
    except Invalid as exc:
        session.rollback()
        return _refused(_why(ids, exc))
    except PspError:
        session.rollback()
        return render_template("error.html", status=502, message=_(
            "The card payment service cannot be reached. Nothing was charged; try again in a few minutes.")), 502
    session.commit()
    return redirect(started.redirect_url, 303)


def _why(ids: list[uuid.UUID], exc: Invalid) -> str:
    """The refusal in the customer's language."""
    if not ids:
        return _("Tick at least one invoice to pay.")
    if exc.pointer == "/amount-format":
        return exc.message
    if exc.pointer == "/amount":
        return _("A part amount pays one invoice: more than 0 and at most what is left to pay on it.")
    return _("Only invoices with something left to pay, all in one currency, can be paid together.")


def _refused(message: str) -> tuple[str, int]:
    return render_template("portal/pay_result.html", outcome="refused", message=message, checkout=None,
                           rows=[]), 400


def _checkout(token: str) -> CheckoutRequest:
    """The customer's own checkout started with this form token; 404 for any other."""
    if not set(token) <= TOKEN_CHARS:
        abort(404)
    user = portal_user()
    found = database.session().scalars(select(CheckoutRequest).where(
        CheckoutRequest.tenant_id == user.tenant_id, CheckoutRequest.customer_code == user.customer_code,
        CheckoutRequest.idempotency_key == _key(token))).one_or_none()
    if found is None:
        raise NotFound("no such checkout")
    return found


def _result(token: str, outcome: str) -> str:
    user = portal_user()
    session = database.session()
    checkout = _checkout(token)
    ids = [uuid.UUID(item["invoice_id"]) for item in checkout.items]
    records = Invoices(session, user.tenant_id).page(customer_code=user.customer_code, limit=500)
    records = [r for r in records if r.id in set(ids)]
    rows = presenting.rows_for(session, user.tenant_id, records, date.today())
    return render_template("portal/pay_result.html", outcome=outcome, message=None, checkout=checkout, rows=rows)


@blueprint.get("/pay/done/<token>")
@portal_page
def paid(token: str) -> str:
    """Where the PSP sends the customer back after paying: the payment is confirmed by the PSP's webhook."""
    return _result(token, "paid")


@blueprint.get("/pay/cancelled/<token>")
@portal_page
def pay_cancelled(token: str) -> str:
    """Where the PSP sends the customer back when they give up: nothing was charged."""
    return _result(token, "cancelled")
