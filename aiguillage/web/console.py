"""The supplier's console: invoices with findings and holds, deliveries and dead letters, queues, audit.

Tenant users only, each page behind the permission `roles.POLICY` gives
their role (the API's policy). Actions call what the API's endpoints call
(`actions`), so they are checked and audited the same way.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.store.repositories.rulesets import Rulesets
from aiguillage.store.repositories.users import WebUsers, user_actor
from aiguillage.store.vocabulary import InvoiceStatus, OutboxStatus
from aiguillage.store.web_models import USER_ROLES, QueryAttachment, WebUser
from aiguillage.web import actions, database, pages, presenting, signin
from aiguillage.web.account import account_page
from aiguillage.web.auth import console_page, current_user, sign_out
from aiguillage.web.documents import FORMATS, download, invoice_bytes
from aiguillage.web.i18n import select_locale
from aiguillage.web.roles import Permission, allowed
from aiguillage.workflows.runtime import EventNotAllowed
from aiguillage.workflows.sessions import Workflows

blueprint = pages.install(Blueprint("console", __name__, url_prefix="/console", template_folder="templates"))


def _user() -> WebUser:
    user = current_user()
    assert user is not None
    return user


@blueprint.app_context_processor
def _permissions() -> dict[str, object]:
    """Templates ask `can("retry_deliveries")` to show only the actions the user may take."""
    def can(name: str) -> bool:
        user = current_user()
        return user is not None and user.role != "customer" and allowed(user.role, Permission(name))

    return {"can": can}


# --------------------------------------------------------------------------- signing in


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    return signin.password_page("console")


@blueprint.post("/sign-in/link")
def email_link() -> tuple[str, int]:
    return signin.email_link("console")


@blueprint.route("/link/<token>", methods=["GET", "POST"])
def link(token: str) -> str | Response:
    return signin.link_page("console", token)


@blueprint.post("/sign-out")
def sign_out_view() -> Response:
    return sign_out(make_response(redirect(url_for("console.sign_in"), 303)))


@blueprint.route("/account", methods=["GET", "POST"])
@console_page(Permission.READ_INVOICES)
def account() -> str | Response | tuple[str, int]:
    return account_page("console")


# --------------------------------------------------------------------------- invoices


@blueprint.get("/")
@console_page(Permission.READ_INVOICES)
def home() -> str:
    """The tenant's invoices, newest first, with their findings and holds at a glance."""
    user = _user()
    session = database.session()
    status = request.args.get("status") or None
    if status not in {s.value for s in InvoiceStatus}:
        status = None
    customer = (request.args.get("customer") or "").strip() or None
    search = (request.args.get("q") or "").strip()[:100] or None
    records = Invoices(session, user.tenant_id).page(status=status, customer_code=customer,
                                                     number_contains=search, limit=100)
    rows = presenting.rows_for(session, user.tenant_id, records, date.today())
    for row in rows:
        decisions = Invoices(session, user.tenant_id).decisions(row.record.id)
        result = decisions[-1].result if decisions else {}
        row.extra = {"findings": presenting.findings(result), "holds": result.get("holds") or []}
    return render_template("console/invoices.html", rows=rows, statuses=[s.value for s in InvoiceStatus],
                           status=status or "", customer=customer or "", q=search or "")


@blueprint.get("/invoices/<uuid:invoice_id>")
@console_page(Permission.READ_INVOICES)
def invoice(invoice_id: uuid.UUID) -> str:
    return _invoice_page(invoice_id)[0]


def _invoice_page(invoice_id: uuid.UUID, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    user = _user()
    session = database.session()
    record = Invoices(session, user.tenant_id).get(invoice_id)
    decisions = Invoices(session, user.tenant_id).decisions(record.id)
    result = decisions[-1].result if decisions else {}
    entries = AuditLog(session, user.tenant_id).entries(target_type="invoice", target_id=record.id, limit=500)
    deliveries = Outbox(session, user.tenant_id).deliveries(record.id) \
        if allowed(user.role, Permission.READ_DELIVERIES) else []
    attachments = session.query(QueryAttachment.id, QueryAttachment.filename).filter(
        QueryAttachment.tenant_id == user.tenant_id, QueryAttachment.invoice_id == record.id).all()
    allocations, paid_by = presenting.invoice_payments(session, user.tenant_id, record.id)
    return render_template(
        "console/invoice.html", allocations=allocations, paid_by=paid_by, done=request.args.get("done"),
        record=record, model=invoice_from_record(record),
        row=presenting.rows_for(session, user.tenant_id, [record], date.today())[0],
        findings=presenting.findings(result), holds=result.get("holds") or [], routes=result.get("routes") or [],
        ruleset=result.get("ruleset") or {}, deliveries=deliveries,
        workflows=presenting.workflows_of(session, user.tenant_id, record.id),
        thread=presenting.thread(entries), history=sorted(entries, key=lambda e: e.id), attachments=attachments,
        formats=list(FORMATS), error=error,
    ), status


@blueprint.get("/invoices/<uuid:invoice_id>/<fmt>")
@console_page(Permission.READ_INVOICES)
def document(invoice_id: uuid.UUID, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    record = Invoices(database.session(), _user().tenant_id).get(invoice_id)
    media, suffix = FORMATS[fmt]
    return download(invoice_bytes(invoice_from_record(record), fmt, select_locale()), media,
                    f"invoice-{record.number or record.id}{suffix}", inline=request.args.get("inline") == "1")


@blueprint.get("/invoices/<uuid:invoice_id>/attachments/<uuid:attachment_id>")
@console_page(Permission.READ_INVOICES)
def attachment(invoice_id: uuid.UUID, attachment_id: uuid.UUID) -> Response:
    found = database.session().get(QueryAttachment, attachment_id)
    if found is None or found.tenant_id != _user().tenant_id or found.invoice_id != invoice_id:
        abort(404)
    return download(found.content, found.media_type, found.filename)


def _act(invoice_id: uuid.UUID, permission: Permission, run) -> Response | tuple[str, int]:  # noqa: ANN001
    """Run a workflow action for the invoice; a state that does not take it is a 409 page."""
    user = _user()
    if not allowed(user.role, permission):
        abort(403)
    session = database.session()
    Invoices(session, user.tenant_id).get(invoice_id)
    try:
        run(session, user.tenant_id, user_actor(user), invoice_id)
    except (EventNotAllowed, NotFound):
        session.rollback()
        return _invoice_page(invoice_id, error=_("The invoice is not in a state that takes this action."),
                             status=409)
    session.commit()
    return redirect(request.form.get("back") if request.form.get("back") == url_for("console.queries")
                    else url_for("console.invoice", invoice_id=invoice_id), 303)


def _text(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value or len(value) > 4000:
        abort(400)
    return value


@blueprint.post("/invoices/<uuid:invoice_id>/approve")
@console_page(Permission.DECIDE_APPROVALS)
def approve(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    comment = request.form.get("comment", "").strip()[:2000]
    return _act(invoice_id, Permission.DECIDE_APPROVALS,
                lambda s, t, a, i: actions.approve(s, t, a, i, comment))


@blueprint.post("/invoices/<uuid:invoice_id>/reject")
@console_page(Permission.DECIDE_APPROVALS)
def reject(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    reason = _text("reason")
    return _act(invoice_id, Permission.DECIDE_APPROVALS, lambda s, t, a, i: actions.reject(s, t, a, i, reason))


@blueprint.post("/invoices/<uuid:invoice_id>/answer")
@console_page(Permission.HANDLE_QUERIES)
def answer(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    text = _text("answer")
    return _act(invoice_id, Permission.HANDLE_QUERIES, lambda s, t, a, i: actions.answer_query(s, t, a, i, text))


@blueprint.post("/invoices/<uuid:invoice_id>/resolve")
@console_page(Permission.HANDLE_QUERIES)
def resolve(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    text = _text("resolution")
    return _act(invoice_id, Permission.HANDLE_QUERIES,
                lambda s, t, a, i: actions.resolve_query(s, t, a, i, text))


# --------------------------------------------------------------------------- deliveries


@blueprint.get("/deliveries")
@console_page(Permission.READ_DELIVERIES)
def deliveries() -> str:
    """Deliveries by status (dead letters first by default), with their last error and a retry button."""
    user = _user()
    status = request.args.get("status", OutboxStatus.DEAD.value)
    if status not in {s.value for s in OutboxStatus}:
        status = OutboxStatus.DEAD.value
    session = database.session()
    entries = Outbox(session, user.tenant_id).page(status=status, limit=200)
    numbers = dict(session.execute(select(InvoiceRecord.id, InvoiceRecord.number).where(
        InvoiceRecord.tenant_id == user.tenant_id, InvoiceRecord.id.in_({e.invoice_id for e in entries}))).all())
    return render_template("console/deliveries.html", entries=entries, status=status, numbers=numbers,
                           statuses=[s.value for s in OutboxStatus])


@blueprint.post("/deliveries/<uuid:delivery_id>/retry")
@console_page(Permission.RETRY_DELIVERIES)
def retry(delivery_id: uuid.UUID) -> Response | tuple[str, int]:
    user = _user()
    session = database.session()
    try:
        actions.retry_delivery(session, user.tenant_id, user_actor(user), delivery_id)
    except Conflict:
        session.rollback()
        return render_template("error.html", status=409,
                               message=_("Only a dead-lettered delivery can be retried.")), 409
    session.commit()
    return redirect(url_for("console.deliveries", status=request.form.get("status") or "dead", retried=delivery_id),
                    303)


# --------------------------------------------------------------------------- queues


@blueprint.get("/approvals")
@console_page(Permission.READ_WORKFLOWS)
def approvals() -> str:
    return _queue("approval", "held", "console/approvals.html")


@blueprint.get("/queries")
@console_page(Permission.READ_WORKFLOWS)
def queries() -> str:
    return _queue("query", "open", "console/queries.html")


def _queue(kind: str, status: str, template: str) -> str:
    user = _user()
    session = database.session()
    rows = Workflows(session, user.tenant_id).listing(kind, status=status, limit=200)
    invoices = {r.invoice_id: Invoices(session, user.tenant_id).get(r.invoice_id) for r in rows if r.invoice_id}
    due = presenting.sla_due(session, user.tenant_id, [r.id for r in rows])
    threads = {}
    if kind == "query":
        for invoice_id in invoices:
            entries = AuditLog(session, user.tenant_id).entries(target_type="invoice", target_id=invoice_id,
                                                                limit=100)
            threads[invoice_id] = presenting.thread(entries)
    return render_template(template, rows=rows, invoices=invoices, due=due, threads=threads)


# --------------------------------------------------------------------------- master data, audit, users


@blueprint.get("/customers")
@console_page(Permission.READ_MASTER_DATA)
def customers() -> str:
    """Customers with the ruleset that decides for each and its version in force."""
    user = _user()
    session = database.session()
    rulesets = Rulesets(session, user.tenant_id)
    listed = []
    for customer in Customers(session, user.tenant_id).page(limit=500):
        versions = []
        for ruleset in rulesets.all(customer_code=customer.code):
            active = rulesets.active_version(ruleset.id)
            versions.append((ruleset.name, active.number if active else None))
        listed.append((customer, versions))
    return render_template("console/customers.html", customers=listed)


@blueprint.get("/audit")
@console_page(Permission.READ_AUDIT)
def audit() -> str:
    before = request.args.get("before", type=int)
    entries = AuditLog(database.session(), _user().tenant_id).entries(before_id=before, limit=100)
    return render_template("console/audit.html", entries=entries)


@blueprint.route("/users", methods=["GET", "POST"])
@console_page(Permission.MANAGE_USERS)
def users() -> str | tuple[str, int]:
    """People who sign in; creating one (or asking a new link) shows its one-time sign-in link once."""
    user = _user()
    session = database.session()
    repository = WebUsers(session, user.tenant_id)
    issued = error = None
    if request.method == "POST":
        try:
            if request.form.get("user"):
                target = repository.get(request.form["user"])
            else:
                role = request.form.get("role", "")
                customer = request.form.get("customer", "").strip() or None
                target = repository.create(request.form.get("email", ""), request.form.get("name", "").strip()
                                           or request.form.get("email", ""), role, user_actor(user),
                                           customer_code=customer if role == "customer" else None)
            token = repository.issue_link(target, user_actor(user))
            area = "portal" if target.role == "customer" else "console"
            issued = (target.email, url_for(f"{area}.link", token=token, _external=True))
            session.commit()
        except (Invalid, Conflict, NotFound) as exc:
            session.rollback()
            error = exc.message
    listed = repository.all()
    return render_template("console/users.html", users=listed, roles=USER_ROLES, issued=issued, error=error,
                           customers=Customers(session, user.tenant_id).page(limit=500)), 400 if error else 200
