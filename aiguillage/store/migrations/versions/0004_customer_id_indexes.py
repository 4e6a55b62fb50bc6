"""Customer id indexes: find the customer an invoice's buyer is, per request, without a scan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`POST /v1/evaluate` and `POST /v1/invoices` match the buyer's ids (VAT id,
legal id, Peppol participant id, EDI partner id) against the tenant's
customers on every request; with thousands of customers that must be an
index look-up. Frozen like 0001: plain SQL, nothing imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_customers_tenant_vat": "vat_identifier",
    "ix_customers_tenant_legal": "legal_identifier",
    "ix_customers_tenant_peppol": "peppol_participant_id",
    "ix_customers_tenant_edi": "edi_partner_id",
}


def upgrade() -> None:
    for name, column in INDEXES.items():
        op.create_index(name, "customers", ["tenant_id", column], unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="customers")
