"""Run the Alembic migrations from code, wherever the package is installed.

The Alembic environment ships inside the package (`aiguillage/store/migrations`)
and is located through the package, not through an `alembic.ini` next to a
checkout, so `aiguillage db upgrade` works from a wheel. The connection is
handed to `env.py` through `Config.attributes`, so the SQLite tuning of
`database.make_engine` applies to migrations too.
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from aiguillage.store.database import reading_engine
from aiguillage.store.errors import SchemaNotCurrent

#: Where the Alembic scripts live, in Alembic's "package:folder" notation.
SCRIPT_LOCATION = "aiguillage.store:migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged scripts (and a connection, if given)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision the code knows (the scripts do not change while running)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migration scripts found in the package")
    return head


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision the database is at; None for an empty database."""
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with reading_engine(bind).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema up to `revision`; returns (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
    return before, current_revision(engine)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to `revision` ("base" empties it); for tests and emergencies."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not at the code's head revision."""
    current = current_revision(engine)
    if current != head_revision():
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaNotCurrent(
            f"the database schema is {state}, this version needs {head_revision()}: "
            "run `aiguillage db upgrade` first"
        )
