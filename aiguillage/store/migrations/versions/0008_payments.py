"""Payments: incoming amounts, their allocations to invoices, balances, bank statements, checkouts, PSP events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _money() -> sa.types.TypeEngine:
    """NUMERIC(24, 6) on PostgreSQL, decimal text on SQLite (as store.base.Money)."""
    return sa.Numeric(24, 6).with_variant(sa.String(48), "sqlite")


def _id_columns() -> list[sa.Column]:
    return [sa.Column("id", sa.Uuid(), nullable=False), sa.Column("tenant_id", sa.Uuid(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "bank_statements",
        *_id_columns(),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("summary", JSON_DOC, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint("tenant_id", "sha256", name=op.f("uq_bank_statements_tenant_id_sha256")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_bank_statements_tenant_id_id")),
    )
    op.create_index(op.f("ix_bank_statements_tenant_id"), "bank_statements", ["tenant_id"], unique=False)

    op.create_table(
        "payments",
        *_id_columns(),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("payer_name", sa.String(length=300), nullable=True),
        sa.Column("payer_iban", sa.String(length=64), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=True),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("statement_id", sa.Uuid(), nullable=True),
        sa.Column("statement_line", sa.Integer(), nullable=True),
        sa.Column("unapplied", _money(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("tenant_id", "dedupe_key", name=op.f("uq_payments_tenant_id_dedupe_key")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_payments_tenant_id_id")),
    )
    op.create_index(op.f("ix_payments_tenant_id"), "payments", ["tenant_id"], unique=False)
    op.create_index("ix_payments_tenant_status", "payments", ["tenant_id", "status"], unique=False)

    op.create_table(
        "invoice_balances",
        *_id_columns(),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=200), nullable=True),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("creditor_reference", sa.String(length=35), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_due", _money(), nullable=False),
        sa.Column("allocated", _money(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"],
                                name=op.f("fk_invoice_balances_tenant_id_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_balances")),
        sa.UniqueConstraint("tenant_id", "invoice_id", name=op.f("uq_invoice_balances_tenant_id_invoice_id")),
        sa.UniqueConstraint("tenant_id", "creditor_reference",
                            name=op.f("uq_invoice_balances_tenant_id_creditor_reference")),
    )
    op.create_index(op.f("ix_invoice_balances_tenant_id"), "invoice_balances", ["tenant_id"], unique=False)
    op.create_index("ix_invoice_balances_open", "invoice_balances", ["tenant_id", "customer_code", "status"],
                    unique=False)
    op.create_index("ix_invoice_balances_number", "invoice_balances", ["tenant_id", "number"], unique=False)

    op.create_table(
        "payment_allocations",
        *_id_columns(),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("reversed_at", TIMESTAMP, nullable=True),
        sa.Column("reversed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id", "payment_id"], ["payments.tenant_id", "payments.id"],
                                name=op.f("fk_payment_allocations_tenant_id_payment_id_payments")),
        sa.ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"],
                                name=op.f("fk_payment_allocations_tenant_id_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    for column in ("tenant_id", "payment_id", "invoice_id"):
        op.create_index(op.f(f"ix_payment_allocations_{column}"), "payment_allocations", [column], unique=False)

    op.create_table(
        "checkout_requests",
        *_id_columns(),
        sa.Column("customer_code", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("items", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_requests")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name=op.f("uq_checkout_requests_tenant_id_idempotency_key")),
        sa.UniqueConstraint("provider", "session_id", name=op.f("uq_checkout_requests_provider_session_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_checkout_requests_tenant_id_id")),
    )
    op.create_index(op.f("ix_checkout_requests_tenant_id"), "checkout_requests", ["tenant_id"], unique=False)

    op.create_table(
        "psp_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psp_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_psp_events_provider_event_id")),
    )


def downgrade() -> None:
    for table in ("psp_events", "checkout_requests", "payment_allocations", "invoice_balances", "payments",
                  "bank_statements"):
        op.drop_table(table)
