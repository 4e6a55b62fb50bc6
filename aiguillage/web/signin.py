"""Signing in, for both areas: password (organisation, e-mail, password) or a one-time link.

A link is redeemed by a POST from the page it opens (with the form's CSRF
token), never by the GET itself, so mail scanners that fetch links cannot
use them up. Every attempt counts towards the sign-in rate limit.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.repositories.users import WebUsers, redeem_link
from aiguillage.store.web_models import WebUser
from aiguillage.web import database, security
from aiguillage.web.auth import current_user, safe_next, set_session_cookie


def _fits(area: str, user: WebUser) -> bool:
    return (user.role == "customer") == (area == "portal")


def _start(area: str, user: WebUser, how: str, target: str) -> Response:
    session = database.session()
    signed = WebUsers(session, user.tenant_id).start_session(user, how=how)
    session.commit()
    return set_session_cookie(make_response(redirect(target, 303)), signed)


def password_page(area: str) -> str | Response:
    """GET shows the form; POST checks organisation, e-mail and password."""
    home = url_for(f"{area}.home")
    if request.method == "GET":
        if current_user() is not None and _fits(area, current_user()):
            return redirect(home)
        return render_template("sign_in.html", area=area, next=request.args.get("next", ""),
                               organisation=request.args.get("organisation", ""))
    organisation = request.form.get("organisation", "").strip()
    email = request.form.get("email", "").strip()
    security.check_sign_in_rate(f"{organisation}/{email}")
    tenant = Tenants(database.session()).find(organisation) if organisation else None
    user = WebUsers(database.session(), tenant.id).verify_password(email, request.form.get("password", "")) \
        if tenant is not None else None
    if user is None or not _fits(area, user):
        return render_template("sign_in.html", area=area, next=request.form.get("next", ""),
                               organisation=organisation, email=email,
                               error=_("The organisation, e-mail or password is not right.")), 401
    return _start(area, user, "password", safe_next(request.form.get("next"), home))


def link_page(area: str, token: str) -> str | Response:
    """GET shows a button; POST uses the link up and signs in."""
    if request.method == "GET":
        return render_template("link.html", area=area, token=token)
    security.check_sign_in_rate(f"link/{token[:12]}")
    session = database.session()
    user = redeem_link(session, token)
    if user is None or not _fits(area, user):
        session.rollback()
        return render_template("link.html", area=area, token=None,
                               error=_("This sign-in link has expired or has already been used. "
                                       "Ask for a new one.")), 410
    return _start(area, user, "link", url_for(f"{area}.home"))
