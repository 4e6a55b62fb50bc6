"""Fixtures of the outbox and worker tests; load with
`pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]` and never import it directly
(pytest could then not rewrite its asserts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from aiguillage.store import migrate
from aiguillage.store.database import make_engine


@pytest.fixture
def dispatch_db(db_backend: str, empty_database: Callable[[str], str]) -> Iterator[Engine]:
    """A new migrated database of the backend under test, for this test alone.

    A worker claims across tenants, so tests that run one must not find
    another test's due entries: each gets its own database (about 0.05 s
    on SQLite, 0.2 s on PostgreSQL).
    """
    engine = make_engine(empty_database(db_backend))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
