"""What every web blueprint has: CSRF check, security headers, HTML error pages.

The API answers problem documents; a person gets a page in their language
instead. Another tenant's or customer's invoice is the same 404 page as one
that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from aiguillage.store.errors import NotFound
from aiguillage.web import security


def install(blueprint: Blueprint) -> Blueprint:
    blueprint.before_request(security.protect)
    blueprint.after_request(security.headers)

    @blueprint.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", status=400, message=_(
            "This form has expired or did not come from this site. Go back, reload the page and try again.")), 400

    @blueprint.errorhandler(NotFound)
    def _missing(exc: NotFound) -> tuple[str, int]:
        return not_found()

    @blueprint.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        if status == 404:
            return not_found()
        messages = {
            403: _("Your account may not see this page."),
            429: _("Too many attempts. Wait a minute, then try again."),
            413: _("The file is too large."),
        }
        return render_template("error.html", status=status, message=messages.get(status, exc.name)), status

    return blueprint


def not_found() -> tuple[str, int]:
    return render_template("error.html", status=404, message=_("There is nothing here.")), 404
