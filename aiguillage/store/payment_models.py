"""Tables of payments (issue 14): incoming money, its allocation to invoices, balances, statements, PSP events.

Money is exact (`Money`). An allocation is never deleted nor changed in
amount: un-allocating stamps `reversed_at`/`reversed_by`, so the history of
who allocated what, automatically or by hand, stays readable. An invoice's
balance row is the one place its open amount and payment status live; it is
updated in the same transaction as every allocation that touches it and
locked while it is (`SELECT … FOR UPDATE` on PostgreSQL), so two imports
cannot both spend the same open amount.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, JsonDocument, Money, UtcDateTime, new_id, utcnow


class BankStatement(Base):
    """One imported statement file; the same file (by SHA-256) is imported once per tenant."""

    __tablename__ = "bank_statements"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sha256"),
        UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: "camt.053", "camt.054", "mt940" or "cfonb120".
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(Integer)
    #: {"allocated": n, "partially_allocated": n, "unallocated": n, "ignored": n}
    summary: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class Payment(Base):
    """An incoming amount (a card payment, a credit on a bank statement, a payment the ERP booked)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        UniqueConstraint("tenant_id", "id"),
        Index("ix_payments_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: "card", "bank" or "manual".
    source: Mapped[str] = mapped_column(String(16))
    #: Same key, same payment: a statement line, a PSP payment, an ERP booking are recorded once.
    dedupe_key: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    #: The bank's or PSP's own reference (end-to-end id, payment intent).
    reference: Mapped[str | None] = mapped_column(String(300))
    payer_name: Mapped[str | None] = mapped_column(String(300))
    payer_iban: Mapped[str | None] = mapped_column(String(64))
    #: Remittance information as the bank carried it (structured reference or free text).
    remittance: Mapped[str | None] = mapped_column(Text)
    #: The customer, when known (card payments) or found (by IBAN, name, invoices).
    customer_code: Mapped[str | None] = mapped_column(String(64))
    statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    statement_line: Mapped[int | None] = mapped_column(Integer)
    #: The part of the amount not allocated to any invoice (unapplied cash).
    unapplied: Mapped[Decimal] = mapped_column(Money)
    #: "unallocated", "partially_allocated" or "allocated".
    status: Mapped[str] = mapped_column(String(24))
    #: Why the engine left it (partly) unallocated, for the person who will look at it.
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class InvoiceBalance(Base):
    """An invoice's (or credit note's) open item: what is due, what was allocated, its payment status."""

    __tablename__ = "invoice_balances"
    __table_args__ = (
        UniqueConstraint("tenant_id", "invoice_id"),
        UniqueConstraint("tenant_id", "creditor_reference"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        Index("ix_invoice_balances_open", "tenant_id", "customer_code", "status"),
        Index("ix_invoice_balances_number", "tenant_id", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[str | None] = mapped_column(String(200))
    customer_code: Mapped[str | None] = mapped_column(String(64))
    #: ISO 11649 structured creditor reference (RF…), also written into BT-83.
    creditor_reference: Mapped[str | None] = mapped_column(String(35))
    #: "invoice" or "credit_note" (a credit note's amount due is negative).
    kind: Mapped[str] = mapped_column(String(16))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_due: Mapped[Decimal] = mapped_column(Money)
    allocated: Mapped[Decimal] = mapped_column(Money)
    #: "open", "partially_paid", "paid" or "over_paid".
    status: Mapped[str] = mapped_column(String(16))
    #: When it became paid (for reminders, and the e-reporting payment date).
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Allocation(Base):
    """Part of a payment applied to an invoice; reversed, never deleted."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "payment_id"], ["payments.tenant_id", "payments.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: None for a write-off (a small difference the policy lets go).
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    #: "automatic", "manual" or "write_off".
    kind: Mapped[str] = mapped_column(String(16))
    #: How it was matched: "creditor_reference", "invoice_number", "amount", "checkout", "manual", …
    method: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reversed_by: Mapped[str | None] = mapped_column(String(200))


class CheckoutRequest(Base):
    """A hosted-checkout payment request: what the customer chose to pay, under our own idempotency key."""

    __tablename__ = "checkout_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("provider", "session_id"),
        UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_code: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    #: The PSP's checkout session id, once created.
    session_id: Mapped[str | None] = mapped_column(String(255))
    redirect_url: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    #: [{"invoice_id": "…", "amount": "12.50"}, …]: how the amount is to be allocated when paid.
    items: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument)
    #: "created", "open", "paid" or "expired".
    status: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PspEvent(Base):
    """A PSP webhook event processed once: its id is the de-duplication key."""

    __tablename__ = "psp_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    #: The tenant the event concerned, once known (None for events about nothing of ours).
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
