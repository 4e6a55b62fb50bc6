"""Payment endpoints: bank statements, payments and their allocations, balances, card checkout, PSP webhooks.

Allocating and un-allocating by hand are the finance team's acts (roles
erp and admin, as recording payments), each audited with the key that did
it. The PSP webhook is public: its Stripe-Signature is what authenticates it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from flask import Blueprint, Response, current_app, request

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import READ_DELIVERIES, RECORD_PAYMENTS
from aiguillage.api.schemas.payments import (
    AllocateBody,
    AllocationView,
    BalanceView,
    CheckoutBody,
    CheckoutView,
    ExportQuery,
    PaymentPage,
    PaymentsQuery,
    PaymentView,
    StatementLineView,
    StatementQuery,
    StatementReport,
    WebhookAnswer,
)
from aiguillage.payments.checkout import adapter_from_config, handle_webhook, start_checkout
from aiguillage.payments.exports import export
from aiguillage.payments.importing import import_statement
from aiguillage.payments.ledger import Ledger
from aiguillage.payments.psp import CheckoutAdapter, PspError, WebhookRefused
from aiguillage.payments.statements import StatementError
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.vocabulary import Role

blueprint = Blueprint("payments", __name__, url_prefix="/v1")

STATEMENT_TYPES = ("application/xml", "text/xml", "text/plain", "application/octet-stream")


def _ledger() -> Ledger:
    return Ledger(database.session(), current_principal().tenant_id)


@blueprint.post("/statements")
@endpoint(summary="Import a bank statement (camt.053, camt.054, MT940, CFONB 120)", roles=RECORD_PAYMENTS,
          query=StatementQuery, accepts=STATEMENT_TYPES, responses={201: StatementReport}, tags=["payments"],
          problems={409: "this statement file was already imported", 422: "the statement cannot be read"},
          description="Every credit becomes a payment, allocated to open invoices as far as the evidence goes "
          "(creditor reference, invoice numbers, payer and amount); the answer says per line what happened.")
def statements(query: StatementQuery) -> tuple[StatementReport, int]:
    principal = current_principal()
    data = request.get_data(cache=False)
    if not data:
        raise Problem(400, "the body is the statement file; it is empty", type="empty-body", title="Empty body")
    try:
        report = import_statement(database.session(), principal.tenant_id, data, principal.actor,
                                  filename=query.filename, format=query.format)
    except StatementError as exc:
        raise Problem(422, str(exc), type="unreadable-statement", title="Unreadable statement",
                      line=exc.line, column=exc.column) from None
    lines = [StatementLineView(number=o.number, amount=o.amount, currency=o.currency, status=o.status,
                               payment_id=o.payment_id, invoices=o.invoices, unapplied=o.unapplied, reason=o.reason,
                               text=o.describe()) for o in report.lines]
    return StatementReport(statement_id=report.statement_id, format=report.format, lines=lines,
                           summary=report.summary, text=report.last_line()), 201


@blueprint.get("/payments")
@endpoint(summary="Payments, newest first", roles=READ_DELIVERIES, query=PaymentsQuery,
          responses={200: PaymentPage}, tags=["payments"],
          description="`?status=unallocated` is the list of money waiting for a person to allocate it.")
def list_payments(query: PaymentsQuery) -> PaymentPage:
    return PaymentPage(items=[PaymentView.from_row(p) for p in _ledger().payments(status=query.status,
                                                                                  limit=query.limit)])


@blueprint.get("/payments/<uuid:payment_id>")
@endpoint(summary="A payment and its allocations (reversed ones included)", roles=READ_DELIVERIES,
          responses={200: PaymentView}, tags=["payments"])
def get_payment(payment_id: uuid.UUID) -> PaymentView:
    ledger = _ledger()
    return PaymentView.from_row(ledger.payment(payment_id), ledger.allocations(payment_id=payment_id))


@blueprint.post("/payments/<uuid:payment_id>/allocations")
@endpoint(summary="Allocate (part of) a payment to an invoice by hand", roles=RECORD_PAYMENTS, body=AllocateBody,
          responses={201: AllocationView}, tags=["payments"],
          problems={400: "currency differs, or nothing left to allocate"},
          description="Audited. May over-pay the invoice (its status becomes over_paid); when it becomes paid its "
          "reminders stop.")
def allocate(payment_id: uuid.UUID, body: AllocateBody) -> tuple[AllocationView, int]:
    Invoices(database.session(), current_principal().tenant_id).get(body.invoice_id)
    row = _ledger().allocate_manually(payment_id, body.invoice_id, Decimal(body.amount) if body.amount else None,
                                      current_principal().actor)
    return AllocationView.from_row(row), 201


@blueprint.post("/allocations/<uuid:allocation_id>/reverse")
@endpoint(summary="Un-allocate: reverse an allocation", roles=RECORD_PAYMENTS, responses={200: AllocationView},
          tags=["payments"], problems={400: "already reversed"},
          description="The allocation is kept, stamped reversed with who and when; its amount returns to the "
          "payment (unapplied) and to the invoice (open).")
def reverse(allocation_id: uuid.UUID) -> AllocationView:
    return AllocationView.from_row(_ledger().reverse(allocation_id, current_principal().actor))


@blueprint.get("/invoices/<uuid:invoice_id>/balance")
@endpoint(summary="What an invoice owes and its payment status", roles=READ_DELIVERIES | {Role.CUSTOMER},
          responses={200: BalanceView}, tags=["payments"])
def balance(invoice_id: uuid.UUID) -> BalanceView:
    principal = current_principal()
    record = Invoices(database.session(), principal.tenant_id).get(invoice_id)
    if principal.role is Role.CUSTOMER and record.customer_code != principal.customer_code:
        raise Problem(404, f"no invoice with id {invoice_id}")
    ledger = _ledger()
    rows = ledger.balances([invoice_id])
    if rows:
        return BalanceView.from_row(rows[0])
    return BalanceView.from_row(ledger.preview_balance(record))


def _adapter() -> CheckoutAdapter:
    adapter = current_app.extensions.get("aiguillage.psp")
    if adapter is None:
        adapter = adapter_from_config(current_app.config)
        if adapter is None:
            # 404, not 503: the service is up; it simply offers no card payment until a PSP is configured.
            raise Problem(404, "card payment is not configured here (AIGUILLAGE_STRIPE_API_KEY, "
                          "AIGUILLAGE_STRIPE_WEBHOOK_SECRET)",
                          type="psp-not-configured", title="Card payment unavailable")
        current_app.extensions["aiguillage.psp"] = adapter
    return adapter


@blueprint.post("/payments/checkout")
@endpoint(summary="Start a card payment (hosted checkout) for a customer's open invoices",
          roles=frozenset({Role.CUSTOMER, Role.ERP, Role.ADMIN}), body=CheckoutBody,
          responses={201: CheckoutView}, tags=["payments"],
          problems={404: "card payment is not configured, or an invoice is not the customer's",
                    502: "the PSP refused or could not be reached"},
          description="Answers the PSP's page to redirect the customer to; the card is typed there, never here. "
          "A customer key pays only its own invoices. `Idempotency-Key` makes a retried request answer the same "
          "checkout.")
def checkout(body: CheckoutBody) -> tuple[CheckoutView, int]:
    principal = current_principal()
    if principal.role is Role.CUSTOMER and body.customer_code != principal.customer_code:
        raise Problem(404, f"no customer {body.customer_code}")
    try:
        started = start_checkout(database.session(), principal.tenant_id, _adapter(),
                                 customer_code=body.customer_code, invoice_ids=body.invoice_ids,
                                 amount=Decimal(body.amount) if body.amount else None,
                                 success_url=body.success_url, cancel_url=body.cancel_url, actor=principal.actor,
                                 idempotency_key=request.headers.get("Idempotency-Key") or None)
    except PspError as exc:
        raise Problem(502, str(exc), type="psp-error", title="Payment provider error") from None
    return CheckoutView(id=started.checkout_id, redirect_url=started.redirect_url, amount=started.amount,
                        currency=started.currency, status="open"), 201


@blueprint.post("/payments/webhooks/stripe")
@endpoint(summary="Stripe webhook (checkout completed, expired)", roles=None, accepts=("application/json",),
          responses={200: WebhookAnswer}, tags=["payments"],
          problems={400: "the Stripe-Signature does not verify", 404: "card payment is not configured"},
          description="Authenticated by its Stripe-Signature (HMAC-SHA256, timestamp tolerance), not by a key. "
          "Each event id is processed once; a redelivery answers 200 with outcome `duplicate`.")
def stripe_webhook() -> WebhookAnswer:
    adapter = _adapter()
    try:
        outcome = handle_webhook(database.session(), adapter, request.get_data(cache=False),
                                 dict(request.headers))
    except WebhookRefused as exc:
        raise Problem(400, str(exc), type="bad-signature", title="Webhook refused") from None
    return WebhookAnswer(received=True, outcome=outcome)


@blueprint.get("/payments/exports/<any(allocations, \"open-items\", \"e-reporting\"):kind>")
@endpoint(summary="CSV exports: allocations, open items, French e-reporting payment data", roles=READ_DELIVERIES,
          query=ExportQuery, responses={200: None}, produces=("text/csv",), tags=["payments"],
          description="`allocations`: every allocation, reversed ones too; `open-items`: what each invoice and "
          "credit note still owes; `e-reporting`: payment date and amount received per invoice and VAT rate. "
          "`?from=` and `?to=` (YYYY-MM-DD) bound the period.")
def exports(kind: str, query: ExportQuery) -> Response:
    text = export(database.session(), current_principal().tenant_id, kind, query.since, query.until)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{kind}.csv"'})
