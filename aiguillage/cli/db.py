"""`aiguillage db upgrade|current [--database URL]`: bring the schema up to date, or show it.

Also home of what every store-touching command shares: the `--database`
option and `store_transaction`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from aiguillage.cli.main import CliError
from aiguillage.store import migrate
from aiguillage.store.database import (
    DatabaseUrlError,
    describe,
    make_engine,
    resolve_url,
    session_factory,
    transaction,
)
from aiguillage.store.errors import SchemaNotCurrent, StoreError

DATABASE_HELP = (
    "database URL (default: $AIGUILLAGE_DATABASE_URL, else sqlite:///aiguillage.db in the current "
    "directory); PostgreSQL as postgresql+psycopg://user:password@host/dbname"
)


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """The `--database URL` option every command that touches the store takes."""
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="manage the database schema", description="Manage the database schema.")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply every pending migration (safe to run again)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    add_database_option(upgrade)
    upgrade.set_defaults(handler=run_upgrade)
    current = actions.add_parser("current", help="show the schema revision of the database")
    add_database_option(current)
    current.set_defaults(handler=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    url = resolve_url(args.database)
    try:
        engine = make_engine(url)
        before, after = migrate.upgrade(engine, args.revision)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise CliError(f"{describe(url)}: {_reason(exc)}") from None
    if before == after:
        print(f"{describe(url)}: already at revision {after}")
    else:
        print(f"{describe(url)}: upgraded from {before or 'an empty database'} to revision {after}")
    engine.dispose()
    return 0


def run_current(args: argparse.Namespace) -> int:
    url = resolve_url(args.database)
    try:
        engine = make_engine(url)
        current = migrate.current_revision(engine)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise CliError(f"{describe(url)}: {_reason(exc)}") from None
    head = migrate.head_revision()
    state = "current" if current == head else f"behind (this version needs {head})"
    print(f"{describe(url)}: revision {current or 'none (empty)'}, {state}")
    engine.dispose()
    return 0


def _reason(exc: SQLAlchemyError) -> str:
    """The first line of the driver's message: enough to act on, no stack."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def current_engine(database: str | None, *, pool_size: int | None = None) -> Engine:
    """An engine on a database whose schema is current (the long-running commands' start), or a `CliError`."""
    url = resolve_url(database)
    try:
        engine = make_engine(url, **({"pool_size": pool_size} if pool_size is not None else {}))
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    try:
        migrate.require_current(engine)
    except SchemaNotCurrent as exc:
        engine.dispose()
        raise CliError(f"{describe(url)}: {exc.message}") from None
    return engine


@contextmanager
def store_transaction(database: str | None) -> Iterator[Session]:
    """One transaction on the database, for commands that read or write the store.

    Refuses a database whose schema is not current, and turns store and
    driver errors into one-line `CliError`s.
    """
    url = resolve_url(database)
    try:
        engine = make_engine(url)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    try:
        migrate.require_current(engine)
        with transaction(session_factory(engine)) as session:
            yield session
    except StoreError as exc:
        raise CliError(exc.message) from None
    except SQLAlchemyError as exc:
        raise CliError(f"{describe(url)}: {_reason(exc)}") from None
    finally:
        engine.dispose()
