"""Reference-data tables: layout checks, rows as exact text, revisions, isolation, audit."""

from __future__ import annotations

import pytest

from aiguillage.store.actor import Actor
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.reference import ReferenceTables

pytest_plugins = ["aiguillage.store.testing"]

ERP = Actor("key:aig_erp00001", role="erp")
ROWS = [
    {"buyer_reference": "ACME-ACHATS-75", "po_number": "PO-204518", "budget": "12500.00"},
    {"buyer_reference": "ACME-ACHATS-13", "po_number": "PO-204519", "budget": None},
]


def _create(session, tenant, name="purchase_orders", rows=ROWS):
    return ReferenceTables(session, tenant).create(
        name, "buyer_reference", ["buyer_reference", "po_number", "budget"], ERP, rows=rows, description="order book"
    )


def test_create_lookup_and_row_operations(store_tx, tenant_id):
    with store_tx() as session:
        table_id = _create(session, tenant_id).id
    with store_tx() as session:
        tables = ReferenceTables(session, tenant_id)
        revision, rows = tables.lookup("purchase_orders")
        assert revision == 1
        assert rows["ACME-ACHATS-75"] == ROWS[0]
        assert rows["ACME-ACHATS-75"]["budget"] == "12500.00"  # exact, as text
        assert [r.key for r in tables.rows(table_id)] == ["ACME-ACHATS-13", "ACME-ACHATS-75"]
        assert tables.row_counts([table_id]) == {table_id: 2}

        row, created = tables.put_row(table_id, "ACME-ACHATS-69", {"po_number": "PO-1"}, ERP)
        assert created and row.data == {"buyer_reference": "ACME-ACHATS-69", "po_number": "PO-1", "budget": None}
        _, created = tables.put_row(table_id, "ACME-ACHATS-69", {"po_number": "PO-2"}, ERP)
        assert not created
        tables.delete_row(table_id, "ACME-ACHATS-13", ERP)
        assert tables.replace_rows(table_id, ROWS[:1], ERP) == 1
        revision, rows = tables.lookup("purchase_orders")
        assert revision == 5 and list(rows) == ["ACME-ACHATS-75"]
        tables.describe(table_id, "new description", ERP)
    with store_tx() as session:
        ReferenceTables(session, tenant_id).delete(table_id, ERP)
    with store_tx() as session:
        with pytest.raises(NotFound):
            ReferenceTables(session, tenant_id).get(table_id)
        actions = [e.action for e in AuditLog(session, tenant_id).entries(target_type="table", target_id=table_id)]
        assert actions == [
            "table.delete",
            "table.update",
            "table.rows.replace",
            "table.row.delete",
            "table.row.put",
            "table.row.put",
            "table.create",
        ]


@pytest.mark.parametrize(
    ("name", "key", "columns", "rows", "pointer"),
    [
        ("bad name", "k", ["k"], [], "/name"),
        ("t", "k", [], [], "/columns"),
        ("t", "k", ["k", "k"], [], "/columns/1"),
        ("t", "missing", ["k"], [], "/key"),
        ("t", "k", ["k", "v"], [{"k": "a", "v": 12.5}], "/rows/0/v"),
        ("t", "k", ["k", "v"], [{"k": "a", "x": "1"}], "/rows/0/x"),
        ("t", "k", ["k", "v"], [{"v": "1"}], "/rows/0/k"),
        ("t", "k", ["k", "v"], [{"k": "a"}, {"k": "a"}], "/rows/1/k"),
    ],
)
def test_invalid_tables_name_the_offending_value(store_tx, tenant_id, name, key, columns, rows, pointer):
    with pytest.raises(Invalid) as caught, store_tx() as session:
        ReferenceTables(session, tenant_id).create(name, key, columns, ERP, rows=rows)
    assert caught.value.pointer == pointer


def test_names_unique_per_tenant_and_isolated(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    with store_tx() as session:
        their_table = _create(session, theirs)
        _create(session, mine)
    with pytest.raises(Conflict), store_tx() as session:
        _create(session, mine)
    with store_tx() as session:
        tables = ReferenceTables(session, mine)
        for attempt in (
            lambda: tables.get(their_table.id),
            lambda: tables.rows(their_table.id),
            lambda: tables.put_row(their_table.id, "X", {"po_number": "1"}, ERP),
            lambda: tables.replace_rows(their_table.id, [], ERP),
            lambda: tables.delete(their_table.id, ERP),
        ):
            with pytest.raises(NotFound):
                attempt()
        assert [t.id for t in tables.all()] != [their_table.id]
    with store_tx() as session:
        assert ReferenceTables(session, theirs).lookup("purchase_orders")[0] == 1
