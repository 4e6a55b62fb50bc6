"""Workflow endpoints: approve or reject a held invoice, raise, answer and resolve queries, and the queues.

Roles (see `api.roles`): approving and rejecting need a person with role
approver (or admin), never the ERP; a query is raised by the customer
(its own invoices only), the ERP on its behalf, or an admin; analysts,
the ERP (its AR module) and admins answer and resolve. Every action is
audited with the key that took it; an action the workflow's current state
does not take is 409 `event-not-allowed`. Another tenant's invoice is 404.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from flask import Blueprint

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import (
    DECIDE_APPROVALS,
    HANDLE_QUERIES,
    RAISE_QUERIES,
    READ_WORKFLOWS,
    RECORD_PAYMENTS,
)
from aiguillage.api.schemas.workflows import (
    AnswerBody,
    ApproveBody,
    PaymentBody,
    PaymentRecorded,
    QueueQuery,
    ReasonBody,
    ResolveBody,
    WorkflowPage,
    WorkflowView,
)
from aiguillage.payments.service import AlreadyPaid, record_booked_payment
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.vocabulary import Role
from aiguillage.workflows import starting
from aiguillage.workflows.runtime import EventNotAllowed
from aiguillage.workflows.sessions import Posted, Workflows, invoice_sid

blueprint = Blueprint("workflows", __name__, url_prefix="/v1")

_PROBLEMS = {409: "the workflow's current state does not take this action (or changed meanwhile)"}


def _tenant() -> uuid.UUID:
    return current_principal().tenant_id


def _visible(invoice_id: uuid.UUID) -> None:
    """404 for another tenant's invoice, and for a customer key, another customer's invoice."""
    principal = current_principal()
    record = Invoices(database.session(), principal.tenant_id).get(invoice_id)
    if principal.role is Role.CUSTOMER and record.customer_code != principal.customer_code:
        raise Problem(404, f"no invoice with id {invoice_id}")


def _run(action: str, invoice_id: uuid.UUID, call: object, detail: dict[str, object]) -> WorkflowView:
    """Run the workflow call, audit it, and turn a refused event into a 409 problem."""
    _visible(invoice_id)
    principal = current_principal()
    try:
        posted: Posted = call()  # type: ignore[operator]
    except EventNotAllowed as exc:
        raise Problem(409, str(exc), type="event-not-allowed", title="Not allowed in this state",
                      workflow=exc.chart, state=exc.status) from None
    AuditLog(database.session(), principal.tenant_id).append(
        principal.actor, f"workflow.{action}", "invoice", invoice_id, dict(detail, state=posted.row.status)
    )
    return WorkflowView.from_row(posted.row)


@blueprint.post("/invoices/<uuid:invoice_id>/approve")
@endpoint(summary="Approve an invoice held for approval", roles=DECIDE_APPROVALS, body=ApproveBody,
          responses={200: WorkflowView}, problems=_PROBLEMS, tags=["workflows"],
          description="Its routes are queued in the same transaction.")
def approve(invoice_id: uuid.UUID, body: ApproveBody) -> WorkflowView:
    session, principal = database.session(), current_principal()
    return _run("approve", invoice_id,
                lambda: starting.approve(session, principal.tenant_id, invoice_id, principal.actor),
                {"comment": body.comment})


@blueprint.post("/invoices/<uuid:invoice_id>/reject")
@endpoint(summary="Reject an invoice held for approval", roles=DECIDE_APPROVALS, body=ReasonBody,
          responses={200: WorkflowView}, problems=_PROBLEMS, tags=["workflows"])
def reject(invoice_id: uuid.UUID, body: ReasonBody) -> WorkflowView:
    session, principal = database.session(), current_principal()
    return _run("reject", invoice_id,
                lambda: starting.reject(session, principal.tenant_id, invoice_id, principal.actor, body.reason),
                {"reason": body.reason})


@blueprint.post("/invoices/<uuid:invoice_id>/query")
@endpoint(summary="Raise (or reopen) a query on an invoice", roles=RAISE_QUERIES, body=ReasonBody,
          responses={200: WorkflowView}, problems=_PROBLEMS, tags=["workflows"],
          description="Starts the SLA timer and pauses the invoice's payment reminders.")
def raise_query(invoice_id: uuid.UUID, body: ReasonBody) -> WorkflowView:
    session, principal = database.session(), current_principal()
    return _run("query", invoice_id,
                lambda: starting.raise_query(session, principal.tenant_id, invoice_id, principal.actor, body.reason),
                {"reason": body.reason})


@blueprint.post("/invoices/<uuid:invoice_id>/answer")
@endpoint(summary="Answer an open query", roles=HANDLE_QUERIES, body=AnswerBody,
          responses={200: WorkflowView}, problems=_PROBLEMS, tags=["workflows"])
def answer(invoice_id: uuid.UUID, body: AnswerBody) -> WorkflowView:
    session, principal = database.session(), current_principal()
    return _run("answer", invoice_id,
                lambda: starting.answer_query(session, principal.tenant_id, invoice_id, principal.actor, body.answer),
                {"answer": body.answer})


@blueprint.post("/invoices/<uuid:invoice_id>/resolve")
@endpoint(summary="Resolve a query, optionally with a credit note", roles=HANDLE_QUERIES, body=ResolveBody,
          responses={200: WorkflowView}, problems=_PROBLEMS, tags=["workflows"],
          description="The invoice's payment reminders resume.")
def resolve(invoice_id: uuid.UUID, body: ResolveBody) -> WorkflowView:
    session, principal = database.session(), current_principal()
    return _run("resolve", invoice_id,
                lambda: starting.resolve_query(session, principal.tenant_id, invoice_id, principal.actor,
                                               body.resolution, body.credit_note),
                {"resolution": body.resolution, "credit_note": body.credit_note})


@blueprint.post("/invoices/<uuid:invoice_id>/payments")
@endpoint(summary="Record a payment of an invoice", roles=RECORD_PAYMENTS, body=PaymentBody,
          responses={200: PaymentRecorded}, problems=_PROBLEMS, tags=["workflows", "payments"],
          description="The payment is recorded (once per `reference`) and allocated to the invoice; without an "
          "amount, what is open is paid. When the invoice is paid its reminders stop. 409 when it is already "
          "paid and no amount is given.")
def payments(invoice_id: uuid.UUID, body: PaymentBody) -> PaymentRecorded:
    session, principal = database.session(), current_principal()
    _visible(invoice_id)
    try:
        payment, balance = record_booked_payment(
            session, principal.tenant_id, invoice_id, principal.actor,
            amount=Decimal(body.amount) if body.amount else None, paid_on=body.paid_on, reference=body.reference)
    except AlreadyPaid as exc:
        raise Problem(409, exc.message, type="event-not-allowed", title="Not allowed in this state",
                      workflow="reminder", state="paid") from None
    row = Workflows(session, principal.tenant_id).find("reminder", invoice_sid(invoice_id))
    reminders = WorkflowView.from_row(row) if row is not None else None
    AuditLog(session, principal.tenant_id).append(
        principal.actor, "workflow.payment", "invoice", invoice_id,
        {"paid_on": body.paid_on.isoformat() if body.paid_on else None, "amount": body.amount,
         "reference": body.reference, "payment": str(payment.id), "balance_status": balance.status,
         "state": reminders.status if reminders is not None else None},
    )
    return PaymentRecorded(invoice_id=invoice_id, reminders=reminders, payment_id=payment.id,
                           balance_status=balance.status, open=balance.amount_due - balance.allocated)


@blueprint.get("/approvals")
@endpoint(summary="The approval queue (held invoices, oldest first)", roles=READ_WORKFLOWS, query=QueueQuery,
          responses={200: WorkflowPage}, tags=["workflows"],
          description="`?role=finance` for one role's queue; `?status=` for decided ones (default: held).")
def approvals(query: QueueQuery) -> WorkflowPage:
    rows = Workflows(database.session(), _tenant()).listing(
        "approval", status=query.status or "held", role=query.role, limit=query.limit)
    return WorkflowPage(items=[WorkflowView.from_row(r) for r in rows])


@blueprint.get("/queries")
@endpoint(summary="Customer queries (open ones by default)", roles=READ_WORKFLOWS, query=QueueQuery,
          responses={200: WorkflowPage}, tags=["workflows"])
def queries(query: QueueQuery) -> WorkflowPage:
    rows = Workflows(database.session(), _tenant()).listing("query", status=query.status or "open",
                                                            limit=query.limit)
    return WorkflowPage(items=[WorkflowView.from_row(r) for r in rows])
