"""Alembic environment: run the revisions on the connection `store.migrate` hands over.

Online mode only, on a connection someone else opened: the URL, the SQLite
tuning and the transaction all belong to the caller. Without a handed-over
connection (plain `alembic` command line), the URL comes from the same place
the CLI takes it from.
"""

from __future__ import annotations

from alembic import context

from aiguillage.store import models  # noqa: F401 - registers the tables on Base.metadata
from aiguillage.store.base import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from aiguillage.store.database import make_engine, resolve_url

    engine = make_engine(resolve_url())
    with engine.begin() as own_connection:
        _run(own_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `aiguillage db upgrade`")
run_migrations_online()
