"""Workflows: saved durable_rules sessions (one per invoice and workflow) and their timers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workflow_states",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sid", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("state", JSON_DOC, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_workflow_states_tenant_id_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_states")),
        sa.UniqueConstraint("tenant_id", "kind", "sid", name=op.f("uq_workflow_states_tenant_id_kind_sid")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_workflow_states_tenant_id_id")),
    )
    op.create_index("ix_workflow_states_queue", "workflow_states", ["tenant_id", "kind", "status"], unique=False)
    op.create_index(op.f("ix_workflow_states_tenant_id"), "workflow_states", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_workflow_states_invoice_id"), "workflow_states", ["invoice_id"], unique=False)
    op.create_table(
        "workflow_timers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("event", JSON_DOC, nullable=False),
        sa.Column("fired", sa.Boolean(), nullable=False),
        sa.Column("fired_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_states.tenant_id", "workflow_states.id"],
            name=op.f("fk_workflow_timers_tenant_id_workflow_id_workflow_states"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_timers")),
    )
    op.create_index("ix_workflow_timers_due", "workflow_timers", ["fired", "due_at"], unique=False)
    op.create_index(op.f("ix_workflow_timers_tenant_id"), "workflow_timers", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_workflow_timers_workflow_id"), "workflow_timers", ["workflow_id"], unique=False)


def downgrade() -> None:
    op.drop_table("workflow_timers")
    op.drop_table("workflow_states")
