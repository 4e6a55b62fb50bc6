"""Signing in, for both areas: password (organisation, e-mail, password) or a one-time link.

A link is redeemed by a POST from the page it opens (with the form's CSRF
token), never by the GET itself, so mail scanners that fetch links cannot
use them up. Every attempt counts towards the sign-in rate limit.
"""

from __future__ import annotations

import logging

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from aiguillage.adapters.base import DeliveryError
from aiguillage.store.actor import Actor
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.repositories.users import WebUsers, redeem_link
from aiguillage.store.web_models import WebUser
from aiguillage.web import database, mail, security
from aiguillage.web.auth import current_user, safe_next, set_session_cookie

log = logging.getLogger(__name__)


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


def email_link(area: str) -> tuple[str, int]:
    """E-mail a one-time link to a known user of this area; the answer never tells whether the address is known."""
    organisation = request.form.get("organisation", "").strip()
    email = request.form.get("email", "").strip()
    security.check_sign_in_rate(f"mail/{organisation}/{email}")
    if not mail.enabled():
        return render_template("sign_in.html", area=area, organisation=organisation, email=email,
                               error=_("Sign-in links cannot be e-mailed from this service.")), 503
    session = database.session()
    tenant = Tenants(session).find(organisation) if organisation else None
    user = WebUsers(session, tenant.id).find_email(email) if tenant is not None else None
    if user is not None and user.disabled_at is None and _fits(area, user):
        token = WebUsers(session, tenant.id).issue_link(user, Actor("web:link-request"))
        try:
            mail.send_link(user.email, url_for(f"{area}.link", token=token, _external=True))
        except DeliveryError as exc:
            session.rollback()
            log.warning("sign-in link for %s not sent: %s", user.email, exc)
            return render_template("sign_in.html", area=area, organisation=organisation, email=email,
                                   error=_("The e-mail could not be sent. Try again later.")), 503
        session.commit()
    return render_template("sign_in.html", area=area, organisation=organisation, email=email,
                           notice=_("If this address may sign in here, a link is on its way to it.")), 200
