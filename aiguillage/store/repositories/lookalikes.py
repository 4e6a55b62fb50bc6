"""Look-alike questions as indexed, atomic statements: who first showed a fingerprint; the usual amount.

Each call is one statement on one primary-key row, inside the caller's
transaction, so its cost does not depend on how many invoices came before,
and concurrent submissions settle on the database's row lock:

- `claim` inserts (tenant, kind, fingerprint) → this invoice, or, when the
  row exists, takes it over only if its owner was seen before the window
  began; it returns the owner either way (`INSERT … ON CONFLICT DO UPDATE …
  RETURNING`, PostgreSQL 9.5+ and SQLite 3.35+). Two concurrent claims of a
  new fingerprint cannot both win: the second waits for the first's commit
  and then sees its row.
- `usual` reads a customer's count and total (the sum of its slots) and
  `count` adds one invoice to one slot (`count = count + 1`), never a
  read-modify-write in Python.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import case

from aiguillage.store.lookalike_models import AmountStatistic, InvoiceFingerprint
from aiguillage.store.repositories.base import TenantScoped

#: Rows a customer's statistic is spread over; concurrent submissions pick one by invoice id.
SLOTS = 8


def fingerprint(*parts: object) -> str:
    """A fixed-width digest of the normalised values (the table keeps nothing readable of the invoice)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class Usual:
    """A customer's running statistic before this invoice: how many, and their total in cents."""

    count: int
    total_cents: int

    @property
    def mean_cents(self) -> int:
        return self.total_cents // self.count if self.count else 0


class Lookalikes(TenantScoped):
    """A tenant's fingerprints and amount statistics."""

    noun = "fingerprint"

    def _insert(self):  # noqa: ANN202 - a dialect-specific Insert
        return (postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert)

    def claim(self, kind: str, digest: str, invoice_id: uuid.UUID, now: datetime, window: timedelta) -> uuid.UUID:
        """The invoice owning this fingerprint within the window: `invoice_id` itself when it is the first."""
        table = InvoiceFingerprint.__table__
        since = now - window
        statement = self._insert()(table).values(
            tenant_id=self.tenant_id, kind=kind, fingerprint=digest, invoice_id=invoice_id, seen_at=now,
        )
        expired = table.c.seen_at < since
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.kind, table.c.fingerprint],
            set_={
                "invoice_id": case((expired, statement.excluded.invoice_id), else_=table.c.invoice_id),
                "seen_at": case((expired, statement.excluded.seen_at), else_=table.c.seen_at),
            },
        ).returning(table.c.invoice_id)
        return self.session.execute(statement).scalar_one()

    def usual(self, customer_key: str) -> Usual:
        """The customer's count and total so far (all slots)."""
        row = self.session.execute(
            select(func.coalesce(func.sum(AmountStatistic.count), 0),
                   func.coalesce(func.sum(AmountStatistic.total_cents), 0))
            .where(AmountStatistic.tenant_id == self.tenant_id, AmountStatistic.customer_key == customer_key)
        ).one()
        return Usual(int(row[0]), int(row[1]))

    def count(self, customer_key: str, amount_cents: int, invoice_id: uuid.UUID) -> None:
        """Add one invoice to the customer's statistic, atomically (one slot, chosen by the invoice id)."""
        table = AmountStatistic.__table__
        statement = self._insert()(table).values(
            tenant_id=self.tenant_id, customer_key=customer_key[:300], slot=invoice_id.int % SLOTS,
            count=1, total_cents=amount_cents,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.customer_key, table.c.slot],
            set_={"count": table.c.count + 1, "total_cents": table.c.total_cents + statement.excluded.total_cents},
        )
        self.session.execute(statement)

    def claim_many(self, kind: str, claims: Mapping[str, uuid.UUID], now: datetime,
                   window: timedelta) -> dict[str, uuid.UUID]:
        """`claim` for many distinct fingerprints in one statement: {fingerprint: owner}.

        Rows go in fingerprint order, so concurrent batches lock them in the
        same order (no deadlock between two batches sharing look-alikes).
        """
        if not claims:
            return {}
        since = now - window
        rows = [{"tenant_id": self.tenant_id, "kind": kind, "fingerprint": digest, "invoice_id": claims[digest],
                 "seen_at": now, "since": since} for digest in sorted(claims)]
        found = self.session.connection().execute(_statements(self.session).claim, rows)
        return {row.fingerprint: row.invoice_id for row in found}

    def usual_many(self, customer_keys: Iterable[str]) -> dict[str, Usual]:
        """`usual` for many customers in one query (a customer with no row yet is absent)."""
        keys = sorted(set(customer_keys))
        if not keys:
            return {}
        rows = self.session.connection().execute(_USUAL_MANY, {"tenant": self.tenant_id, "keys": keys}).all()
        return {key: Usual(int(count or 0), int(total or 0)) for key, count, total in rows}

    def count_many(self, amounts: Iterable[tuple[str, int, uuid.UUID]]) -> None:
        """`count` for many invoices ((customer key, amount in cents, invoice id)): slots summed first, in order."""
        slots: dict[tuple[str, int], list[int]] = {}
        for customer_key, amount_cents, invoice_id in amounts:
            totals = slots.setdefault((customer_key[:300], invoice_id.int % SLOTS), [0, 0])
            totals[0] += 1
            totals[1] += amount_cents
        if not slots:
            return
        rows = [{"tenant_id": self.tenant_id, "customer_key": key, "slot": slot, "count": count, "total_cents": total}
                for (key, slot), (count, total) in sorted(slots.items())]
        self.session.connection().execute(_statements(self.session).count, rows).all()


@dataclass(frozen=True)
class _Statements:
    """The batch statements of one dialect, built once (building one per call cost more than running it)."""

    claim: Any
    count: Any


def _build(module: Any) -> _Statements:
    fingerprints, statistics = InvoiceFingerprint.__table__, AmountStatistic.__table__
    claim = module.insert(fingerprints)
    expired = fingerprints.c.seen_at < bindparam("since", type_=fingerprints.c.seen_at.type)
    claim = claim.on_conflict_do_update(
        index_elements=[fingerprints.c.tenant_id, fingerprints.c.kind, fingerprints.c.fingerprint],
        set_={
            "invoice_id": case((expired, claim.excluded.invoice_id), else_=fingerprints.c.invoice_id),
            "seen_at": case((expired, claim.excluded.seen_at), else_=fingerprints.c.seen_at),
        },
    ).returning(fingerprints.c.fingerprint, fingerprints.c.invoice_id)
    count = module.insert(statistics)
    count = count.on_conflict_do_update(
        index_elements=[statistics.c.tenant_id, statistics.c.customer_key, statistics.c.slot],
        set_={"count": statistics.c.count + count.excluded.count,
              "total_cents": statistics.c.total_cents + count.excluded.total_cents},
    ).returning(statistics.c.slot)
    return _Statements(claim, count)


_STATEMENTS = {"postgresql": _build(postgresql), "sqlite": _build(sqlite)}
_USUAL_MANY = (
    select(AmountStatistic.customer_key, func.sum(AmountStatistic.count), func.sum(AmountStatistic.total_cents))
    .where(AmountStatistic.tenant_id == bindparam("tenant"),
           AmountStatistic.customer_key.in_(bindparam("keys", expanding=True)))
    .group_by(AmountStatistic.customer_key)
)


def _statements(session: Any) -> _Statements:
    return _STATEMENTS["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
