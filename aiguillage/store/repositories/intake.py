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

The status a request answers is written with the decision (`set_statuses`
sets `answered_status` in the same UPDATE), so a repeat can be given the
first answer again (`answered`, `by_keys`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.event_models import EventRecord
from aiguillage.store.models import AuditEntry, DecisionRecord, InvoiceRecord, OutboxEntry

INVOICES = InvoiceRecord.__table__
RECEIVED = "received"

# Every statement is built once, with bind parameters: building and compiling a statement per call
# cost about 0.5 ms of CPU each, more than the database spends running it.
#: Audit entries and events without RETURNING: the driver runs the rows one after the other (a pipeline on
#: PostgreSQL), so their serial ids follow the list's order, and nothing needs sorting back.
_AUDIT = insert(AuditEntry.__table__)
_EVENTS = insert(EventRecord.__table__)
_DECISIONS = insert(DecisionRecord.__table__).returning(DecisionRecord.__table__.c.id)
_OUTBOX = insert(OutboxEntry.__table__).returning(OutboxEntry.__table__.c.id)
_LOCK_RECEIVED = (
    select(INVOICES.c.id)
    .where(INVOICES.c.tenant_id == bindparam("tenant"), INVOICES.c.id.in_(bindparam("ids", expanding=True)),
           INVOICES.c.status == RECEIVED)
    .order_by(INVOICES.c.id)
    .with_for_update()
)
_ANSWERED = select(INVOICES.c.id, func.coalesce(INVOICES.c.answered_status, literal(RECEIVED)).label("answered")).where(
    INVOICES.c.tenant_id == bindparam("tenant"), INVOICES.c.id.in_(bindparam("ids", expanding=True)))
_SET_STATUS = (
    update(INVOICES)
    .where(INVOICES.c.tenant_id == bindparam("tenant"), INVOICES.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=bindparam("new_status"), answered_status=bindparam("new_status"),
            updated_at=bindparam("now", type_=INVOICES.c.updated_at.type))
)
_BY_KEYS = select(INVOICES.c.idempotency_key, INVOICES.c.id, INVOICES.c.model_sha256, INVOICES.c.status,
                  INVOICES.c.answered_status).where(
    INVOICES.c.tenant_id == bindparam("tenant"), INVOICES.c.idempotency_key.in_(bindparam("keys", expanding=True)))
_INSERT_INVOICES = {
    name: module.insert(INVOICES).on_conflict_do_nothing().returning(INVOICES.c.id, INVOICES.c.amount_with_vat)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def dialect_of(session: Session) -> str:
    """"postgresql" or "sqlite": which of a statement's prebuilt forms to use."""
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def insert_invoices(session: Session, rows: list[dict[str, Any]]) -> dict[uuid.UUID, Decimal | None]:
    """Insert the invoice rows that conflict with nothing; {id: amount as stored} of those inserted.

    The amount comes back as the column keeps it (its scale), which is what
    the look-alike fingerprints are made of, whichever path decides.
    """
    if not rows:
        return {}
    return {row.id: row.amount_with_vat for row in _many(session, _INSERT_INVOICES[dialect_of(session)], rows)}


def _many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> Any:
    """Execute for every row at once: with RETURNING, SQLAlchemy sends multi-row VALUES statements
    ("insertmanyvalues", one compiled form whatever the row count)."""
    return session.connection().execute(statement, rows)


def audit_row(tenant_id: uuid.UUID, actor: Actor, action: str, target_id: object, detail: dict[str, Any],
              at: datetime, target_type: str = "invoice") -> dict[str, Any]:
    """One audit entry's values, as `AuditLog.append` writes them."""
    return {"tenant_id": tenant_id, "at": at, "actor": actor.name, "key_id": actor.key_id, "role": actor.role,
            "action": action, "target_type": target_type, "target_id": str(target_id), "detail": detail}


def append_audit(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append the entries in list order (their ids keep that order: a trail reads as it happened)."""
    if rows:
        _many(session, _AUDIT, rows)


def append_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add the events (numbered by the sequencer once the transaction has committed, as `events.record`)."""
    if rows:
        _many(session, _EVENTS, rows)


def insert_decisions(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        _many(session, _DECISIONS, rows).all()


def insert_outbox(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue the deliveries; a delivery key met twice is a unique violation (contention: the caller retries)."""
    if rows:
        _many(session, _OUTBOX, rows).all()


def by_keys(session: Session, tenant_id: uuid.UUID, keys: Iterable[str]) -> dict[str, Any]:
    """The invoices stored under these Idempotency-Keys: {key: row with id, model_sha256, status, answered_status}."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.connection().execute(_BY_KEYS, {"tenant": tenant_id, "keys": wanted})
    return {row.idempotency_key: row for row in rows}


def lock_received(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the invoices still `received`, row-locked until commit (whoever decides an invoice holds it)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(session.connection().execute(_LOCK_RECEIVED, {"tenant": tenant_id, "ids": wanted}).scalars())


def answered(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The status each invoice's first answer gave (`received` when none was recorded with a decision)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.connection().execute(_ANSWERED, {"tenant": tenant_id, "ids": wanted})
    return {row.id: row.answered for row in rows}


def set_statuses(session: Session, tenant_id: uuid.UUID, new: Mapping[uuid.UUID, str],
                 now: datetime | None = None) -> None:
    """Move each invoice to the status its decision gives, recorded as the answer too (`answered_status`).

    One UPDATE per distinct status (a handful per batch). Only for invoices
    decided for a request (the caller answers with these statuses).
    """
    now = now or utcnow()
    by_status: dict[str, list[uuid.UUID]] = {}
    for invoice_id, status in new.items():
        by_status.setdefault(status, []).append(invoice_id)
    for status, ids in sorted(by_status.items()):
        session.connection().execute(_SET_STATUS, {"tenant": tenant_id, "ids": sorted(ids), "new_status": status,
                                                   "now": now})
