"""The customer portal: a customer's users see, download, query and approve their own invoices.

Every read goes through the tenant-scoped repositories and is then checked
against the user's customer: another customer's (or tenant's) invoice is
the same 404 as one that does not exist. So is an invoice the supplier has
not released (`presenting.visible_to_customer`). Viewing and downloading are
audited (`invoice.view`, `invoice.download`). Where a pay form (issue 14)
goes: the list template has the blocks `head_extra`, `row_extra` (scoped:
`row` is the `presenting.InvoiceRow`) and `after_list`; the invoice page
keeps its forms in the `actions` block, beside the query and approval forms.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from aiguillage.store.errors import NotFound
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.users import user_actor
from aiguillage.store.vocabulary import InvoiceStatus
from aiguillage.store.web_models import QueryAttachment
from aiguillage.web import actions, database, pages, presenting, signin, statement
from aiguillage.web.account import account_page
from aiguillage.web.auth import portal_page, portal_user, sign_out
from aiguillage.web.documents import (
    ATTACHMENT_TYPES,
    FORMATS,
    MAX_ATTACHMENT,
    download,
    invoice_bytes,
    sniff,
)
from aiguillage.web.i18n import select_locale
from aiguillage.workflows.runtime import EventNotAllowed

blueprint = pages.install(Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates"))

#: Query reasons a customer picks from (stored as the key, shown translated).
QUERY_REASONS = ("price", "quantity", "not_received", "damaged", "not_ordered", "other")
PAGE = 50


# --------------------------------------------------------------------------- signing in and out


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    return signin.password_page("portal")


@blueprint.post("/sign-in/link")
def email_link() -> tuple[str, int]:
    return signin.email_link("portal")


@blueprint.route("/link/<token>", methods=["GET", "POST"])
def link(token: str) -> str | Response:
    return signin.link_page("portal", token)


@blueprint.post("/sign-out")
def sign_out_view() -> Response:
    return sign_out(make_response(redirect(url_for("portal.sign_in"), 303)))


@blueprint.route("/account", methods=["GET", "POST"])
@portal_page
def account() -> str | Response | tuple[str, int]:
    return account_page("portal")





# --------------------------------------------------------------------------- invoices


def own_invoice(invoice_id: uuid.UUID) -> InvoiceRecord:
    """The user's customer's invoice, once released to it; 404 for anything else (another customer's,
    another tenant's, one the supplier still holds)."""
    user = portal_user()
    session = database.session()
    record = Invoices(session, user.tenant_id).get(invoice_id)
    if record.customer_code != user.customer_code or not presenting.visible_to_customer(
            session, user.tenant_id, [record]):
        raise NotFound(f"no invoice with id {invoice_id}")
    return record


@blueprint.get("/")
@portal_page
def home() -> str:
    """The customer's invoices: status, due date, amount, balance, aging; filter and search."""
    user = portal_user()
    session = database.session()
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in InvoiceStatus}:
        status = None
    search = (request.args.get("q") or "").strip()[:100] or None
    openness = request.args.get("balance") or ""
    records = Invoices(session, user.tenant_id).page(customer_code=user.customer_code, status=status,
                                                     number_contains=search, limit=500)
    records = presenting.visible_to_customer(session, user.tenant_id, records)
    rows = presenting.rows_for(session, user.tenant_id, records, date.today())
    aging = request.args.get("aging") or ""
    if openness == "open":
        rows = [r for r in rows if r.balance and r.balance > 0]
    elif openness == "settled":
        rows = [r for r in rows if r.balance is not None and r.balance <= 0]
    if aging:
        rows = [r for r in rows if r.aging == aging]
    customer = Customers(session, user.tenant_id).find_code(user.customer_code)
    return render_template("portal/invoices_pay.html", rows=rows[:PAGE], more=len(rows) > PAGE, customer=customer,
                           statuses=[s.value for s in InvoiceStatus if s.value in presenting.RELEASED | {"held"}],
                           status=status or "", q=search or "",
                           balance=openness, aging=aging, agings=[a for a, _ in presenting.AGING])


@blueprint.get("/invoices/<uuid:invoice_id>")
@portal_page
def invoice(invoice_id: uuid.UUID) -> str:
    user = portal_user()
    session = database.session()
    record = own_invoice(invoice_id)
    AuditLog(session, user.tenant_id).append(user_actor(user), "invoice.view", "invoice", record.id, {})
    session.commit()
    return _invoice_page(record)


def _invoice_page(record: InvoiceRecord, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    user = portal_user()
    session = database.session()
    entries = AuditLog(session, user.tenant_id).entries(target_type="invoice", target_id=record.id, limit=500)
    row = presenting.rows_for(session, user.tenant_id, [record], date.today())[0]
    workflows = presenting.workflows_of(session, user.tenant_id, record.id)
    attachments = session.query(QueryAttachment.id, QueryAttachment.filename).filter(
        QueryAttachment.tenant_id == user.tenant_id, QueryAttachment.invoice_id == record.id).all()
    return render_template(
        "portal/invoice_pay.html", record=record, model=invoice_from_record(record), row=row, workflows=workflows,
        history=presenting.customer_history(entries), thread=presenting.thread(entries), reasons=QUERY_REASONS,
        formats=list(FORMATS), attachments=attachments, error=error,
        may_approve=presenting.customer_approves(workflows.get("approval")),
    ), status


@blueprint.get("/invoices/<uuid:invoice_id>/<fmt>")
@portal_page
def document(invoice_id: uuid.UUID, fmt: str) -> Response:
    """The invoice as PDF (rendition), UBL, CII or Factur-X; `?inline=1` shows the PDF in the page."""
    if fmt not in FORMATS:
        abort(404)
    user = portal_user()
    record = own_invoice(invoice_id)
    media, suffix = FORMATS[fmt]
    data = invoice_bytes(invoice_from_record(record), fmt, select_locale())
    inline = request.args.get("inline") == "1"
    if not inline:
        AuditLog(database.session(), user.tenant_id).append(user_actor(user), "invoice.download", "invoice",
                                                            record.id, {"format": fmt})
        database.session().commit()
    return download(data, media, f"invoice-{record.number or record.id}{suffix}", inline=inline)


@blueprint.post("/invoices/<uuid:invoice_id>/query")
@portal_page
def raise_query(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    """Raise a query or dispute: a reason, a message, and optionally one attachment."""
    user = portal_user()
    session = database.session()
    record = own_invoice(invoice_id)
    reason = request.form.get("reason", "")
    message = request.form.get("message", "").strip()
    if reason not in QUERY_REASONS or not message or len(message) > 4000:
        return _invoice_page(record, error=_("Choose a reason and write a message (at most 4,000 characters)."),
                             status=400)
    extra: dict[str, object] = {"category": reason, "message": message}
    upload = request.files.get("attachment")
    if upload is not None and upload.filename:
        data = upload.read(MAX_ATTACHMENT + 1)
        media = sniff(data)
        if len(data) > MAX_ATTACHMENT or media not in ATTACHMENT_TYPES:
            return _invoice_page(record, error=_("Attach a PDF, PNG, JPEG or text file of at most 5 MB."),
                                 status=400)
        name = "".join(c if c.isalnum() or c in "-_. " else "_" for c in upload.filename)[:150] or "attachment"
        attachment = QueryAttachment(tenant_id=user.tenant_id, invoice_id=record.id, filename=name,
                                     media_type=media, size=len(data), content=data,
                                     created_by=user_actor(user).name)
        session.add(attachment)
        session.flush()
        extra["attachment"] = str(attachment.id)
    try:
        actions.raise_query(session, user.tenant_id, user_actor(user), record.id, f"{reason}: {message}", extra)
    except EventNotAllowed:
        session.rollback()
        return _invoice_page(record, error=_("A query on this invoice is already open."), status=409)
    session.commit()
    return redirect(url_for("portal.invoice", invoice_id=record.id) + "#query", 303)


@blueprint.get("/invoices/<uuid:invoice_id>/attachments/<uuid:attachment_id>")
@portal_page
def attachment(invoice_id: uuid.UUID, attachment_id: uuid.UUID) -> Response:
    user = portal_user()
    record = own_invoice(invoice_id)
    found = database.session().get(QueryAttachment, attachment_id)
    if found is None or found.tenant_id != user.tenant_id or found.invoice_id != record.id:
        abort(404)
    return download(found.content, found.media_type, found.filename)


@blueprint.post("/invoices/<uuid:invoice_id>/approve")
@portal_page
def approve(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    return _decide(invoice_id, "approve")


@blueprint.post("/invoices/<uuid:invoice_id>/reject")
@portal_page
def reject(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    return _decide(invoice_id, "reject")


def _decide(invoice_id: uuid.UUID, verdict: str) -> Response | tuple[str, int]:
    """Approve or reject an invoice held for the customer's approval, through the approval workflow.

    Only holds the ruleset gives the customer (`approval by "customer"`) are decided here: an
    `approval by "finance"` is the supplier's own check and stays in the console.
    """
    user = portal_user()
    session = database.session()
    record = own_invoice(invoice_id)
    if not presenting.customer_approves(presenting.workflows_of(session, user.tenant_id, record.id).get("approval")):
        return _invoice_page(record, error=_("This invoice is not waiting for your approval."), status=409)
    comment = request.form.get("comment", "").strip()[:2000]
    if verdict == "reject" and not comment:
        return _invoice_page(record, error=_("Say why you reject the invoice."), status=400)
    try:
        if verdict == "approve":
            actions.approve(session, user.tenant_id, user_actor(user), record.id, comment)
        else:
            actions.reject(session, user.tenant_id, user_actor(user), record.id, comment)
    except (EventNotAllowed, NotFound):
        session.rollback()
        return _invoice_page(record, error=_("This invoice is not waiting for your approval."), status=409)
    session.commit()
    return redirect(url_for("portal.invoice", invoice_id=record.id), 303)


@blueprint.get("/statement.pdf")
@portal_page
def statement_pdf() -> Response:
    """Statement of account: the customer's open invoices and the total owed, as a PDF."""
    user = portal_user()
    session = database.session()
    records = presenting.visible_to_customer(
        session, user.tenant_id, Invoices(session, user.tenant_id).page(customer_code=user.customer_code, limit=500))
    rows = [r for r in presenting.rows_for(session, user.tenant_id, records, date.today()) if r.balance]
    customer = Customers(session, user.tenant_id).find_code(user.customer_code)
    data = statement.render(customer.name if customer else user.customer_code, rows, date.today(), select_locale())
    return download(data, "application/pdf", f"statement-{user.customer_code}-{date.today().isoformat()}.pdf")
