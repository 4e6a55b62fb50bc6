"""Look-alike fingerprints and running amount statistics; the correlation sessions they replace go.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Probable duplicates and unusual amounts were found by one durable_rules
session per customer holding every invoice of the duplicate window; its
cost grew with the window and it crashed under concurrent submission
(issue 11). They are now indexed look-ups in these two tables, and the old
sessions (kind "correlation", never read again) are deleted. An index lets
the worker's recovery pass find invoices a crash left `received`.
Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "invoice_fingerprints",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "fingerprint", name=op.f("pk_invoice_fingerprints")),
    )
    op.create_table(
        "amount_statistics",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_key", sa.String(length=300), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_key", "slot", name=op.f("pk_amount_statistics")),
    )
    op.create_index("ix_invoices_status_received", "invoices", ["status", "received_at"], unique=False)
    op.execute(
        "DELETE FROM workflow_timers WHERE workflow_id IN (SELECT id FROM workflow_states WHERE kind = 'correlation')"
    )
    op.execute("DELETE FROM workflow_states WHERE kind = 'correlation'")


def downgrade() -> None:
    op.drop_index("ix_invoices_status_received", table_name="invoices")
    op.drop_table("amount_statistics")
    op.drop_table("invoice_fingerprints")
