"""Invoices keep the status their first answer gave, so a repeat is answered the same (issue 11).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Frozen like 0001: plain SQL types, nothing imported from the models. Rows stored before it keep NULL
(a repeat of them is answered `received`, the status every first answer then had before deciding).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("answered_status", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("answered_status")
