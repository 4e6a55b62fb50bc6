"""France: PA accounts, fiscal settings (VAT regime), flows at the PA, and each invoice's lifecycle timeline.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.Numeric(24, 6).with_variant(sa.String(48), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pa_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.String(length=200), nullable=True),
        sa.Column("token_url", sa.String(length=500), nullable=True),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("webhook_id", sa.String(length=64), nullable=True),
        sa.Column("signing_key", sa.Text(), nullable=True),
        sa.Column("polled_until", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_pa_accounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pa_accounts")),
    )
    op.create_table(
        "fr_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("vat_regime", sa.String(length=32), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_fr_settings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_fr_settings")),
    )
    op.create_table(
        "pa_flows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("tracking_id", sa.String(length=64), nullable=True),
        sa.Column("flow_type", sa.String(length=48), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("ack_status", sa.String(length=8), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"],
                                name=op.f("fk_pa_flows_tenant_id_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pa_flows")),
        sa.UniqueConstraint("tenant_id", "flow_id", name=op.f("uq_pa_flows_tenant_id_flow_id")),
    )
    op.create_index("ix_pa_flows_pending", "pa_flows", ["tenant_id", "ack_status"], unique=False)
    op.create_index(op.f("ix_pa_flows_tenant_id"), "pa_flows", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_pa_flows_invoice_id"), "pa_flows", ["invoice_id"], unique=False)
    op.create_table(
        "lifecycle_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("issuer_role", sa.String(length=4), nullable=True),
        sa.Column("source_flow_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("amount", MONEY, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"],
                                name=op.f("fk_lifecycle_events_tenant_id_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_events")),
        sa.UniqueConstraint("tenant_id", "source_flow_id", "code",
                            name=op.f("uq_lifecycle_events_tenant_id_source_flow_id_code")),
    )
    op.create_index("ix_lifecycle_events_invoice", "lifecycle_events", ["tenant_id", "invoice_id", "issued_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_lifecycle_events_invoice", table_name="lifecycle_events")
    op.drop_table("lifecycle_events")
    op.drop_index(op.f("ix_pa_flows_invoice_id"), table_name="pa_flows")
    op.drop_index(op.f("ix_pa_flows_tenant_id"), table_name="pa_flows")
    op.drop_index("ix_pa_flows_pending", table_name="pa_flows")
    op.drop_table("pa_flows")
    op.drop_table("fr_settings")
    op.drop_table("pa_accounts")
