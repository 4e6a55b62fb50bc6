"""Run a scenario through the product: store its customers and invoices, import its statement, score it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from aiguillage.payments.importing import ImportReport, import_statement
from aiguillage.payments.ledger import Ledger
from aiguillage.payments.testing.scenario import Scenario, Score, invoice_rows, score
from aiguillage.payments.testing.writers import camt
from aiguillage.store.actor import Actor
from aiguillage.store.database import transaction
from aiguillage.store.models import Customer, InvoiceRecord
from aiguillage.store.payment_models import Allocation, InvoiceBalance, Payment

ACTOR = Actor("benchmark")


@dataclass
class Outcome:
    score: Score
    report: ImportReport
    load_s: float
    balances_s: float
    import_s: float
    statement_bytes: int
    #: CPU seconds this process spent importing (the database server's work is not in it).
    import_cpu_s: float = 0.0


def load(sessions: sessionmaker[Session], tenant_id: uuid.UUID, scenario: Scenario) -> float:
    """Store the scenario's customers and invoices (bulk inserts); seconds taken."""
    started = time.perf_counter()
    with transaction(sessions) as session:
        session.execute(insert(Customer), [{"tenant_id": tenant_id, "code": c.code, "name": c.name, "language": "fr",
                                            "preferred_formats": []} for c in scenario.customers])
        rows = invoice_rows(scenario, tenant_id)
        for start in range(0, len(rows), 2000):
            session.execute(insert(InvoiceRecord), rows[start:start + 2000])
    return time.perf_counter() - started


def run(sessions: sessionmaker[Session], tenant_id: uuid.UUID, scenario: Scenario) -> Outcome:
    load_s = load(sessions, tenant_id, scenario)
    started = time.perf_counter()
    with transaction(sessions) as session:
        Ledger(session, tenant_id).ensure_balances()  # done as invoices arrive in production; timed apart
    balances_s = time.perf_counter() - started
    statement = camt(scenario.credits)
    started, cpu = time.perf_counter(), time.process_time()
    with transaction(sessions) as session:
        report = import_statement(session, tenant_id, statement, ACTOR, filename="benchmark.xml")
    import_s, import_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    with transaction(sessions) as session:
        allocated = allocations_by_line(session, tenant_id)
    return Outcome(score(scenario, allocated), report, load_s, balances_s, import_s, len(statement), import_cpu_s)


def allocations_by_line(session: Session, tenant_id: uuid.UUID) -> dict[int, dict[str, Decimal]]:
    """Statement line → {invoice number: amount allocated} (live allocations paid by money, not write-offs)."""
    rows = session.execute(
        select(Payment.statement_line, InvoiceBalance.number, Allocation.amount)
        .join(Allocation, Allocation.payment_id == Payment.id)
        .join(InvoiceBalance, (InvoiceBalance.tenant_id == Allocation.tenant_id)
              & (InvoiceBalance.invoice_id == Allocation.invoice_id))
        .where(Payment.tenant_id == tenant_id, Allocation.reversed_at.is_(None), Allocation.kind != "write_off"))
    out: dict[int, dict[str, Decimal]] = {}
    for line, number, amount in rows:
        bucket = out.setdefault(line, {})
        bucket[number] = bucket.get(number, Decimal(0)) + amount
    return out
