"""Where the database is and how to connect to it.

One URL names the database: `--database` on the command line, else
`AIGUILLAGE_DATABASE_URL`, else an SQLite file `aiguillage.db` in the current
directory (embedded, zero set-up). PostgreSQL is `postgresql+psycopg://…`
(psycopg 3); a bare `postgresql://` URL is taken to mean the same.

SQLite is tuned so that several gunicorn workers can share the file safely:
foreign keys on (SQLite ignores them otherwise), WAL journal (readers never
block the writer), a busy timeout, and `BEGIN IMMEDIATE` for every
transaction that may write, so one that reads then writes waits its turn
instead of failing half-way with "database is locked". Transactions known to
only read (`reading_engine`) begin DEFERRED and never wait.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

#: Environment variable naming the database.
URL_ENV = "AIGUILLAGE_DATABASE_URL"

#: The default: an SQLite file in the current working directory.
DEFAULT_URL = "sqlite:///aiguillage.db"

#: Execution option naming how an SQLite transaction begins ("IMMEDIATE" unless told).
SQLITE_BEGIN_OPTION = "aiguillage_sqlite_begin"

#: How long an SQLite connection waits for another writer before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 30


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message says why."""


def resolve_url(explicit: str | None = None) -> str:
    """The database URL to use: the explicit one, else the environment, else the default file."""
    return explicit or os.environ.get(URL_ENV) or DEFAULT_URL


def normalise_url(url: str | URL) -> URL:
    """Parse the URL and pick psycopg 3 for PostgreSQL when no driver is named."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"not a database URL: {url!s}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///FILE or postgresql+psycopg://…"
        )
    return parsed


def describe(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    return normalise_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL, **options: Any) -> Engine:
    """An engine for the URL, with the SQLite settings above applied on every connection."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT)
        engine = create_engine(parsed, **options)
        _tune_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **options)


def _tune_sqlite(engine: Engine) -> None:
    """Apply the pragmas and take over transaction control from the sqlite3 module.

    Python's sqlite3 module issues its own deferred BEGIN and does not play
    well with SAVEPOINT; with `isolation_level = None` it stays out of the
    way and SQLAlchemy's "begin" event emits `BEGIN IMMEDIATE` instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT * 1000}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def reading_engine(engine: Engine) -> Engine:
    """The same engine (same pool) for transactions that only read.

    On SQLite they begin DEFERRED, so they neither take nor wait for the
    write lock and, under WAL, run alongside a writer. Elsewhere it is the
    engine itself.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the API serialises them then)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    with factory() as session, session.begin():
        yield session
