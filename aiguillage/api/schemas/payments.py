"""Bodies of the payment endpoints: payments, allocations, balances, statements, checkout."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from aiguillage.api.schemas.common import Request
from aiguillage.payments.money import shown
from aiguillage.store.payment_models import Allocation, InvoiceBalance, Payment

#: An amount in an answer: exact, as a string, to the cent ("150.50", never "150.500000").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(shown(d)), return_type=str)]

AMOUNT = r"^\d{1,15}(\.\d{1,6})?$"


class BalanceView(BaseModel):
    """What an invoice owes and its payment status (open, partially_paid, paid, over_paid)."""

    invoice_id: uuid.UUID
    number: str | None
    customer_code: str | None
    creditor_reference: str | None = Field(description="ISO 11649 reference (RF…) the customer should quote")
    kind: str
    currency: str
    amount_due: Amount
    allocated: Amount
    open: Amount
    status: str
    paid_at: datetime | None

    @classmethod
    def from_row(cls, row: InvoiceBalance) -> BalanceView:
        return cls(invoice_id=row.invoice_id, number=row.number, customer_code=row.customer_code,
                   creditor_reference=row.creditor_reference, kind=row.kind, currency=row.currency,
                   amount_due=row.amount_due, allocated=row.allocated, open=row.amount_due - row.allocated,
                   status=row.status, paid_at=row.paid_at)


class AllocationView(BaseModel):
    id: uuid.UUID
    payment_id: uuid.UUID | None
    invoice_id: uuid.UUID
    amount: Amount
    kind: str = Field(description="automatic, manual or write_off")
    method: str
    created_at: datetime
    created_by: str
    reversed_at: datetime | None
    reversed_by: str | None

    @classmethod
    def from_row(cls, row: Allocation) -> AllocationView:
        return cls(id=row.id, payment_id=row.payment_id, invoice_id=row.invoice_id, amount=row.amount, kind=row.kind,
                   method=row.method, created_at=row.created_at, created_by=row.created_by,
                   reversed_at=row.reversed_at, reversed_by=row.reversed_by)


class PaymentView(BaseModel):
    id: uuid.UUID
    source: str
    amount: Amount
    currency: str
    received_on: date
    reference: str | None
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    customer_code: str | None
    unapplied: Amount
    status: str
    note: str | None
    allocations: list[AllocationView] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: Payment, allocations: list[Allocation] | None = None) -> PaymentView:
        return cls(id=row.id, source=row.source, amount=row.amount, currency=row.currency,
                   received_on=row.received_on, reference=row.reference, payer_name=row.payer_name,
                   payer_iban=row.payer_iban, remittance=row.remittance, customer_code=row.customer_code,
                   unapplied=row.unapplied, status=row.status, note=row.note,
                   allocations=[AllocationView.from_row(a) for a in allocations or []])


class PaymentPage(BaseModel):
    items: list[PaymentView]


class PaymentsQuery(Request):
    status: str | None = Field(None, max_length=24, description="unallocated, partially_allocated or allocated")
    limit: int = Field(100, ge=1, le=500)


class AllocateBody(Request):
    invoice_id: uuid.UUID
    amount: str | None = Field(None, pattern=AMOUNT, description="Default: as much as both have left")


class StatementQuery(Request):
    format: str | None = Field(None, pattern=r"^(camt|mt940|cfonb120)$", description="Default: told from the content")
    filename: str | None = Field(None, max_length=300)


class StatementLineView(BaseModel):
    number: int
    amount: Amount
    currency: str
    status: str
    payment_id: uuid.UUID | None
    invoices: list[tuple[str, Amount]]
    unapplied: Amount
    reason: str
    text: str = Field(description="What happened, in words (as the command line prints it)")


class StatementReport(BaseModel):
    statement_id: uuid.UUID
    format: str
    lines: list[StatementLineView]
    summary: dict[str, int]
    text: str = Field(description="statement: N lines, A allocated, P partially allocated, U unallocated")


class ExportQuery(Request):
    since: date | None = Field(None, alias="from", description="From this date (payment date; allocations: made on)")
    until: date | None = Field(None, alias="to", description="Up to this date, included")


class CheckoutBody(Request):
    customer_code: str = Field(min_length=1, max_length=64)
    invoice_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    amount: str | None = Field(None, pattern=AMOUNT, description="A part payment of the one invoice selected")
    success_url: str = Field(max_length=2000)
    cancel_url: str = Field(max_length=2000)


class CheckoutView(BaseModel):
    id: uuid.UUID
    redirect_url: str
    amount: Amount
    currency: str
    status: str


class WebhookAnswer(BaseModel):
    received: bool
    outcome: str
