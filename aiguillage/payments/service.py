"""Payment actions as the API and the command line take them (one function each, in the caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from aiguillage.events import record as events
from aiguillage.payments.ledger import Ledger
from aiguillage.store.actor import Actor
from aiguillage.store.errors import Invalid
from aiguillage.store.payment_models import InvoiceBalance, Payment


class AlreadyPaid(Invalid):
    """The ERP books a payment without an amount for an invoice with nothing left to pay."""

    def __init__(self, balance: InvoiceBalance) -> None:
        super().__init__(f"invoice {balance.number or balance.invoice_id} is already {balance.status.replace('_', ' ')}")
        self.balance = balance


def record_booked_payment(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                          amount: Decimal | None, paid_on: date | None, reference: str | None,
                          ) -> tuple[Payment, InvoiceBalance]:
    """A payment the ERP booked against one invoice: recorded (once per reference) and allocated to it.

    Without an amount, the invoice's open amount is meant. The same
    reference twice is the same payment (answered again, not doubled).
    """
    ledger = Ledger(session, tenant_id)
    balance = ledger.balance(invoice_id, lock=True)
    open_amount = balance.amount_due - balance.allocated
    if amount is None:
        if open_amount <= 0:
            raise AlreadyPaid(balance)
        amount = open_amount
    if amount <= 0:
        raise Invalid("a payment amount is more than zero", pointer="/amount")
    key = f"erp:{reference}" if reference else f"erp:{uuid.uuid4()}"
    payment, created = ledger.record(actor, source="manual", dedupe_key=key, amount=amount,
                                     currency=balance.currency, received_on=paid_on or date.today(),
                                     reference=reference, customer_code=balance.customer_code)
    if created:  # a repeat of the same reference tells the ERP nothing new
        events.payment_received(session, tenant_id, invoice_id, amount=str(amount), paid_on=paid_on,
                                reference=reference)
        ledger.allocate_manually(payment.id, invoice_id, amount, actor, method="erp")
    return payment, balance
