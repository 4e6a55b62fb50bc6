"""Web users: people who sign in to the console and the portal, their one-time links, sessions, query attachments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _token_table(name: str, ended: str) -> None:
    """A table of hashed one-time tokens (links or sessions) hung under a user of the same tenant."""
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column(ended, TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["web_users.tenant_id", "web_users.id"],
            name=op.f(f"fk_{name}_tenant_id_user_id_web_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("token_hash", name=op.f(f"uq_{name}_token_hash")),
    )
    op.create_index(op.f(f"ix_{name}_tenant_id"), name, ["tenant_id"], unique=False)
    op.create_index(op.f(f"ix_{name}_user_id"), name, ["user_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("role IN ('admin', 'analyst', 'approver', 'ar', 'customer')",
                           name=op.f("ck_web_users_role_known")),
        sa.CheckConstraint("(role = 'customer') = (customer_code IS NOT NULL)",
                           name=op.f("ck_web_users_customer_bound")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_web_users_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_users")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_web_users_tenant_id_email")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_web_users_tenant_id_id")),
    )
    op.create_index(op.f("ix_web_users_tenant_id"), "web_users", ["tenant_id"], unique=False)
    _token_table("web_sign_in_links", "used_at")
    _token_table("web_sessions", "ended_at")
    op.create_table(
        "web_query_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_web_query_attachments_tenant_id_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_query_attachments")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_web_query_attachments_tenant_id_id")),
    )
    op.create_index(op.f("ix_web_query_attachments_tenant_id"), "web_query_attachments", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_web_query_attachments_invoice_id"), "web_query_attachments", ["invoice_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_table("web_query_attachments")
    op.drop_table("web_sessions")
    op.drop_table("web_sign_in_links")
    op.drop_table("web_users")
