"""CSRF on every form, security headers, and rate-limited sign-in.

CSRF: Flask-WTF's token (kept in Flask's signed session cookie) is checked on
every POST to the web blueprints; the API's endpoints take bearer keys, not
cookies, and are left alone. Headers: a CSP with no inline script (the pages
have no script at all), no framing by other sites, no sniffing, a referrer for this site only (Flask-WTF checks it on HTTPS POSTs).
Sign-in attempts are counted per client address and per (address, e-mail)
in a moving window (the `limits` library; in memory, so per process).
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, abort, current_app, request
from flask_wtf.csrf import CSRFProtect
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from aiguillage.web.cookie_session import CookieSessions

log = logging.getLogger(__name__)

_LIMITER = "aiguillage.web.limiter"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self'; frame-ancestors 'self'")

DEFAULTS = {
    # Cookies only over HTTPS; browsers treat http://127.0.0.1 and localhost as secure too.
    "WEB_COOKIE_SECURE": True,
    "WEB_SIGN_IN_RATE_PER_ADDRESS": "20/minute",
    "WEB_SIGN_IN_RATE_PER_ACCOUNT": "5/minute",
}

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    if not app.config.get("SECRET_KEY"):
        # One process only: several workers must share AIGUILLAGE_SECRET_KEY (`aiguillage serve` makes one).
        log.info("no SECRET_KEY configured: using a random one for this process")
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    secure = bool(app.config["WEB_COOKIE_SECURE"])
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the web blueprints only (see `protect`)
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the form cookie is
        SESSION_COOKIE_NAME="aig_form",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = CookieSessions()
    csrf.init_app(app)
    app.extensions[_LIMITER] = (MovingWindowRateLimiter(MemoryStorage()),)


def protect() -> None:
    """Before every web request: a POST must carry the form's CSRF token."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


def headers(response: Response) -> Response:
    """After every web response: the security headers."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(self)")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def check_sign_in_rate(account: str) -> None:
    """429 once this address, or this address for this account, tried too often."""
    (limiter,) = current_app.extensions[_LIMITER]
    address = request.remote_addr or "?"
    per_address = parse(current_app.config["WEB_SIGN_IN_RATE_PER_ADDRESS"])
    per_account = parse(current_app.config["WEB_SIGN_IN_RATE_PER_ACCOUNT"])
    allowed = limiter.hit(per_address, "sign-in", address)
    allowed = limiter.hit(per_account, "sign-in", address, account.strip().lower()) and allowed
    if not allowed:
        abort(429)
