"""Pytest fixtures for tests that need a real database: SQLite and PostgreSQL.

Load with `pytest_plugins = ["aiguillage.store.testing"]` in a test module, and use
only its fixtures there (importing the module directly would defeat pytest's
assertion rewriting of it).
Lives in the package (not in `tests/`) so later work (the dispatch worker,
the workflows) reuses the same databases without copying fixtures.

Isolation under `pytest -n auto`: every xdist worker gets its own SQLite file
and its own PostgreSQL database (`aiguillage_t_<worker>_<pid>_<random>`),
created empty, migrated once, and dropped when the session ends. Tests
inside one worker share that database and isolate themselves by creating
their own tenant, which is exactly the isolation the product promises.

PostgreSQL comes from `AIGUILLAGE_TEST_POSTGRES_URL` (default: the local
server, user postgres, database test). When it cannot be reached the tests
that need it skip on a developer machine but FAIL when `CI=true`: CI must
never pass without having run them.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from aiguillage.store import migrate
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, normalise_url, session_factory, transaction
from aiguillage.store.repositories.tenants import Tenants

#: Environment variable with the URL of a PostgreSQL database tests may connect to as an admin.
POSTGRES_ENV = "AIGUILLAGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url() -> URL:
    """Where the test PostgreSQL server is (a database on it the tests may connect to)."""
    return normalise_url(os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL)


def require_postgres() -> None:
    """Skip (developer machine) or fail (CI=true) when the PostgreSQL server is not reachable."""
    url = postgres_admin_url()
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = (
            f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)} "
            f"(set {POSTGRES_ENV}): {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    finally:
        engine.dispose()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def create_postgres_database() -> URL:
    """A new, empty PostgreSQL database on the test server; returns its URL."""
    require_postgres()
    name = f"aiguillage_t_{_worker()}_{os.getpid()}_{secrets.token_hex(4)}".lower()
    engine = make_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return postgres_admin_url().set(database=name)


def drop_postgres_database(url: URL) -> None:
    """Drop a database made by `create_postgres_database`, closing its connections."""
    engine = make_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def new_tenant(engine: Engine, prefix: str = "t") -> uuid.UUID:
    """A tenant with a unique name in the database; its id."""
    with transaction(session_factory(engine)) as session:
        return Tenants(session).create(f"{prefix}-{secrets.token_hex(6)}", CLI).id


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """A factory of new empty databases: `empty_database("sqlite" | "postgresql")` → URL.

    Every database it made is removed when the session ends.
    """
    made: list[URL] = []
    folder: Path = tmp_path_factory.mktemp("databases")

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{folder / f'{secrets.token_hex(6)}.db'}"
        if backend == "postgresql":
            url = create_postgres_database()
            made.append(url)
            return url.render_as_string(hide_password=False)
        raise ValueError(f"unknown backend {backend!r}")

    yield make
    for url in made:
        drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Each database backend in turn: a test using it runs once on SQLite, once on PostgreSQL."""
    return request.param


@pytest.fixture(scope="session")
def store_engine(db_backend: str, empty_database: Callable[[str], str]) -> Iterator[Engine]:
    """A migrated database of the backend under test, shared by the worker's tests."""
    engine = make_engine(empty_database(db_backend))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(empty_database: Callable[[str], str]) -> str:
    """A migrated SQLite database for this worker (API tests run on it)."""
    url = empty_database("sqlite")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url(empty_database: Callable[[str], str]) -> str:
    """A migrated PostgreSQL database for this worker."""
    url = empty_database("postgresql")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def make_tenant() -> Callable[..., uuid.UUID]:
    """`make_tenant(engine)` → the id of a new tenant with a unique name."""
    return new_tenant


@pytest.fixture
def tenant_id(store_engine: Engine) -> uuid.UUID:
    """A fresh tenant in the backend under test."""
    return new_tenant(store_engine)


@pytest.fixture
def store_tx(store_engine: Engine) -> Callable[[], AbstractContextManager[Session]]:
    """`with store_tx() as session:` one committed transaction on the backend under test."""
    factory = session_factory(store_engine)
    return lambda: transaction(factory)


@pytest.fixture(scope="session")
def postgres_requirement() -> Callable[[], None]:
    """The check that skips or fails (CI=true) when PostgreSQL is unreachable, for testing it."""
    return require_postgres
