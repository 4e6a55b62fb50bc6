"""Migrations: up from empty, the schema they build equals the models, down and up again,
and the audit log is append-only in the database itself (triggers), on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from aiguillage.store import migrate
from aiguillage.store.base import Base
from aiguillage.store.database import make_engine
from aiguillage.store.errors import SchemaNotCurrent

pytest_plugins = ["aiguillage.store.testing"]

TABLES = {
    "tenants",
    "api_keys",
    "customers",
    "rulesets",
    "ruleset_versions",
    "ruleset_drafts",
    "reference_tables",
    "reference_rows",
    "invoices",
    "decisions",
    "outbox_entries",
    "delivery_attempts",
    "audit_log",
}


def test_upgrade_from_empty_builds_exactly_the_models(db_backend, empty_database):
    engine = make_engine(empty_database(db_backend))
    try:
        assert migrate.current_revision(engine) is None
        with pytest.raises(SchemaNotCurrent, match="aiguillage db upgrade"):
            migrate.require_current(engine)

        before, after = migrate.upgrade(engine)
        assert (before, after) == (None, migrate.head_revision())
        migrate.require_current(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert drift == [], f"models and migrations disagree: {drift}"

        assert migrate.upgrade(engine) == (migrate.head_revision(), migrate.head_revision())
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(db_backend, empty_database):
    engine = make_engine(empty_database(db_backend))
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_audit_log_refuses_update_and_delete_in_the_database(store_engine, make_tenant):
    tenant = make_tenant(store_engine)
    with store_engine.begin() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE tenant_id = :t"), {"t": tenant.hex if store_engine.dialect.name == "sqlite" else tenant}
        ).scalar_one()
    assert count == 1  # the tenant's creation
    for statement in ("UPDATE audit_log SET actor = 'forger'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), store_engine.begin() as connection:
            connection.execute(text(statement))


def test_audit_log_refuses_truncate_on_postgresql(postgres_url, make_tenant):
    engine = make_engine(postgres_url)
    try:
        make_tenant(engine)
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log CASCADE"))
    finally:
        engine.dispose()


def test_0013_rehashes_stored_invoices_by_their_business_terms(db_backend, empty_database, make_tenant):
    """A UBL invoice stored under the former hash (every field but provenance and syntax facts)
    is, after 0013, the same content as the same invoice written in CII."""
    from pathlib import Path

    from aiguillage.model.syntaxes import read_invoice, write_invoice
    from aiguillage.store.actor import Actor
    from aiguillage.store.database import session_factory, transaction
    from aiguillage.store.hashing import json_sha256
    from aiguillage.store.repositories.invoices import Invoices, business_hash, model_document

    engine = make_engine(empty_database(db_backend))
    try:
        migrate.upgrade(engine)
        tenant = make_tenant(engine)
        data = (Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml").read_bytes()
        ubl = read_invoice(data)
        with transaction(session_factory(engine)) as session:
            stored = Invoices(session, tenant).receive(ubl, data, Actor("key:aig_erp00001", role="erp")).invoice
            invoice_id, model = stored.id, stored.model
        former = json_sha256({k: v for k, v in model.items() if k not in ("provenance", "syntax_facts")})
        with engine.begin() as connection:
            connection.execute(text("UPDATE invoices SET model_sha256 = :h"), {"h": former})
        migrate.downgrade(engine, "0012")
        migrate.upgrade(engine)
        in_cii = model_document(read_invoice(write_invoice(ubl, "cii")))
        with engine.connect() as connection:
            (digest,) = connection.execute(text("SELECT model_sha256 FROM invoices")).one()
        assert former != digest == business_hash(model) == business_hash(in_cii), invoice_id
    finally:
        engine.dispose()
