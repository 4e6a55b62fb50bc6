"""One engine per app (per gunicorn worker), one session per request.

The session is opened on first use in a request and closed when the request
ends; anything not committed by then is rolled back, so a request that
fails half-way leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aiguillage.store.database import make_engine, reading_engine, session_factory

_EXTENSION = "aiguillage.database"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Database:
    """The app's engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]
    #: Sessions for requests that only read (GET, HEAD): they never wait for a writer.
    reading_sessions: sessionmaker[Session]


def init_app(app: Flask) -> Database:
    """Connect the app to `DATABASE_URL` and close each request's session at its end."""
    engine = make_engine(app.config["DATABASE_URL"])
    database = Database(engine, session_factory(engine), session_factory(reading_engine(engine)))
    app.extensions[_EXTENSION] = database
    app.teardown_appcontext(_close_session)
    return database


def database() -> Database:
    """The current app's database."""
    return current_app.extensions[_EXTENSION]


def session() -> Session:
    """This request's session (opened on first use; a reading one for GET and HEAD, and after `reads_only`)."""
    if "db_session" not in g:
        db = database()
        reading = request.method in _SAFE_METHODS or g.get("reads_only", False)
        g.db_session = db.reading_sessions() if reading else db.sessions()
    return g.db_session


def reads_only() -> None:
    """Say that this request only reads, whatever its method: its session, if it opens one, is a reading one."""
    g.reads_only = True


def commit_if_open() -> None:
    """Commit this request's work, if it did any."""
    current = g.get("db_session")
    if current is not None:
        current.commit()


def _close_session(_exc: BaseException | None) -> None:
    current = g.pop("db_session", None)
    if current is not None:
        current.close()
