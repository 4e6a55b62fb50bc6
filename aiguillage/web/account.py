"""The account page of both areas: set or change one's password (a link-only user becomes a password user)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from aiguillage.store.errors import Invalid
from aiguillage.store.repositories.users import WebUsers, user_actor
from aiguillage.web import database
from aiguillage.web.auth import current_user


def account_page(area: str) -> str | Response | tuple[str, int]:
    """GET shows the form; POST sets the password (twice the same, at least 12 characters). Behind a page guard."""
    user = current_user()
    assert user is not None
    if request.method == "GET":
        return render_template("account.html", area=area, user=user)
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return render_template("account.html", area=area, user=user,
                               error=_("The two passwords are not the same.")), 400
    session = database.session()
    try:
        WebUsers(session, user.tenant_id).set_password(user, password, user_actor(user))
    except Invalid:
        return render_template("account.html", area=area, user=user,
                               error=_("A password needs at least 12 characters.")), 400
    session.commit()
    return render_template("account.html", area=area, user=user, done=True)
