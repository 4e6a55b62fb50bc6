"""Pytest fixtures for API tests: an app on a migrated database, a client, keys.

Load with `pytest_plugins = ["aiguillage.api.testing"]` (it loads the store's
database fixtures too). Each test gets a fresh tenant through `api_keys`, so
tests sharing the worker's database never see each other's data.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aiguillage.api import create_app
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.keys import ApiKeys
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.vocabulary import Role

pytest_plugins = ["aiguillage.store.testing"]


@dataclass(frozen=True)
class TestKey:
    """A key issued for a test: its tenant and the `Authorization` header to send."""

    __test__ = False  # not a test class, whatever its name says

    tenant_id: uuid.UUID
    tenant_name: str
    role: str
    plaintext: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}


def issue_key(database_url: str, role: Role | str, tenant_name: str | None = None) -> TestKey:
    """A key with `role` for `tenant_name` (created if missing; a fresh tenant when None)."""
    engine = make_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            tenants = Tenants(session)
            name = tenant_name or f"t-{secrets.token_hex(6)}"
            tenant = tenants.find(name) or tenants.create(name, CLI)
            issued = ApiKeys(session, tenant.id).issue(role, CLI, customer_code="C1" if role == "customer" else None)
            return TestKey(tenant.id, tenant.name, str(Role(role).value), issued.plaintext)
    finally:
        engine.dispose()


@pytest.fixture
def api_app(sqlite_url: str) -> Iterator[Flask]:
    """The app on this worker's migrated SQLite database."""
    application = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    yield application
    application.extensions["aiguillage.database"].engine.dispose()


@pytest.fixture
def api_client(api_app: Flask) -> FlaskClient:
    """Flask's test client for `api_app`."""
    return api_app.test_client()


@pytest.fixture
def api_keys(sqlite_url: str) -> Callable[..., TestKey]:
    """`api_keys(role)` → a key for a new tenant; `api_keys(role, tenant_name)` → another key for that tenant."""
    return lambda role, tenant_name=None: issue_key(sqlite_url, role, tenant_name)


@pytest.fixture(scope="session")
def key_issuer() -> Callable[..., TestKey]:
    """`key_issuer(database_url, role, tenant_name=None)`: a key on any test database."""
    return issue_key
