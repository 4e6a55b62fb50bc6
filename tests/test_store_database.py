"""Database URLs: where the default is, what the environment does, PostgreSQL by URL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aiguillage.store.database import (
    DEFAULT_URL,
    URL_ENV,
    DatabaseUrlError,
    describe,
    make_engine,
    normalise_url,
    resolve_url,
)

pytest_plugins = ["aiguillage.store.testing"]


def test_explicit_url_wins_then_environment_then_default(monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    assert resolve_url() == DEFAULT_URL == "sqlite:///aiguillage.db"
    monkeypatch.setenv(URL_ENV, "postgresql://db/prod")
    assert resolve_url() == "postgresql://db/prod"
    assert resolve_url("sqlite:///other.db") == "sqlite:///other.db"


def test_postgresql_urls_use_psycopg3_and_passwords_stay_hidden():
    assert normalise_url("postgresql://u:secret@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert "secret" not in describe("postgresql://u:secret@h/db")
    with pytest.raises(DatabaseUrlError, match="unsupported"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(DatabaseUrlError, match="not a database URL"):
        normalise_url("not a url")


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_utc(store_tx, tenant_id):
    from aiguillage.store.models import Tenant

    with store_tx() as session:
        created = session.get(Tenant, tenant_id).created_at
        assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0


def test_unreachable_postgresql_fails_under_ci_and_skips_elsewhere(postgres_requirement, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not reachable"):
        postgres_requirement()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not reachable"):
        postgres_requirement()
