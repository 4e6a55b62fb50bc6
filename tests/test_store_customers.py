"""Customers: create, read, update, delete, codes unique per tenant, tenant isolation, audit."""

from __future__ import annotations

import pytest

from aiguillage.store.actor import Actor
from aiguillage.store.errors import Conflict, NotFound, StoreError
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers

pytest_plugins = ["aiguillage.store.testing"]

ANALYST = Actor("key:aig_test0001", role="analyst")

ACME = {
    "code": "ACME-FR-001",
    "name": "ACME Retail France SA",
    "language": "fr",
    "vat_identifier": "FR32521987654",
    "email": "ap@acme.example",
    "peppol_participant_id": "0009:52198765400019",
    "edi_partner_id": "ACMEEDI",
    "edi_transport": "sftp",
    "fax_number": "+33400000000",
    "postal_address": {"line_one": "1 place Bellecour", "city": "Lyon", "post_code": "69002", "country_code": "FR"},
    "preferred_formats": ["facturx", "ubl"],
}


def test_create_read_update_delete(store_tx, tenant_id):
    with store_tx() as session:
        created = Customers(session, tenant_id).create(ACME, ANALYST)
        customer_id = created.id
    with store_tx() as session:
        customers = Customers(session, tenant_id)
        customer = customers.get(customer_id)
        assert customer.postal_address["city"] == "Lyon"
        assert customer.preferred_formats == ["facturx", "ubl"]
        assert customers.by_code("ACME-FR-001").id == customer_id
        assert [c.code for c in customers.page()] == ["ACME-FR-001"]
    with store_tx() as session:
        updated = Customers(session, tenant_id).update(customer_id, {"email": "factures@acme.example", "name": ACME["name"]}, ANALYST)
        assert updated.email == "factures@acme.example"
    with store_tx() as session:
        Customers(session, tenant_id).delete(customer_id, ANALYST)
    with store_tx() as session:
        with pytest.raises(NotFound):
            Customers(session, tenant_id).get(customer_id)
        trail = AuditLog(session, tenant_id).entries(target_type="customer", target_id=customer_id)
        assert [e.action for e in trail] == ["customer.delete", "customer.update", "customer.create"]
        assert trail[1].detail == {"fields": ["email"]}
        assert {e.actor for e in trail} == {"key:aig_test0001"}


def test_codes_are_unique_per_tenant_only(store_tx, store_engine, make_tenant):
    first, second = make_tenant(store_engine), make_tenant(store_engine)
    with store_tx() as session:
        Customers(session, first).create(ACME, ANALYST)
        Customers(session, second).create(ACME, ANALYST)
    with pytest.raises(Conflict, match="already exists"), store_tx() as session:
        Customers(session, first).create(ACME, ANALYST)
    with store_tx() as session:
        other = Customers(session, first).create({**ACME, "code": "OTHER"}, ANALYST)
    with pytest.raises(Conflict), store_tx() as session:
        Customers(session, first).update(other.id, {"code": ACME["code"]}, ANALYST)


def test_another_tenants_customer_is_not_found(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    with store_tx() as session:
        their_customer = Customers(session, theirs).create(ACME, ANALYST)
    with store_tx() as session:
        mine_repo = Customers(session, mine)
        for attempt in (
            lambda: mine_repo.get(their_customer.id),
            lambda: mine_repo.update(their_customer.id, {"name": "stolen"}, ANALYST),
            lambda: mine_repo.delete(their_customer.id, ANALYST),
            lambda: mine_repo.by_code(ACME["code"]),
        ):
            with pytest.raises(NotFound):
                attempt()
        assert mine_repo.page() == []
    with store_tx() as session:
        assert Customers(session, theirs).get(their_customer.id).name == ACME["name"]


def test_paging_by_code_and_guarded_fields(store_tx, tenant_id):
    with store_tx() as session:
        customers = Customers(session, tenant_id)
        for n in range(5):
            customers.create({**ACME, "code": f"C{n}"}, ANALYST)
        assert [c.code for c in customers.page(limit=2)] == ["C0", "C1"]
        assert [c.code for c in customers.page(after="C1", limit=2)] == ["C2", "C3"]
        assert [c.code for c in customers.page(code="C4")] == ["C4"]
        with pytest.raises(StoreError, match="tenant_id"):
            customers.create({**ACME, "code": "X", "tenant_id": tenant_id}, ANALYST)


def test_repositories_refuse_to_exist_without_a_tenant(store_tx):
    with store_tx() as session, pytest.raises(TypeError):
        Customers(session, None)
