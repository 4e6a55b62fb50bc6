"""The lean write path of submission: many invoices stored and decided in a handful of Core statements.

Month-end (issue 11) needs hundreds of submissions a second on two cores.
The ORM unit of work costs about a millisecond of Python per row (identity
map, flush ordering, one round trip per row and a savepoint per insert), and
a submission wrote about 25 rows one at a time. Here every kind of row is
written by one multi-row statement for the whole batch (a batch of one for
`POST /v1/invoices`), with the ids made in Python so nothing needs reading
back. The rows are exactly those the ORM path writes (`Invoices.receive`,
`record_decision`, `set_status`, `Outbox.enqueue`, the audit log, the
events), so the store cannot tell the two paths apart.

Concurrency is settled by the same constraints and row locks as before:

- `insert_invoices` is `INSERT … ON CONFLICT DO NOTHING RETURNING`: an item
  that meets an existing key or number is left out, and the caller hands it
  to `Invoices.receive`, which tells a repeat from a conflict;
- `lock_received` locks the batch's invoices (in id order) that are still
  `received`, so a repeat or the recovery pass decides nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.event_models import EventRecord
from aiguillage.store.models import AuditEntry, DecisionRecord, InvoiceRecord, OutboxEntry

INVOICES = InvoiceRecord.__table__
RECEIVED = "received"


def _dialect_insert(session: Session, table: Any):  # noqa: ANN202 - a dialect-specific Insert
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_invoices(session: Session, rows: list[dict[str, Any]]) -> dict[uuid.UUID, Decimal | None]:
    """Insert the invoice rows that conflict with nothing; {id: amount as stored} of those inserted.

    The amount comes back as the column keeps it (its scale), which is what
    the look-alike fingerprints are made of, whichever path decides.
    """
    if not rows:
        return {}
    statement = (_dialect_insert(session, INVOICES).on_conflict_do_nothing()
                 .returning(INVOICES.c.id, INVOICES.c.amount_with_vat))
    return {row.id: row.amount_with_vat for row in _many(session, statement, rows)}


def _many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> Any:
    """Execute for every row at once: with RETURNING, SQLAlchemy sends multi-row VALUES statements
    ("insertmanyvalues", one compiled form whatever the row count; rows in list order)."""
    return session.connection().execute(statement, rows)


def audit_row(tenant_id: uuid.UUID, actor: Actor, action: str, target_id: object, detail: dict[str, Any],
              at: datetime, target_type: str = "invoice") -> dict[str, Any]:
    """One audit entry's values, as `AuditLog.append` writes them."""
    return {"tenant_id": tenant_id, "at": at, "actor": actor.name, "key_id": actor.key_id, "role": actor.role,
            "action": action, "target_type": target_type, "target_id": str(target_id), "detail": detail}


def append_audit(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append the entries in list order (their ids keep that order: a trail reads as it happened)."""
    if rows:
        _many(session, insert(AuditEntry.__table__).returning(AuditEntry.__table__.c.id, sort_by_parameter_order=True), rows).all()


def append_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add the events (numbered by the sequencer once the transaction has committed, as `events.record`)."""
    if rows:
        _many(session, insert(EventRecord.__table__).returning(EventRecord.__table__.c.number, sort_by_parameter_order=True), rows).all()


def insert_decisions(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        _many(session, insert(DecisionRecord.__table__).returning(DecisionRecord.__table__.c.id), rows).all()


def insert_outbox(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue the deliveries; a delivery key met twice is a unique violation (contention: the caller retries)."""
    if rows:
        _many(session, insert(OutboxEntry.__table__).returning(OutboxEntry.__table__.c.id), rows).all()


def lock_received(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the invoices still `received`, row-locked until commit (whoever decides an invoice holds it)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    query = (select(INVOICES.c.id).where(INVOICES.c.tenant_id == tenant_id, INVOICES.c.id.in_(wanted),
                                         INVOICES.c.status == RECEIVED)
             .order_by(INVOICES.c.id).with_for_update())
    return set(session.scalars(query))


def statuses(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The current status of each invoice."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(INVOICES.c.id, INVOICES.c.status)
                           .where(INVOICES.c.tenant_id == tenant_id, INVOICES.c.id.in_(wanted)))
    return {row.id: row.status for row in rows}


def set_statuses(session: Session, tenant_id: uuid.UUID, new: Mapping[uuid.UUID, str],
                 now: datetime | None = None) -> None:
    """Move each invoice to its status: one UPDATE per distinct status (a handful per batch)."""
    now = now or utcnow()
    by_status: dict[str, list[uuid.UUID]] = {}
    for invoice_id, status in new.items():
        by_status.setdefault(status, []).append(invoice_id)
    for status, ids in sorted(by_status.items()):
        session.execute(update(INVOICES).where(INVOICES.c.tenant_id == tenant_id, INVOICES.c.id.in_(sorted(ids)))
                        .values(status=status, updated_at=now))
