"""One read-write session per page request, closed when the request ends (uncommitted work rolls back)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

_EXTENSION = "aiguillage.web.sessions"


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    app.extensions[_EXTENSION] = sessions
    app.teardown_appcontext(_close)


def session() -> Session:
    """This request's session (opened on first use)."""
    if "web_db" not in g:
        g.web_db = current_app.extensions[_EXTENSION]()
    return g.web_db


def _close(_exc: BaseException | None) -> None:
    current = g.pop("web_db", None)
    if current is not None:
        current.close()
