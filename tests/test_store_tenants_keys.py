"""Tenants and API keys: names, hashing (the key itself is never stored), resolve, revoke."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aiguillage.store.actor import CLI
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.keys import PREFIX_LENGTH, generate_key, looks_like_key
from aiguillage.store.models import ApiKey, AuditEntry
from aiguillage.store.repositories.keys import ApiKeys, resolve
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.vocabulary import Role

pytest_plugins = ["aiguillage.store.testing"]


def test_generated_keys_are_random_and_well_formed():
    first, second = generate_key(), generate_key()
    assert first.plaintext != second.plaintext
    assert looks_like_key(first.plaintext)
    assert first.prefix == first.plaintext[:PREFIX_LENGTH]
    assert len(first.secret_hash) == 64 and first.plaintext not in first.secret_hash
    assert not looks_like_key("aig_short")
    assert not looks_like_key(first.plaintext[:-1] + "!")


def test_tenant_names_are_unique_and_checked(store_tx):
    with store_tx() as session:
        tenant = Tenants(session).create(f"acme-{id(session)}", CLI)
        name = tenant.name
    with pytest.raises(Conflict, match="already exists"), store_tx() as session:
        Tenants(session).create(name, CLI)
    for bad in ("", "has space", "-dash", "x" * 65):
        with pytest.raises(Invalid), store_tx() as session:
            Tenants(session).create(bad, CLI)
    with store_tx() as session:
        assert Tenants(session).by_name(name).id == tenant.id
        with pytest.raises(NotFound):
            Tenants(session).by_name("no-such-tenant-here")


def test_issue_stores_only_the_hash_and_resolves_to_tenant_and_role(store_tx, tenant_id):
    with store_tx() as session:
        issued = ApiKeys(session, tenant_id).issue(Role.ANALYST, CLI, label="Marie")
        key_id, plaintext = issued.record.id, issued.plaintext
    with store_tx() as session:
        stored = session.get(ApiKey, key_id)
        columns = [getattr(stored, c.key) for c in ApiKey.__table__.columns]
        assert plaintext not in [str(v) for v in columns]
        assert stored.prefix == plaintext[:PREFIX_LENGTH]

        principal = resolve(session, plaintext)
        assert principal is not None
        assert (principal.tenant_id, principal.role, principal.key_id) == (tenant_id, Role.ANALYST, key_id)
        assert principal.actor.name == f"key:{stored.prefix}"

        assert resolve(session, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
        assert resolve(session, "Bearer nonsense") is None
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)).all()
        assert "key.create" in actions


def test_revoked_key_no_longer_resolves(store_tx, tenant_id):
    with store_tx() as session:
        issued = ApiKeys(session, tenant_id).issue("erp", CLI)
    with store_tx() as session:
        ApiKeys(session, tenant_id).revoke(issued.record.id, CLI)
    with store_tx() as session:
        assert resolve(session, issued.plaintext) is None
        assert ApiKeys(session, tenant_id).all() == []
        assert len(ApiKeys(session, tenant_id).all(include_revoked=True)) == 1


def test_roles_are_checked_and_customer_keys_bound_to_a_customer(store_tx, tenant_id):
    with pytest.raises(Invalid, match="unknown role"), store_tx() as session:
        ApiKeys(session, tenant_id).issue("superuser", CLI)
    with pytest.raises(Invalid, match="customer's code"), store_tx() as session:
        ApiKeys(session, tenant_id).issue("customer", CLI)
    with pytest.raises(Invalid, match="only a key with role 'customer'"), store_tx() as session:
        ApiKeys(session, tenant_id).issue("erp", CLI, customer_code="ACME")
    with store_tx() as session:
        issued = ApiKeys(session, tenant_id).issue("customer", CLI, customer_code="ACME")
        assert resolve(session, issued.plaintext).customer_code == "ACME"


def test_another_tenants_key_cannot_be_revoked(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    with store_tx() as session:
        issued = ApiKeys(session, theirs).issue("admin", CLI)
    with pytest.raises(NotFound), store_tx() as session:
        ApiKeys(session, mine).revoke(issued.record.id, CLI)
    with store_tx() as session:
        assert resolve(session, issued.plaintext) is not None
