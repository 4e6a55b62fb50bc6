"""Invoices: submit (`POST /v1/invoices`), list, read one with its history, download its document.

A repeat of an invoice already stored (same `Idempotency-Key`, or same
seller and number with the same business content) gets the first answer
again, as Stripe and the IETF Idempotency-Key draft do: 202, the same id,
the status the first answer gave, the same status URL, plus the header
`Idempotent-Replayed: true`. An ERP that lost an answer can simply send
again and act on what it gets exactly as on the first answer.
The same key or number with *different* content is a client bug and
answers 409 with the existing id in `existing` (the store's convention).

A key with role `customer` sees only its own customer's invoices; every
other invoice is 404 to it, exactly like another tenant's.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from flask import Blueprint, Response, request, url_for

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.documents import DOCUMENT_TYPES, OUTPUT_TYPES, document_response, read_body
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import READ_INVOICES, SUBMIT_INVOICES
from aiguillage.api.schemas.audit import AuditEntry
from aiguillage.api.schemas.common import one_page
from aiguillage.api.schemas.decisions import StoredDecision
from aiguillage.api.schemas.deliveries import Delivery
from aiguillage.api.schemas.invoices import (
    DocumentQuery,
    InvoiceAccepted,
    InvoiceDetail,
    InvoicePage,
    InvoiceQuery,
    InvoiceSummary,
    SubmitQuery,
)
from aiguillage.api.submission import submit
from aiguillage.model.errors import InvoiceWriteError
from aiguillage.store.errors import NotFound
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.store.vocabulary import Role

blueprint = Blueprint("invoices", __name__, url_prefix="/v1/invoices")

#: The response header that marks a repeat's answer (the first answer, given again).
REPLAYED = "Idempotent-Replayed"


def _visible(invoice_id: uuid.UUID) -> InvoiceRecord:
    """The tenant's invoice, also checked against a customer key's own customer (404 otherwise)."""
    principal = current_principal()
    record = Invoices(database.session(), principal.tenant_id).get(invoice_id)
    if principal.role is Role.CUSTOMER and record.customer_code != principal.customer_code:
        raise NotFound(f"no invoice with id {invoice_id}")
    return record


def _summary(record: InvoiceRecord) -> InvoiceSummary:
    return InvoiceSummary(
        id=record.id, number=record.number, seller=record.seller_key, customer=record.customer_code,
        syntax=record.syntax, status=record.status, issue_date=record.issue_date,
        currency_code=record.currency_code, amount_with_vat=record.amount_with_vat,
        received_at=record.received_at, updated_at=record.updated_at,
    )


@blueprint.post("")
@endpoint(
    summary="Submit an invoice for dispatch",
    description="The invoice is stored before anything else, then decided by the customer's ruleset version "
    "in force and queued for delivery (one delivery per route), held, or rejected. Answers 202 with the "
    "invoice's id, the status it reached while answering (`received` if it is decided a few seconds later) and "
    "its status URL (also in `Location`). Send an `Idempotency-Key` header: a repeat with the same key, or the "
    "same seller and invoice number and the same content, stores nothing and gets the first answer again (202, "
    "the same body, the status as first answered, not as now) with the header `Idempotent-Replayed: true`. "
    "The same key or number with different content answers 409 (`existing` names the stored invoice).",
    roles=SUBMIT_INVOICES,
    query=SubmitQuery,
    accepts=DOCUMENT_TYPES,
    responses={202: InvoiceAccepted},
    headers={"Location": "the invoice's status URL",
             "Idempotent-Replayed": "`true` when this repeats a submission already stored: the body is its first "
             "answer, given again; absent on the first answer"},
    problems={404: "no customer with that code", 409: "the Idempotency-Key or invoice number was used for another invoice",
              429: "this API key has its share of the server in flight: nothing was stored, send again after Retry-After",
              503: "the server is saturated: nothing was stored, send again after Retry-After"},
)
def submit_invoice(query: SubmitQuery) -> tuple[InvoiceAccepted, int, dict[str, str]]:
    invoice, data = read_body()
    principal = current_principal()
    result = submit(
        database.session(),
        principal.tenant_id,
        principal.actor,
        invoice,
        data,
        content_type=request.mimetype or None,
        idempotency_key=request.headers.get("Idempotency-Key"),
        customer_code=query.customer,
        lang=query.lang,
    )
    location = url_for("invoices.get_invoice", invoice_id=result.invoice_id)
    body = InvoiceAccepted(id=result.invoice_id, status=result.status, status_url=location, duplicate=False)
    headers = {"Location": location}
    if not result.created:
        headers[REPLAYED] = "true"
    return body, 202, headers


@blueprint.get("")
@endpoint(summary="List invoices", description="Newest first; filter by status, customer and dates.",
          roles=READ_INVOICES, query=InvoiceQuery, responses={200: InvoicePage})
def list_invoices(query: InvoiceQuery) -> tuple[InvoicePage, int, dict[str, str]]:
    principal = current_principal()
    customer = query.customer
    if principal.role is Role.CUSTOMER:
        if customer is not None and customer != principal.customer_code:
            return InvoicePage(items=[], next=None, next_url=None), 200, {}
        customer = principal.customer_code
    rows = Invoices(database.session(), principal.tenant_id).page(
        status=query.status, customer_code=customer, issued_from=query.issued_from, issued_to=query.issued_to,
        received_from=query.received_from, received_to=query.received_to,
        before=_decode_cursor(query.after) if query.after else None, limit=query.limit + 1,
    )
    rows, last = one_page(rows, query.limit)
    cursor = _encode_cursor(last) if last is not None else None
    next_url = None
    headers: dict[str, str] = {}
    if cursor is not None:
        arguments = {k: v for k, v in request.args.items() if k != "after"}
        next_url = url_for("invoices.list_invoices", **arguments, after=cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return InvoicePage(items=[_summary(r) for r in rows], next=cursor, next_url=next_url), 200, headers


@blueprint.get("/<uuid:invoice_id>")
@endpoint(summary="Read an invoice: status, decision, deliveries, audit trail", roles=READ_INVOICES,
          responses={200: InvoiceDetail})
def get_invoice(invoice_id: uuid.UUID) -> InvoiceDetail:
    record = _visible(invoice_id)
    session, tenant = database.session(), current_principal().tenant_id
    decisions = Invoices(session, tenant).decisions(record.id)
    current = decisions[-1] if decisions else None
    deliveries = [Delivery.from_view(view) for view in Outbox(session, tenant).deliveries(record.id)]
    audit = AuditLog(session, tenant).entries(target_type="invoice", target_id=record.id, limit=500)
    return InvoiceDetail(
        **_summary(record).model_dump(),
        idempotency_key=record.idempotency_key,
        decision=None if current is None else StoredDecision(
            id=current.id, outcome=current.outcome, ruleset_version_id=current.ruleset_version_id,
            ruleset_hash=current.ruleset_hash, created_at=current.created_at, result=current.result,
        ),
        decision_count=len(decisions),
        deliveries=deliveries,
        audit=[AuditEntry.model_validate(e) for e in reversed(audit)],
        document_url=url_for("invoices.get_document", invoice_id=record.id),
    )


@blueprint.get("/<uuid:invoice_id>/document")
@endpoint(
    summary="Download the invoice",
    description="`format=original` (default): the bytes as received; `ubl`, `cii`, `facturx` (PDF/A-3 with "
    "CII inside), `json`: the invoice written in that syntax; `pdf`: a readable rendition.",
    roles=READ_INVOICES,
    query=DocumentQuery,
    responses={200: None},
    produces=tuple(dict.fromkeys(OUTPUT_TYPES.values())),
    problems={422: "the invoice cannot be written in that syntax"},
)
def get_document(invoice_id: uuid.UUID, query: DocumentQuery) -> Response:
    record = _visible(invoice_id)
    try:
        return document_response(
            invoice_from_record(record), query.format, original=record.document, lang=query.lang,
            filename=f"invoice-{record.number or record.id}",
        )
    except InvoiceWriteError as exc:
        raise Problem(422, f"this invoice cannot be written as {query.format}: {exc}", type="unwritable-document",
                      title="Unprocessable document") from None


def _encode_cursor(record: InvoiceRecord) -> str:
    """An opaque cursor: where the page ended (received time and id, the listing's order)."""
    raw = f"{record.received_at.isoformat()}|{record.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("a cursor's time has a zone")
        return when, uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(400, "invalid query parameter at after: not a cursor this API gave out",
                      type="invalid-request", title="Invalid request",
                      errors=[{"parameter": "after", "detail": "not a valid cursor"}]) from None
