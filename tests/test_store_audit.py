"""The audit log is append-only in the ORM too: no change, no delete, no bulk statement."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from aiguillage.store.actor import Actor
from aiguillage.store.errors import AppendOnlyViolation
from aiguillage.store.models import AuditEntry
from aiguillage.store.repositories.audit import AuditLog

pytest_plugins = ["aiguillage.store.testing"]

ADMIN = Actor("key:aig_admin001", role="admin")


def test_entries_are_appended_and_listed_newest_first(store_tx, tenant_id):
    with store_tx() as session:
        log = AuditLog(session, tenant_id)
        for n in range(3):
            log.append(ADMIN, "thing.do", "thing", n, {"n": n})
    with store_tx() as session:
        entries = AuditLog(session, tenant_id).entries(target_type="thing")
        assert [e.detail["n"] for e in entries] == [2, 1, 0]
        assert entries[0].at.tzinfo is not None
        older = AuditLog(session, tenant_id).entries(target_type="thing", before_id=entries[0].id)
        assert [e.detail["n"] for e in older] == [1, 0]
        assert [e.detail["n"] for e in AuditLog(session, tenant_id).entries(target_id=1)] == [1]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda session, entry: setattr(entry, "actor", "someone else"),
        lambda session, entry: session.delete(entry),
        lambda session, entry: session.execute(update(AuditEntry).values(actor="x")),
        lambda session, entry: session.execute(delete(AuditEntry).where(AuditEntry.id == entry.id)),
    ],
    ids=["modify", "delete", "bulk-update", "bulk-delete"],
)
def test_the_session_refuses_to_change_entries(store_tx, tenant_id, tamper):
    with store_tx() as session:
        entry_id = AuditLog(session, tenant_id).append(ADMIN, "thing.do", "thing").id
    with pytest.raises(AppendOnlyViolation), store_tx() as session:
        entry = session.get(AuditEntry, entry_id)
        tamper(session, entry)
        session.flush()
    with store_tx() as session:
        assert session.get(AuditEntry, entry_id).actor == ADMIN.name


def test_one_tenant_does_not_see_anothers_entries(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    with store_tx() as session:
        AuditLog(session, theirs).append(ADMIN, "secret.read", "thing", "x")
    with store_tx() as session:
        assert [e.action for e in AuditLog(session, mine).entries()] == ["tenant.create"]
