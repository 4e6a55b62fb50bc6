"""What the portal and the console share: vendored static files, the language switch, the front page."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aiguillage.web import database, i18n, pages
from aiguillage.web.auth import current_user, safe_next

blueprint = pages.install(Blueprint("web", __name__, url_prefix="/web", static_folder="static",
                                    template_folder="templates"))


@blueprint.get("/")
def home() -> str:
    """Where to sign in: the portal (customers) or the console (the supplier's staff)."""
    return render_template("home.html")


@blueprint.post("/language")
def language() -> Response:
    """Remember the chosen language (on the account when signed in, else in a cookie)."""
    chosen = request.form.get("language", "")
    target = safe_next(request.form.get("next"), url_for("web.home"))
    response = make_response(redirect(target, 303))
    if chosen in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True,
                            secure=bool(current_app.config["WEB_COOKIE_SECURE"]))
        user = current_user()
        if user is not None:
            user.language = chosen
            database.session().commit()
    return response
