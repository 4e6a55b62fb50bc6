"""The analyst's workspace in the console: edit, check, try, test, diff, publish and roll back a customer ruleset.

Pages under `/console/rulesets/`, for the console's analysts and admins (the
API's `WRITE_RULESETS` roles). One form carries the text being edited to
every action (check, save the draft, try it on an invoice, run cases), so
nothing typed is lost between them; publishing and rolling back are their own
forms. Checking, compiling and publishing go through `checking` (the engine's
checker and the `Rulesets` repository, which audits every step); the editor's
script only asks `check.json` as the analyst types and fills completions
from `fields.json` — without it every action still works.
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

import aiguillage.dsl as dsl_package
from aiguillage.model.catalogue import catalogue
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.jsonio import write_json
from aiguillage.store.errors import Conflict, NotFound
from aiguillage.store.models import Ruleset
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.rulesets import Rulesets
from aiguillage.store.repositories.users import user_actor
from aiguillage.store.web_models import WebUser
from aiguillage.web import database, pages, security
from aiguillage.web.auth import console_page, current_user
from aiguillage.web.i18n import select_locale
from aiguillage.web.roles import Permission
from aiguillage.web.workspace import cases, checking, rule_diff, trying

#: Console roles that author rulesets (the API's WRITE_RULESETS, spelled for people).
AUTHORS = frozenset({"analyst", "admin"})
TEXT_LIMIT = 1_000_000

blueprint = pages.install(Blueprint("workspace", __name__, url_prefix="/console/rulesets",
                                    template_folder="templates", static_folder="static"))


@blueprint.after_request
def _style_nonce(response: Response) -> Response:
    """The editor page's CSP also admits the editor's own <style> element by a per-request nonce.

    CodeMirror writes its base theme into one <style> (`EditorView.cspNonce`); scripts stay 'self' only.
    Runs before the shared `security.headers`, which then keeps this policy.
    """
    nonce = g.get("workspace_style_nonce")
    if nonce and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = security.CSP.replace(
            "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    return response


def style_nonce() -> str:
    if "workspace_style_nonce" not in g:
        g.workspace_style_nonce = secrets.token_urlsafe(16)
    return g.workspace_style_nonce


@blueprint.app_context_processor
def _author() -> dict[str, object]:
    """The console layout shows the Rulesets link to authors only."""
    user = current_user()
    return {"can_author": user is not None and user.role in AUTHORS}


def _author_user() -> WebUser:
    user = current_user()
    if user is None or user.role not in AUTHORS:
        abort(403)
    return user


def author_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A console page (signed in, tenant user) for authors only; others get 403."""

    @functools.wraps(view)
    def guarded(**kwargs: Any) -> Any:
        _author_user()
        return view(**kwargs)

    return console_page(Permission.READ_INVOICES)(guarded)


def _ruleset(ruleset_id: uuid.UUID) -> tuple[WebUser, Rulesets, Ruleset]:
    user = _author_user()
    repository = Rulesets(database.session(), user.tenant_id)
    return user, repository, repository.get(ruleset_id)


def _text() -> str:
    text = request.form.get("content", "").replace("\r\n", "\n")
    if len(text) > TEXT_LIMIT:
        abort(413)
    return text


# --------------------------------------------------------------------------- pages


@blueprint.get("/")
@author_page
def index() -> str:
    """The tenant's rulesets with their customer, version in force and whether a draft is open."""
    user = _author_user()
    repository = Rulesets(database.session(), user.tenant_id)
    rows = []
    for ruleset in repository.all():
        active, latest = repository.active_version(ruleset.id), repository.latest_version(ruleset.id)
        rows.append((ruleset, active.number if active else None, latest.number if latest else None,
                     repository.draft(ruleset.id) is not None))
    return render_template("workspace/index.html", rows=rows)


@blueprint.get("/<uuid:ruleset_id>")
@author_page
def editor(ruleset_id: uuid.UUID) -> str:
    user, repository, ruleset = _ruleset(ruleset_id)
    draft = repository.draft(ruleset.id)
    latest = repository.latest_version(ruleset.id)
    text = draft.content if draft else latest.content if latest else ""
    report = checking.check(database.session(), user.tenant_id, ruleset, text) if text else None
    return _page(ruleset, text, report=report)[0]


@blueprint.post("/<uuid:ruleset_id>")
@author_page
def work(ruleset_id: uuid.UUID) -> str | Response | tuple[str, int]:
    """One of the editor form's buttons: check, save the draft, try it, run the cases."""
    user, repository, ruleset = _ruleset(ruleset_id)
    session = database.session()
    text = _text()
    action = request.form.get("action", "check")
    report = checking.check(session, user.tenant_id, ruleset, text)
    if action == "save":
        repository.save_draft(ruleset.id, text, user_actor(user))
        session.commit()
        return _page(ruleset, text, report=report, saved=True)
    if action == "try":
        return _try(user, ruleset, text, report)
    if action == "test":
        run = cases.run(ruleset.name, text, request.form.get("cases", ""), _stored_for_cases(user))
        return _page(ruleset, text, report=report, case_run=run)
    if action == "case":
        return _make_case(user, ruleset, text, report)
    return _page(ruleset, text, report=report)


def _stored_for_cases(user: WebUser) -> dict[str, bytes]:
    """The tenant's stored invoices the cases name (`stored-ID.json`), as model JSON; others are not found."""
    found: dict[str, bytes] = {}
    repository = Invoices(database.session(), user.tenant_id)
    for invoice_id in sorted(set(cases.STORED_NAME.findall(request.form.get("cases", ""))))[:50]:
        try:
            found[cases.stored_file(invoice_id)] = write_json(invoice_from_record(repository.get(invoice_id)))
        except NotFound:
            continue
    return found


def _make_case(user: WebUser, ruleset: Ruleset, text: str, report: checking.Report) -> tuple[str, int]:
    """Add to the cases a case expecting what this text decides for the invoice being tried."""
    chosen = request.form.get("case_from", "")
    if not report.ok:
        return _page(ruleset, text, report=report, status=422,
                     error=_("The text has errors: it cannot decide yet."))
    try:
        if chosen.startswith("sample:"):
            label, invoice, file_name = chosen[7:], trying.sample_invoice(chosen[7:]), chosen[7:]
        elif chosen.startswith("stored:"):
            label, invoice = trying.stored_invoice(database.session(), user.tenant_id, chosen[7:])
            file_name = cases.stored_file(uuid.UUID(chosen[7:]))
        else:
            abort(400)
    except (LookupError, NotFound, ValueError):
        return _page(ruleset, text, report=report, error=_("There is no such invoice."), status=404)
    tried = trying.try_text(database.session(), user.tenant_id, ruleset, text, label, invoice, select_locale())
    assert tried.draft is not None
    made = cases.add_case(request.form.get("cases", ""), cases.case_from(label, file_name, tried.draft))
    return _page(ruleset, text, report=report, tried=tried, chosen=chosen, cases_text=made, case_added=True)


def _try(user: WebUser, ruleset: Ruleset, text: str, report: checking.Report) -> tuple[str, int]:
    session = database.session()
    chosen = request.form.get("invoice", "")
    upload = request.files.get("upload")
    try:
        if upload is not None and upload.filename:
            label, invoice = upload.filename, trying.uploaded_invoice(upload.read(trying.UPLOAD_LIMIT + 1),
                                                                      upload.filename)
        elif chosen.startswith("sample:"):
            label, invoice = chosen[7:], trying.sample_invoice(chosen[7:])
        elif chosen.startswith("stored:"):
            label, invoice = trying.stored_invoice(session, user.tenant_id, chosen[7:])
        else:
            return _page(ruleset, text, report=report, error=_("Choose an invoice to try the rules on."), status=400)
    except (LookupError, NotFound):
        return _page(ruleset, text, report=report, error=_("There is no such invoice."), status=404)
    except InvoiceReadError as exc:
        return _page(ruleset, text, report=report, error=_("The invoice cannot be read: %(why)s", why=str(exc)),
                     status=400)
    tried = trying.try_text(session, user.tenant_id, ruleset, text, label, invoice, select_locale())
    return _page(ruleset, text, report=report, tried=tried, chosen=chosen)


@blueprint.post("/<uuid:ruleset_id>/check.json")
@author_page
def check_json(ruleset_id: uuid.UUID) -> Response:
    """The checker's diagnostics for the posted text (the editor asks this as the analyst types)."""
    user, _repository, ruleset = _ruleset(ruleset_id)
    report = checking.check(database.session(), user.tenant_id, ruleset, _text())
    return jsonify(ok=report.ok, diagnostics=report.as_json(), names=report.names())


@blueprint.get("/fields.json")
@author_page
def fields() -> Response:
    """The field catalogue for completion: path, BT id, data type, description."""
    return jsonify([{"path": e.path, "id": e.id, "type": e.data_type, "description": e.description}
                    for e in catalogue()])


@blueprint.get("/language.json")
@author_page
def language() -> Response:
    """The rules language's keywords, read from its grammar (the editor colours them)."""
    return jsonify(keywords=_keywords())


@cache
def _keywords() -> list[str]:
    grammar = (Path(dsl_package.__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'"([a-z][a-z_]+)"i?', grammar)))


@blueprint.get("/<uuid:ruleset_id>/diff")
@author_page
def diff(ruleset_id: uuid.UUID) -> str:
    """Rules added, changed and removed between a published version and the draft (or another version)."""
    _user, repository, ruleset = _ruleset(ruleset_id)
    old_number = request.args.get("from", type=int)
    new_number = request.args.get("to", type=int)  # none (or empty): the draft
    if old_number is None:
        abort(400)
    old = repository.version(ruleset.id, old_number).content
    if new_number is not None:
        new, new_label = repository.version(ruleset.id, new_number).content, f"{ruleset.name} version {new_number}"
    else:
        draft = repository.draft(ruleset.id)
        if draft is None:
            return render_template("error.html", status=409, message=_("There is no draft to compare.")), 409
        new, new_label = draft.content, f"{ruleset.name} draft"
    changes = rule_diff.compare(old, new, f"{ruleset.name} version {old_number}", new_label)
    return render_template("workspace/diff.html", ruleset=ruleset, changes=changes, old_number=old_number,
                           new_number=new_number, versions=repository.versions(ruleset.id),
                           has_draft=repository.draft(ruleset.id) is not None)


@blueprint.post("/<uuid:ruleset_id>/publish")
@author_page
def publish(ruleset_id: uuid.UUID) -> Response | tuple[str, int]:
    user, repository, ruleset = _ruleset(ruleset_id)
    session = database.session()
    note = request.form.get("note", "").strip()[:500] or None
    try:
        version = checking.publish(session, user.tenant_id, ruleset, user_actor(user), note)
    except checking.HasErrors as exc:
        session.rollback()
        draft = repository.draft(ruleset.id)
        return _page(ruleset, draft.content if draft else "", report=exc.report, status=422,
                     error=_("The draft has errors: nothing was published."))
    except Conflict as exc:
        session.rollback()
        return _page(ruleset, _current_text(repository, ruleset), error=exc.message, status=409)
    session.commit()
    return redirect(url_for("workspace.editor", ruleset_id=ruleset.id, published=version.number), 303)


@blueprint.post("/<uuid:ruleset_id>/discard")
@author_page
def discard(ruleset_id: uuid.UUID) -> Response:
    """Drop the draft (audited); the editor then shows the latest version."""
    user, repository, ruleset = _ruleset(ruleset_id)
    try:
        repository.discard_draft(ruleset.id, user_actor(user))
    except (Conflict, NotFound):
        database.session().rollback()
    database.session().commit()
    return redirect(url_for("workspace.editor", ruleset_id=ruleset.id), 303)


@blueprint.post("/<uuid:ruleset_id>/rollback")
@author_page
def rollback(ruleset_id: uuid.UUID) -> Response | tuple[str, int]:
    user, repository, ruleset = _ruleset(ruleset_id)
    session = database.session()
    to = request.form.get("to", type=int)
    if to is None:
        abort(400)
    try:
        version = checking.rollback(session, user.tenant_id, ruleset, to, user_actor(user))
    except checking.HasErrors as exc:
        session.rollback()
        return _page(ruleset, _current_text(repository, ruleset), report=exc.report, status=422,
                     error=_("That version no longer checks: nothing was published."))
    except Conflict as exc:
        session.rollback()
        return _page(ruleset, _current_text(repository, ruleset), error=exc.message, status=409)
    session.commit()
    return redirect(url_for("workspace.editor", ruleset_id=ruleset.id, published=version.number), 303)


# --------------------------------------------------------------------------- the editor page


def _current_text(repository: Rulesets, ruleset: Ruleset) -> str:
    draft = repository.draft(ruleset.id)
    latest = repository.latest_version(ruleset.id)
    return draft.content if draft else latest.content if latest else ""


def _page(ruleset: Ruleset, text: str, *, status: int = 200, **shown: object) -> tuple[str, int]:
    user = _author_user()
    session = database.session()
    repository = Rulesets(session, user.tenant_id)
    active = repository.active_version(ruleset.id)
    invoices = Invoices(session, user.tenant_id).page(customer_code=ruleset.customer_code, limit=50) \
        if ruleset.customer_code else Invoices(session, user.tenant_id).page(limit=50)
    shown.setdefault("report", None)
    return render_template(
        "workspace/editor.html", ruleset=ruleset, text=text, versions=repository.versions(ruleset.id),
        active=active.number if active else None, draft=repository.draft(ruleset.id), invoices=invoices,
        samples=trying.samples(), cases_text=shown.pop("cases_text", request.form.get("cases", "")),
        published=request.args.get("published", type=int), style_nonce=style_nonce(), **shown,
    ), status
