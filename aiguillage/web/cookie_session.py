"""Flask's signed-cookie session, without a signer built for requests that carry no session cookie.

Flask builds an itsdangerous serializer (key derivation included) when it
opens the session of every request, and reads the cookie settings when it
saves it, even when there is no cookie and nothing was put in the session:
the case of every API call, which authenticates with a bearer key. Here
such a request gets its empty session straight away and nothing is saved;
a request with the cookie (a signed-in page) is handled by Flask as before.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    """`SecureCookieSessionInterface` with a shortcut for requests without the cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # what Flask would end up doing, without reading the cookie settings first
        super().save_session(app, session, response)
