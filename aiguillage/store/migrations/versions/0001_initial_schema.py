"""Initial schema: tenants, keys, customers, rulesets, reference data, invoices,
decisions, outbox, delivery attempts and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Frozen on purpose: it names SQL types directly rather than importing the
model's column types, so later changes to the models cannot change what this
revision does. The audit log is made append-only in the database itself:
triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
#: Exact decimal: NUMERIC on PostgreSQL, its text on SQLite (see store.base.Money).
MONEY = sa.Numeric(24, 6).with_variant(sa.String(48), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_REFUSE = "audit_log is append-only"

_PG_FUNCTION = f"""
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSE}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""


def _create_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}: {verb} refused'); END"
            )


def _drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN ('erp', 'analyst', 'approver', 'admin', 'customer')",
            name=op.f("ck_api_keys_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_index(op.f("ix_api_keys_tenant_id"), "api_keys", ["tenant_id"], unique=False)
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("vat_identifier", sa.String(length=64), nullable=True),
        sa.Column("legal_identifier", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("peppol_participant_id", sa.String(length=200), nullable=True),
        sa.Column("edi_partner_id", sa.String(length=64), nullable=True),
        sa.Column("edi_transport", sa.String(length=16), nullable=True),
        sa.Column("fax_number", sa.String(length=32), nullable=True),
        sa.Column("postal_address", JSON_DOC, nullable=True),
        sa.Column("preferred_formats", JSON_DOC, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_customers_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_customers_tenant_id_id")),
    )
    op.create_index(op.f("ix_customers_tenant_id"), "customers", ["tenant_id"], unique=False)
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("seller_key", sa.String(length=300), nullable=False),
        sa.Column("number", sa.String(length=200), nullable=True),
        sa.Column("syntax", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("model", JSON_DOC, nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=True),
        sa.Column("amount_with_vat", MONEY, nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoices_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_invoices_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_invoices_tenant_id_idempotency_key")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "seller_key",
            "number",
            name=op.f("uq_invoices_tenant_id_seller_key_number"),
        ),
    )
    op.create_index(
        "ix_invoices_tenant_customer", "invoices", ["tenant_id", "customer_code"], unique=False
    )
    op.create_index(
        "ix_invoices_tenant_received", "invoices", ["tenant_id", "received_at"], unique=False
    )
    op.create_index("ix_invoices_tenant_status", "invoices", ["tenant_id", "status"], unique=False)
    op.create_table(
        "reference_tables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_column", sa.String(length=100), nullable=False),
        sa.Column("columns", JSON_DOC, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reference_tables_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_tables")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_reference_tables_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_reference_tables_tenant_id_name")),
    )
    op.create_index(
        op.f("ix_reference_tables_tenant_id"), "reference_tables", ["tenant_id"], unique=False
    )
    op.create_table(
        "rulesets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("customer_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_rulesets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rulesets")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_rulesets_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_rulesets_tenant_id_name")),
    )
    op.create_index(op.f("ix_rulesets_customer_code"), "rulesets", ["customer_code"], unique=False)
    op.create_index(op.f("ix_rulesets_tenant_id"), "rulesets", ["tenant_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("detail", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_audit_log_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_at", "audit_log", ["tenant_id", "at"], unique=False)
    op.create_index(
        "ix_audit_log_tenant_target",
        "audit_log",
        ["tenant_id", "target_type", "target_id"],
        unique=False,
    )
    op.create_table(
        "reference_rows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("table_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "table_id"],
            ["reference_tables.tenant_id", "reference_tables.id"],
            name=op.f("fk_reference_rows_tenant_id_table_id_reference_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_rows")),
        sa.UniqueConstraint("table_id", "key", name=op.f("uq_reference_rows_table_id_key")),
    )
    op.create_index(
        op.f("ix_reference_rows_tenant_id"), "reference_rows", ["tenant_id"], unique=False
    )
    op.create_table(
        "ruleset_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("ruleset_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ruleset_id"],
            ["rulesets.tenant_id", "rulesets.id"],
            name=op.f("fk_ruleset_drafts_tenant_id_ruleset_id_rulesets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_drafts")),
        sa.UniqueConstraint("ruleset_id", name=op.f("uq_ruleset_drafts_ruleset_id")),
    )
    op.create_index(
        op.f("ix_ruleset_drafts_tenant_id"), "ruleset_drafts", ["tenant_id"], unique=False
    )
    op.create_table(
        "ruleset_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("ruleset_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=False),
        sa.Column("effective_from", TIMESTAMP, nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ruleset_id"],
            ["rulesets.tenant_id", "rulesets.id"],
            name=op.f("fk_ruleset_versions_tenant_id_ruleset_id_rulesets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_versions")),
        sa.UniqueConstraint(
            "ruleset_id", "number", name=op.f("uq_ruleset_versions_ruleset_id_number")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_ruleset_versions_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_ruleset_versions_tenant_id"), "ruleset_versions", ["tenant_id"], unique=False
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("ruleset_version_id", sa.Uuid(), nullable=True),
        sa.Column("ruleset_hash", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("result", JSON_DOC, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_decisions_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ruleset_version_id"],
            ["ruleset_versions.tenant_id", "ruleset_versions.id"],
            name=op.f("fk_decisions_tenant_id_ruleset_version_id_ruleset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_decisions_tenant_id_id")),
    )
    op.create_index(op.f("ix_decisions_invoice_id"), "decisions", ["invoice_id"], unique=False)
    op.create_index(op.f("ix_decisions_tenant_id"), "decisions", ["tenant_id"], unique=False)
    op.create_table(
        "outbox_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("destination", JSON_DOC, nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "decision_id"],
            ["decisions.tenant_id", "decisions.id"],
            name=op.f("fk_outbox_entries_tenant_id_decision_id_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_outbox_entries_tenant_id_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_entries")),
        sa.UniqueConstraint(
            "tenant_id", "delivery_key", name=op.f("uq_outbox_entries_tenant_id_delivery_key")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_outbox_entries_tenant_id_id")),
    )
    op.create_index(
        "ix_outbox_entries_due", "outbox_entries", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_entries_invoice_id"), "outbox_entries", ["invoice_id"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_entries_tenant_id"), "outbox_entries", ["tenant_id"], unique=False
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("outbox_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outbox_id"],
            ["outbox_entries.tenant_id", "outbox_entries.id"],
            name=op.f("fk_delivery_attempts_tenant_id_outbox_id_outbox_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint(
            "outbox_id", "number", name=op.f("uq_delivery_attempts_outbox_id_number")
        ),
    )
    op.create_index(
        op.f("ix_delivery_attempts_tenant_id"), "delivery_attempts", ["tenant_id"], unique=False
    )
    _create_audit_triggers()


def downgrade() -> None:
    _drop_audit_triggers()
    op.drop_index(op.f("ix_delivery_attempts_tenant_id"), table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index(op.f("ix_outbox_entries_tenant_id"), table_name="outbox_entries")
    op.drop_index(op.f("ix_outbox_entries_invoice_id"), table_name="outbox_entries")
    op.drop_index("ix_outbox_entries_due", table_name="outbox_entries")
    op.drop_table("outbox_entries")
    op.drop_index(op.f("ix_decisions_tenant_id"), table_name="decisions")
    op.drop_index(op.f("ix_decisions_invoice_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_ruleset_versions_tenant_id"), table_name="ruleset_versions")
    op.drop_table("ruleset_versions")
    op.drop_index(op.f("ix_ruleset_drafts_tenant_id"), table_name="ruleset_drafts")
    op.drop_table("ruleset_drafts")
    op.drop_index(op.f("ix_reference_rows_tenant_id"), table_name="reference_rows")
    op.drop_table("reference_rows")
    op.drop_index("ix_audit_log_tenant_target", table_name="audit_log")
    op.drop_index("ix_audit_log_tenant_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_rulesets_tenant_id"), table_name="rulesets")
    op.drop_index(op.f("ix_rulesets_customer_code"), table_name="rulesets")
    op.drop_table("rulesets")
    op.drop_index(op.f("ix_reference_tables_tenant_id"), table_name="reference_tables")
    op.drop_table("reference_tables")
    op.drop_index("ix_invoices_tenant_status", table_name="invoices")
    op.drop_index("ix_invoices_tenant_received", table_name="invoices")
    op.drop_index("ix_invoices_tenant_customer", table_name="invoices")
    op.drop_table("invoices")
    op.drop_index(op.f("ix_customers_tenant_id"), table_name="customers")
    op.drop_table("customers")
    op.drop_index(op.f("ix_api_keys_tenant_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")
