"""Import a bank statement: record each credit as a payment, allocate what the evidence allows, report per line.

Two passes: the first allocates what references and invoice numbers name
and so learns which IBAN pays for which customer; the second retries the
lines left unallocated, now that more payers are known. A statement file is
imported once per tenant (by its SHA-256), and each line is recorded once
(by the bank's reference), so a camt.054 notification followed by the day's
camt.053 does not count the same credit twice.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.payments.ledger import Ledger, stop_reminders_of
from aiguillage.payments.matching import ZERO, IncomingPayment, OpenItems, Proposal, propose
from aiguillage.payments.money import shown
from aiguillage.payments.rules import policies
from aiguillage.payments.statements import Statement, StatementLine, read_statement
from aiguillage.store.actor import Actor
from aiguillage.store.errors import Conflict
from aiguillage.store.payment_models import BankStatement, Payment
from aiguillage.store.repositories.audit import AuditLog


@dataclass
class LineOutcome:
    """What happened to one statement line."""

    number: int
    amount: Decimal
    currency: str
    status: str  # allocated, partially_allocated, unallocated, duplicate, debit
    payment_id: uuid.UUID | None = None
    invoices: list[tuple[str, Decimal]] = field(default_factory=list)
    unapplied: Decimal = ZERO
    reason: str = ""
    method: str = ""

    def describe(self) -> str:
        head = f"line {self.number}: {shown(self.amount)} {self.currency}"
        if self.status == "debit":
            return f"{head} debit, skipped"
        if self.status == "duplicate":
            return f"{head} already recorded (payment {self.payment_id}), skipped"
        paid = ", ".join(f"{number} {shown(amount)}" for number, amount in self.invoices)
        text = f"{head} {self.status.replace('_', ' ')}"
        if paid:
            text += f" to {paid} ({self.method})"
        if self.unapplied and self.status != "unallocated":
            text += f"; {shown(self.unapplied)} unapplied"
        if self.reason and self.status != "allocated":
            text += f" - {self.reason}"
        return text


@dataclass
class ImportReport:
    statement_id: uuid.UUID
    format: str
    lines: list[LineOutcome]

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {"lines": len(self.lines), "allocated": self.count("allocated"),
                "partially_allocated": self.count("partially_allocated"),
                "unallocated": self.count("unallocated"), "debits": self.count("debit"),
                "duplicates": self.count("duplicate")}

    def last_line(self) -> str:
        s = self.summary
        text = (f"statement: {s['lines']} lines, {s['allocated']} allocated, {s['partially_allocated']} partially "
                f"allocated, {s['unallocated']} unallocated")
        extra = [f"{s['debits']} debits skipped"] if s["debits"] else []
        extra += [f"{s['duplicates']} already recorded"] if s["duplicates"] else []
        return text + (f" ({', '.join(extra)})" if extra else "")


def import_statement(session: Session, tenant_id: uuid.UUID, data: bytes, actor: Actor, *,
                     filename: str | None = None, format: str | None = None) -> ImportReport:
    """Read, record and allocate a statement in the caller's transaction; Conflict when already imported."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = session.scalars(select(BankStatement).where(BankStatement.tenant_id == tenant_id,
                                                          BankStatement.sha256 == digest)).one_or_none()
    if earlier is not None:
        raise Conflict(f"this statement was already imported on {earlier.created_at:%Y-%m-%d %H:%M} UTC "
                       f"(statement {earlier.id})")
    statement = read_statement(data, filename, format=format)
    row = BankStatement(tenant_id=tenant_id, format=statement.format, filename=filename, sha256=digest,
                        lines=len(statement.lines), summary={}, created_by=actor.name)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("this statement is being imported by another request at this moment") from None
    ledger = Ledger(session, tenant_id)
    items = ledger.open_items(lock=True)
    policy_of = policies(session, tenant_id)
    outcomes: dict[int, LineOutcome] = {}
    waiting: list[tuple[StatementLine, Payment]] = []
    keys = {line.number: _key(statement, line, digest) for line in statement.lines}
    recorded = ledger.existing_keys(keys.values())
    for line in statement.lines:
        outcome, payment = _record(ledger, row, line, actor, keys[line.number], recorded)
        outcomes[line.number] = outcome
        if payment is not None:
            waiting.append((line, payment))
    paid: list[uuid.UUID] = []
    try:
        session.flush()  # the payments exist before their allocations refer to them
    except IntegrityError:
        raise Conflict("another statement with some of the same credits is being imported at this moment; "
                       "import this one again (its credits already recorded will be skipped)") from None
    for attempt in range(2):
        still: list[tuple[StatementLine, Payment]] = []
        for line, payment in waiting:
            proposal = propose(_incoming(payment), items, policy_of)
            if not proposal.shares and attempt == 0:
                still.append((line, payment))
                continue
            outcomes[line.number] = _apply(ledger, items, payment, proposal, actor, outcomes[line.number], paid)
        waiting = still
    stop_reminders_of(session, tenant_id, paid, actor)
    report = ImportReport(row.id, statement.format, [outcomes[n] for n in sorted(outcomes)])
    row.summary = report.summary
    try:
        session.flush()
    except IntegrityError:  # another import recorded some of these credits meanwhile: all or nothing
        raise Conflict("another statement with some of the same credits was imported at the same moment; "
                       "import this one again (its credits already recorded will be skipped)") from None
    AuditLog(session, tenant_id).append(actor, "statement.import", "statement", row.id,
                                        {"filename": filename, "format": statement.format, **report.summary})
    return report


def _key(statement: Statement, line: StatementLine, digest: str) -> str:
    """A line is the same payment as another with the same bank reference on the same account."""
    return f"bank:{statement.account or ''}:{line.reference}" if line.reference else f"bank:{digest}:{line.number}"


def _record(ledger: Ledger, row: BankStatement, line: StatementLine, actor: Actor, key: str,
            recorded: dict[str, Payment]) -> tuple[LineOutcome, Payment | None]:
    outcome = LineOutcome(line.number, line.amount, line.currency, "unallocated", unapplied=line.amount)
    if line.amount <= ZERO:
        outcome.status = "debit"
        return outcome, None
    if key[:300] in recorded:
        outcome.status, outcome.payment_id = "duplicate", recorded[key[:300]].id
        return outcome, None
    payment, _ = ledger.record(actor, source="bank", dedupe_key=key, amount=line.amount, currency=line.currency,
                               received_on=line.booked_on, reference=line.reference, payer_name=line.payer_name,
                               payer_iban=line.payer_iban, remittance=line.remittance, statement_id=row.id,
                               statement_line=line.number, known_new=True)
    recorded[key[:300]] = payment  # the same reference twice in one file is one payment
    outcome.payment_id = payment.id
    return outcome, payment


def _incoming(payment: Payment) -> IncomingPayment:
    return IncomingPayment(amount=payment.unapplied, currency=payment.currency, remittance=payment.remittance,
                           payer_name=payment.payer_name, payer_iban=payment.payer_iban,
                           customer_code=payment.customer_code)


def _apply(ledger: Ledger, items: OpenItems, payment: Payment, proposal: Proposal, actor: Actor,
           outcome: LineOutcome, paid: list[uuid.UUID]) -> LineOutcome:
    applied = ledger.apply(payment, proposal, actor, reminders=False)
    paid.extend(applied.paid_invoices)
    order = {share.item.invoice_id: i for i, share in enumerate(proposal.shares)}
    numbers = {share.item.invoice_id: share.item.number or str(share.item.invoice_id) for share in proposal.shares}
    paid = sorted((a for a in applied.allocations if a.kind != "write_off"), key=lambda a: order.get(a.invoice_id, 0))
    outcome.invoices = [(numbers.get(a.invoice_id, str(a.invoice_id)), a.amount) for a in paid]
    outcome.method = ", ".join(sorted({s.method for s in proposal.shares}))
    outcome.status = payment.status
    outcome.unapplied = payment.unapplied
    outcome.reason = proposal.reason
    if payment.status != "unallocated":
        items.learn_iban(payment.payer_iban, payment.customer_code)
    return outcome
