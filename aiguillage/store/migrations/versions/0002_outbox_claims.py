"""Outbox claims: leases for the dispatch worker, manual-retry rounds, the worker of each attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A worker claims an entry by setting `claimed_by`, `claimed_until` (its
lease) and `claim_token` (the id of the attempt it starts); an entry whose
lease has run out is due again, which is how a killed worker's delivery is
picked up. `requeued_after` lets a retried dead letter start a new round of
attempts. Frozen like 0001: plain SQL types, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("outbox_entries", sa.Column("claimed_by", sa.String(length=200), nullable=True))
    op.add_column("outbox_entries", sa.Column("claimed_until", TIMESTAMP, nullable=True))
    op.add_column("outbox_entries", sa.Column("claim_token", sa.Uuid(), nullable=True))
    op.add_column(
        "outbox_entries", sa.Column("requeued_after", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index("ix_outbox_entries_lease", "outbox_entries", ["status", "claimed_until"], unique=False)
    op.add_column("delivery_attempts", sa.Column("worker", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite has it since 3.35): no table rebuild, so the
    # foreign keys pointing at outbox_entries stay untouched.
    op.drop_column("delivery_attempts", "worker")
    op.drop_index("ix_outbox_entries_lease", table_name="outbox_entries")
    for column in ("requeued_after", "claim_token", "claimed_until", "claimed_by"):
        op.drop_column("outbox_entries", column)
