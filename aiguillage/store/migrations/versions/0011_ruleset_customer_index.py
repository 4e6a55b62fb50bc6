"""Rulesets by (tenant, customer): the version in force is found without reading every ruleset of the tenant.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

`POST /v1/evaluate` and `POST /v1/invoices` look up the ruleset of the
invoice's customer on every request. With only `tenant_id` and
`customer_code` indexed apart, SQLite walked the tenant's rulesets (all
1,000 of them in `benchmarks/api_evaluate.py`) to find one; the pair makes
it one index look-up. Frozen like 0001: plain SQL, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_rulesets_tenant_customer", "rulesets", ["tenant_id", "customer_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_rulesets_tenant_customer", table_name="rulesets")
