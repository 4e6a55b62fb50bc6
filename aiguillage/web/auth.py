"""Who is signed in: the session cookie resolved against the store, once per request.

The cookie holds a random token (HttpOnly, Secure, SameSite=Lax); the store
keeps its hash, so signing out ends the session everywhere at once. The
portal admits customer users only, the console tenant users only; a page
also names the console permission it needs (see `roles`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response

from aiguillage.store.repositories.users import (
    SESSION_LIFETIME,
    SignedIn,
    end_session,
    session_user,
)
from aiguillage.store.web_models import WebUser
from aiguillage.web import database
from aiguillage.web.roles import Permission, allowed

COOKIE = "aig_session"


def current_user() -> WebUser | None:
    """The signed-in user of this request, or None."""
    if "web_user" not in g:
        token = request.cookies.get(COOKIE)
        g.web_user = session_user(database.session(), token) if token else None
    return g.web_user


def set_session_cookie(response: Response, signed: SignedIn) -> Response:
    response.set_cookie(COOKIE, signed.token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True,
                        secure=bool(current_app.config["WEB_COOKIE_SECURE"]), samesite="Lax", path="/")
    return response


def sign_out(response: Response) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        end_session(database.session(), token)
        database.session().commit()
    response.delete_cookie(COOKIE, path="/")
    return response


def portal_user() -> WebUser:
    """The signed-in customer user (type-narrowed; only inside `@portal_page`)."""
    user = current_user()
    assert user is not None and user.customer_code is not None
    return user


def portal_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A portal page: customer users only; others are sent to sign in."""

    @functools.wraps(view)
    def guarded(**kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("portal.sign_in", next=request.full_path if request.method == "GET" else None))
        if user.role != "customer":
            abort(403)
        return view(**kwargs)

    return guarded


def console_page(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console page needing `permission`: tenant users whose role has it."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("console.sign_in",
                                        next=request.full_path if request.method == "GET" else None))
            if user.role == "customer" or not allowed(user.role, permission):
                abort(403)
            return view(**kwargs)

        return guarded

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """Where to go after signing in: only a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
