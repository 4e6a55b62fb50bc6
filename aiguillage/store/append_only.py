"""Refuse, in every ORM session, any change to an audit entry.

The audit log is append-only three times over: the repository offers no way
to change an entry, these session hooks refuse a modified or deleted entry
and any bulk UPDATE/DELETE aimed at the table, and the migration installs
database triggers that refuse the same from any client at all.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from aiguillage.store.errors import AppendOnlyViolation
from aiguillage.store.models import AuditEntry


@event.listens_for(Session, "before_flush")
def _refuse_changed_entries(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AppendOnlyViolation("audit entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AppendOnlyViolation("audit entries cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    if any(mapper.class_ is AuditEntry for mapper in state.all_mappers):
        raise AppendOnlyViolation("audit entries cannot be changed or deleted")
