"""The store side of payments: balances, payments, allocations and their reversal, in the caller's transaction.

Every change to what an invoice owes goes through `Ledger`: it locks the
balance rows it changes (`FOR UPDATE` on PostgreSQL), re-checks what is
still open under the lock, writes the allocation rows, updates the payment
and the balances, audits, and stops the invoice's payment reminders when it
becomes paid. An engine's proposal made from a stale view therefore never
spends the same open amount twice.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.events import record as events
from aiguillage.payments.matching import (
    ZERO,
    OpenItem,
    OpenItems,
    Proposal,
    compact_iban,
    normalise_name,
)
from aiguillage.payments.reference import creditor_reference, valid_reference
from aiguillage.store.actor import Actor
from aiguillage.store.base import new_id, utcnow
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.models import AuditEntry, Customer, InvoiceRecord
from aiguillage.store.payment_models import Allocation, InvoiceBalance, Payment
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size
from aiguillage.store.vocabulary import InvoiceStatus

#: UNTDID 1001 codes of credit notes (their amount due counts against the customer's invoices).
CREDIT_NOTE_TYPES = frozenset({"381", "396", "81", "83", "261", "262", "296", "308", "532"})
#: Invoices that are not owed (refused by the rules): no open item.
NOT_OWED = frozenset({InvoiceStatus.REJECTED.value})

CENT = Decimal("0.01")


def payment_status(amount_due: Decimal, allocated: Decimal) -> str:
    """open, partially_paid, paid or over_paid, for an invoice (positive due) or a credit note (negative)."""
    sign = Decimal(-1) if amount_due < ZERO else Decimal(1)
    due, paid = amount_due * sign, allocated * sign
    if paid == ZERO and due != ZERO:
        return "open"
    if paid < due:
        return "partially_paid"
    return "paid" if paid == due else "over_paid"


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def balance_values(record: InvoiceRecord) -> dict[str, Any]:
    """What an invoice owes, read from its stored model: BT-115 (else BT-112 less BT-113), sign by type."""
    model = record.model or {}
    totals = model.get("totals") or {}
    due = _decimal(totals.get("amount_due_for_payment"))
    if due is None:
        due = (_decimal(totals.get("amount_with_vat")) or record.amount_with_vat or ZERO) - (
            _decimal(totals.get("paid_amount")) or ZERO)
    kind = "credit_note" if str(model.get("type_code") or "") in CREDIT_NOTE_TYPES else "invoice"
    if kind == "credit_note" and due > ZERO:
        due = -due
    remittance = (model.get("payment_instructions") or {}).get("remittance_information")
    reference = valid_reference(remittance) if remittance else None
    return {
        "number": record.number,
        "customer_code": record.customer_code,
        "creditor_reference": reference or (creditor_reference(record.number) if record.number else None),
        "kind": kind,
        "issue_date": record.issue_date,
        "due_date": _date(model.get("due_date")),
        "currency": record.currency_code or str(model.get("currency_code") or "EUR"),
        "amount_due": due,
    }


@dataclass(frozen=True)
class Applied:
    """What applying a proposal did."""

    payment: Payment
    allocations: list[Allocation]
    paid_invoices: list[uuid.UUID]


class Ledger(TenantScoped):
    """A tenant's payments, allocations and balances."""

    noun = "payment"

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        super().__init__(session, tenant_id)
        #: Balance rows this transaction already holds locked (an import locks the open ones at once).
        self._locked: dict[uuid.UUID, InvoiceBalance] = {}

    # ---------------------------------------------------------------- balances

    def balance(self, invoice_id: uuid.UUID, *, lock: bool = False) -> InvoiceBalance:
        """The invoice's balance row, made from the invoice when it has none yet."""
        if invoice_id in self._locked:
            return self._locked[invoice_id]
        query = select(InvoiceBalance).where(InvoiceBalance.tenant_id == self.tenant_id,
                                             InvoiceBalance.invoice_id == invoice_id)
        row = self.session.scalars(query.with_for_update() if lock else query).one_or_none()
        if row is not None:
            if lock:
                self._locked[invoice_id] = row
            return row
        record = self._get(InvoiceRecord, invoice_id, noun="invoice")
        self._insert([self._new_balance(record)])
        row = self.session.scalars(query.with_for_update() if lock else query).one()
        if lock:
            self._locked[invoice_id] = row
        return row

    def _insert(self, rows: list[InvoiceBalance]) -> None:
        """Insert balance rows, leaving those another transaction made meanwhile (ON CONFLICT DO NOTHING)."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        columns = [c.key for c in InvoiceBalance.__table__.columns]
        values = [{c: getattr(r, c) for c in columns} for r in rows]
        for value in values:
            value["id"] = value["id"] or new_id()
        # executemany form: compiled once, sent in batches (insertmanyvalues)
        self.session.execute(dialect_insert(InvoiceBalance).on_conflict_do_nothing(), values)

    def _new_balance(self, record: InvoiceRecord, *, taken: set[str] | None = None) -> InvoiceBalance:
        """The balance row an invoice gets (not added to the session; `_insert` stores it)."""
        values = balance_values(record)
        reference = values["creditor_reference"]
        if reference and (reference in taken if taken is not None else self.session.scalars(
                select(InvoiceBalance.id).where(InvoiceBalance.tenant_id == self.tenant_id,
                                                InvoiceBalance.creditor_reference == reference)).first() is not None):
            values["creditor_reference"] = None  # two numbers reducing to the same letters: no reference
        if taken is not None and values["creditor_reference"]:
            taken.add(values["creditor_reference"])
        row = InvoiceBalance(id=new_id(), tenant_id=self.tenant_id, invoice_id=record.id, allocated=ZERO,
                             status=payment_status(values["amount_due"], ZERO), updated_at=utcnow(), **values)
        return row

    def preview_balance(self, record: InvoiceRecord) -> InvoiceBalance:
        """The balance an invoice without one would get (not stored: for reading requests)."""
        return self._new_balance(record)

    def missing_balances(self, *, add: bool) -> list[InvoiceBalance]:
        """Balance rows for the owed invoices that have none yet; added to the session when `add`."""
        missing = select(InvoiceRecord).outerjoin(
            InvoiceBalance, and_(InvoiceBalance.tenant_id == InvoiceRecord.tenant_id,
                                 InvoiceBalance.invoice_id == InvoiceRecord.id),
        ).where(InvoiceRecord.tenant_id == self.tenant_id, InvoiceBalance.id.is_(None),
                InvoiceRecord.status.not_in(NOT_OWED))
        made: list[InvoiceBalance] = []
        records = self.session.scalars(missing).all()
        if not records:
            return made
        taken = set(self.session.scalars(select(InvoiceBalance.creditor_reference).where(
            InvoiceBalance.tenant_id == self.tenant_id, InvoiceBalance.creditor_reference.is_not(None))))
        for record in records:
            made.append(self._new_balance(record, taken=taken))
        if add:
            self._insert(made)
        return made

    def ensure_balances(self) -> int:
        """Make the balance rows owed invoices lack; how many were made."""
        return len(self.missing_balances(add=True))

    def open_items(self, *, lock: bool = False) -> OpenItems:
        """Every open item of the tenant, with the IBANs and names its customers are known by.

        `lock`: hold the open balances locked until the transaction ends (an
        import allocating thousands of lines takes them once rather than one by one;
        a card webhook for the tenant waits meanwhile, and is retried by the PSP if it must).
        """
        self.ensure_balances()
        query = select(InvoiceBalance).where(InvoiceBalance.tenant_id == self.tenant_id,
                                             InvoiceBalance.status.in_(("open", "partially_paid")))
        rows = list(self.session.scalars(query.with_for_update() if lock else query))
        if lock:
            self._locked.update((r.invoice_id, r) for r in rows)
        items = [OpenItem(invoice_id=r.invoice_id, number=r.number, customer_code=r.customer_code,
                          currency=r.currency, amount_due=r.amount_due, allocated=r.allocated,
                          issue_date=r.issue_date, due_date=r.due_date, creditor_reference=r.creditor_reference)
                 for r in rows]
        open_items = OpenItems(items, customer_names=self._customer_names())
        learnt = self.session.execute(select(Payment.payer_iban, Payment.customer_code).where(
            Payment.tenant_id == self.tenant_id, Payment.payer_iban.is_not(None),
            Payment.customer_code.is_not(None), Payment.status != "unallocated").distinct())
        for iban, customer in learnt:
            open_items.learn_iban(compact_iban(iban), customer)
        return open_items

    def _customer_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for code, name in self.session.execute(select(Customer.code, Customer.name).where(
                Customer.tenant_id == self.tenant_id)):
            key = normalise_name(name)
            if key:
                names[key] = "" if key in names and names[key] != code else code
        return names

    # ---------------------------------------------------------------- payments

    def record(self, actor: Actor, *, source: str, dedupe_key: str, amount: Decimal, currency: str,
               received_on: date, reference: str | None = None, payer_name: str | None = None,
               payer_iban: str | None = None, remittance: str | None = None, customer_code: str | None = None,
               statement_id: uuid.UUID | None = None, statement_line: int | None = None,
               known_new: bool = False) -> tuple[Payment, bool]:
        """Record an incoming amount once per dedupe key: (payment, created). A repeat returns the first.

        `known_new`: the caller checked the key in bulk (an import); the row is
        added without a savepoint, and a concurrent recording of the same key
        fails the caller's whole transaction instead (nothing half-imported).
        """
        existing = None if known_new else self._by_key(dedupe_key)
        if existing is not None:
            return existing, False
        payment = Payment(tenant_id=self.tenant_id, source=source, dedupe_key=dedupe_key[:300], amount=amount,
                          currency=currency, received_on=received_on, reference=reference, payer_name=payer_name,
                          payer_iban=compact_iban(payer_iban) or None, remittance=remittance,
                          customer_code=customer_code, statement_id=statement_id, statement_line=statement_line,
                          unapplied=amount, status="unallocated", created_by=actor.name)
        if known_new:
            payment.id = new_id()
            self.session.add(payment)
            return payment, True
        try:
            with self.session.begin_nested():
                self.session.add(payment)
                self.session.flush()
        except IntegrityError:  # a concurrent request recorded the same key first
            winner = self._by_key(dedupe_key)
            if winner is None:
                raise
            return winner, False
        AuditLog(self.session, self.tenant_id).append(actor, "payment.record", "payment", payment.id, {
            "source": source, "amount": str(amount), "currency": currency, "reference": reference})
        return payment, True

    def existing_keys(self, keys: Iterable[str]) -> dict[str, Payment]:
        """The payments already recorded under any of these keys."""
        wanted = list(dict.fromkeys(k[:300] for k in keys))
        found: dict[str, Payment] = {}
        for start in range(0, len(wanted), 500):
            for row in self.session.scalars(select(Payment).where(
                    Payment.tenant_id == self.tenant_id, Payment.dedupe_key.in_(wanted[start:start + 500]))):
                found[row.dedupe_key] = row
        return found

    def _by_key(self, dedupe_key: str) -> Payment | None:
        return self.session.scalars(select(Payment).where(
            Payment.tenant_id == self.tenant_id, Payment.dedupe_key == dedupe_key[:300])).one_or_none()

    def payment(self, payment_id: uuid.UUID | str, *, lock: bool = False) -> Payment:
        row = self._get(Payment, payment_id)
        if lock:
            self.session.refresh(row, with_for_update=True)
        return row

    def payments(self, *, status: str | None = None, limit: int | None = None) -> list[Payment]:
        query = select(Payment).where(Payment.tenant_id == self.tenant_id)
        if status:
            query = query.where(Payment.status == status)
        return list(self.session.scalars(query.order_by(Payment.created_at.desc()).limit(page_size(limit))))

    # ---------------------------------------------------------------- allocating

    def apply(self, payment: Payment, proposal: Proposal, actor: Actor, *, kind: str = "automatic",
              reminders: bool = True) -> Applied:
        """Allocate the proposal's shares of the payment; what no longer fits under the lock stays unapplied.

        `reminders=False` leaves stopping the paid invoices' reminders to the caller (an import does it once
        for all, with `stop_reminders_of`).
        """
        made: list[Allocation] = []
        paid: list[uuid.UUID] = []
        if proposal.customer_code and not payment.customer_code:
            payment.customer_code = proposal.customer_code
        # Credit notes first (they add to what the payment can pay), then one lock order for all: no deadlock.
        for share in sorted(proposal.shares, key=lambda s: (s.amount >= ZERO, str(s.item.invoice_id))):
            balance = self.balance(share.item.invoice_id, lock=True)
            amount = self._fits(payment, balance, share.amount)
            if amount == ZERO:
                continue
            made.append(self._allocate(payment, balance, amount, kind, share.method, actor))
            write_off = min(share.write_off, balance.amount_due - balance.allocated) if share.write_off else ZERO
            if write_off > ZERO:
                made.append(self._allocate(None, balance, write_off, "write_off", share.method, actor))
            share.item.allocated = balance.allocated
            if balance.status in ("paid", "over_paid"):
                paid.append(balance.invoice_id)
        if proposal.reason and payment.unapplied != ZERO:
            payment.note = proposal.reason
        if reminders:
            stop_reminders_of(self.session, self.tenant_id, paid, actor)
        return Applied(payment, made, paid)

    @staticmethod
    def _fits(payment: Payment, balance: InvoiceBalance, wanted: Decimal) -> Decimal:
        """How much of `wanted` may go: no more than the payment has left, nor than the item has open."""
        if balance.currency != payment.currency:
            return ZERO
        open_amount = balance.amount_due - balance.allocated
        if wanted > ZERO:
            return max(ZERO, min(wanted, open_amount, payment.unapplied)) if open_amount > ZERO else ZERO
        return wanted if open_amount < ZERO and wanted >= open_amount else ZERO  # a credit note offset

    def _allocate(self, payment: Payment | None, balance: InvoiceBalance, amount: Decimal, kind: str, method: str,
                  actor: Actor) -> Allocation:
        row = Allocation(id=new_id(), tenant_id=self.tenant_id, payment_id=payment.id if payment else None,
                         invoice_id=balance.invoice_id, amount=amount, kind=kind, method=method,
                         created_by=actor.name)
        self.session.add(row)
        now = utcnow()
        balance.allocated += amount
        balance.status = payment_status(balance.amount_due, balance.allocated)
        balance.paid_at = now if balance.status in ("paid", "over_paid") else None
        balance.updated_at = now
        if payment is not None:
            payment.unapplied -= amount
            payment.status = _payment_state(payment)
            if payment.customer_code is None:
                payment.customer_code = balance.customer_code
        self._audit(actor, f"allocation.{kind}", balance.invoice_id, {
            "allocation": str(row.id), "payment": str(payment.id) if payment else None, "amount": str(amount),
            "method": method, "balance_status": balance.status})
        events.payment_allocated(  # the ERP is told, in the same transaction (issue 19)
            self.session, self.tenant_id, balance.invoice_id, amount=str(amount),
            currency=payment.currency if payment else None, source=payment.source if payment else kind,
            reference=payment.reference if payment else None, remaining=str(balance.amount_due - balance.allocated))
        return row

    def _audit(self, actor: Actor, action: str, invoice_id: uuid.UUID, detail: dict[str, Any]) -> None:
        """An audit entry written with the next flush (an import writes thousands in one batch)."""
        self.session.add(AuditEntry(tenant_id=self.tenant_id, actor=actor.name, key_id=actor.key_id, role=actor.role,
                                    action=action, target_type="invoice", target_id=str(invoice_id), detail=detail,
                                    at=utcnow()))

    def allocate_manually(self, payment_id: uuid.UUID, invoice_id: uuid.UUID, amount: Decimal | None,
                          actor: Actor, *, method: str = "manual") -> Allocation:
        """A person allocates (part of) a payment to an invoice; may over-pay it (status over_paid)."""
        payment = self.payment(payment_id, lock=True)
        balance = self.balance(invoice_id, lock=True)
        if balance.currency != payment.currency:
            raise Invalid(f"the payment is in {payment.currency} but the invoice in {balance.currency}")
        wanted = amount if amount is not None else min(payment.unapplied, balance.amount_due - balance.allocated)
        if wanted <= ZERO:
            raise Invalid("nothing to allocate: give a positive amount (the payment or the invoice has nothing left)")
        if wanted > payment.unapplied:
            raise Invalid(f"the payment has only {payment.unapplied} {payment.currency} left to allocate")
        row = self._allocate(payment, balance, wanted, "manual", method, actor)
        if balance.status in ("paid", "over_paid"):
            stop_reminders_of(self.session, self.tenant_id, [invoice_id], actor)
        return row

    def reverse(self, allocation_id: uuid.UUID, actor: Actor) -> Allocation:
        """Un-allocate: the allocation is stamped reversed (kept), the amounts go back to payment and invoice."""
        row = self._get(Allocation, allocation_id, noun="allocation")
        if row.reversed_at is not None:
            raise Invalid(f"allocation {allocation_id} was already reversed by {row.reversed_by}")
        payment = self.payment(row.payment_id, lock=True) if row.payment_id else None
        balance = self.balance(row.invoice_id, lock=True)
        now = utcnow()
        row.reversed_at, row.reversed_by = now, actor.name
        balance.allocated -= row.amount
        balance.status = payment_status(balance.amount_due, balance.allocated)
        balance.paid_at = balance.paid_at if balance.status in ("paid", "over_paid") else None
        balance.updated_at = now
        if payment is not None:
            payment.unapplied += row.amount
            payment.status = _payment_state(payment)
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(actor, "allocation.reverse", "invoice", row.invoice_id, {
            "allocation": str(row.id), "payment": str(row.payment_id) if row.payment_id else None,
            "amount": str(row.amount), "balance_status": balance.status})
        return row

    def allocations(self, *, invoice_id: uuid.UUID | None = None, payment_id: uuid.UUID | None = None,
                    include_reversed: bool = True) -> list[Allocation]:
        query = select(Allocation).where(Allocation.tenant_id == self.tenant_id)
        if invoice_id is not None:
            query = query.where(Allocation.invoice_id == invoice_id)
        if payment_id is not None:
            query = query.where(Allocation.payment_id == payment_id)
        if not include_reversed:
            query = query.where(Allocation.reversed_at.is_(None))
        return list(self.session.scalars(query.order_by(Allocation.created_at, Allocation.id)))

    def balances(self, ids: Iterable[uuid.UUID] | None = None, *, status: str | None = None) -> list[InvoiceBalance]:
        query = select(InvoiceBalance).where(InvoiceBalance.tenant_id == self.tenant_id)
        if ids is not None:
            query = query.where(InvoiceBalance.invoice_id.in_(list(ids)))
        if status is not None:
            query = query.where(InvoiceBalance.status == status)
        return list(self.session.scalars(query.order_by(InvoiceBalance.issue_date, InvoiceBalance.number)))


def _payment_state(payment: Payment) -> str:
    if payment.unapplied == payment.amount:
        return "unallocated"
    return "allocated" if payment.unapplied == ZERO else "partially_allocated"


def stop_reminders_of(session: Session, tenant_id: uuid.UUID, invoice_ids: Iterable[uuid.UUID], actor: Actor) -> None:
    """These invoices are paid: their payment reminders stop (nothing for those without, or already stopped).

    One query finds which of them have reminders still running, so an
    import paying thousands of invoices posts only where there is something to stop.
    """
    from aiguillage.store.workflow_models import WorkflowState
    from aiguillage.workflows import starting
    from aiguillage.workflows.runtime import EventNotAllowed

    wanted = list(dict.fromkeys(invoice_ids))
    running: list[uuid.UUID] = []
    for start in range(0, len(wanted), 500):
        running += session.scalars(select(WorkflowState.invoice_id).where(
            WorkflowState.tenant_id == tenant_id, WorkflowState.kind == "reminder",
            WorkflowState.invoice_id.in_(wanted[start:start + 500]),
            WorkflowState.status != "paid")).all()
    for invoice_id in running:
        with contextlib.suppress(EventNotAllowed, NotFound):
            starting.record_payment(session, tenant_id, invoice_id, actor)
