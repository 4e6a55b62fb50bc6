"""The tables, as SQLAlchemy 2 typed models.

Every table a tenant owns has `tenant_id`, and every parent has a unique
`(tenant_id, id)` that its children reference: the database itself then
refuses a row hung under another tenant's parent, whatever a bug upstream
does. The migrations in `migrations/versions/` create exactly these tables;
a test compares the two.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, JsonDocument, Money, UtcDateTime, new_id, utcnow
from aiguillage.store.vocabulary import Role

#: SQL list of the roles, for the CHECK constraint on api_keys.role.
_ROLE_SQL = ", ".join(f"'{role.value}'" for role in Role)


def _tenant_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)


# --------------------------------------------------------------------------- tenants and keys


class Tenant(Base):
    """One supplier using the service; everything else belongs to exactly one tenant."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiKey(Base):
    """A bearer key: only its SHA-256 is kept; `prefix` lets people tell keys apart."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_SQL})", name="role_known"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    #: For role "customer": the one customer (by code) whose invoices the key may see.
    customer_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------- customers


class Customer(Base):
    """A customer of the supplier, with how it wants to receive invoices."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "id"),
        # The buyer of every incoming invoice is matched against these (api.selection).
        Index("ix_customers_tenant_vat", "tenant_id", "vat_identifier"),
        Index("ix_customers_tenant_legal", "tenant_id", "legal_identifier"),
        Index("ix_customers_tenant_peppol", "tenant_id", "peppol_participant_id"),
        Index("ix_customers_tenant_edi", "tenant_id", "edi_partner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    #: The supplier's own customer number; rulesets name customers by it.
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    #: BCP 47 language tag for documents and e-mails ("fr", "de-CH").
    language: Mapped[str] = mapped_column(String(35))
    vat_identifier: Mapped[str | None] = mapped_column(String(64))
    legal_identifier: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    #: Peppol participant id as "scheme:value", e.g. "0009:12345678901234".
    peppol_participant_id: Mapped[str | None] = mapped_column(String(200))
    edi_partner_id: Mapped[str | None] = mapped_column(String(64))
    edi_transport: Mapped[str | None] = mapped_column(String(16))
    fax_number: Mapped[str | None] = mapped_column(String(32))
    postal_address: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    preferred_formats: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# --------------------------------------------------------------------------- rulesets


class Ruleset(Base):
    """A named ruleset of a tenant; its content lives in versions and one draft."""

    __tablename__ = "rulesets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
        # The customer's ruleset, looked up on every evaluation (migration 0011).
        Index("ix_rulesets_tenant_customer", "tenant_id", "customer_code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    #: The customer (by code) this ruleset is for; None for a tenant-wide ruleset.
    customer_code: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class RulesetVersion(Base):
    """A published version: never updated, never deleted; a rollback publishes a copy."""

    __tablename__ = "ruleset_versions"
    __table_args__ = (
        UniqueConstraint("ruleset_id", "number"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "ruleset_id"], ["rulesets.tenant_id", "rulesets.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    ruleset_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    #: SHA-256 of the content: the compiled-ruleset cache key.
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: From when this version decides; a version can be published ahead of time.
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    #: For a rollback: the version number whose content this copies.
    source_version: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class RulesetDraft(Base):
    """The one work-in-progress content of a ruleset, freely overwritten until published."""

    __tablename__ = "ruleset_drafts"
    __table_args__ = (
        UniqueConstraint("ruleset_id"),
        ForeignKeyConstraint(
            ["tenant_id", "ruleset_id"], ["rulesets.tenant_id", "rulesets.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    ruleset_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The published version the draft started from (None: before the first version).
    base_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


# --------------------------------------------------------------------------- reference data


class ReferenceTable(Base):
    """A keyed table rulesets look values up in (an order book, a cost-centre list, …)."""

    __tablename__ = "reference_tables"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    key_column: Mapped[str] = mapped_column(String(100))
    columns: Mapped[list[str]] = mapped_column(JsonDocument)
    description: Mapped[str | None] = mapped_column(Text)
    #: Bumped by every change to the table or its rows, so a decision can say which data it saw.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReferenceRow(Base):
    """One row of a reference table: its key and its values, all text (exact, like CSV)."""

    __tablename__ = "reference_rows"
    __table_args__ = (
        UniqueConstraint("table_id", "key"),
        ForeignKeyConstraint(
            ["tenant_id", "table_id"],
            ["reference_tables.tenant_id", "reference_tables.id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    table_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, str | None]] = mapped_column(JsonDocument)


# --------------------------------------------------------------------------- invoices


class InvoiceRecord(Base):
    """A submitted invoice: the bytes as received, and the model read from them."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("tenant_id", "seller_key", "number"),
        UniqueConstraint("tenant_id", "id"),
        Index("ix_invoices_tenant_status", "tenant_id", "status"),
        Index("ix_invoices_tenant_customer", "tenant_id", "customer_code"),
        Index("ix_invoices_tenant_received", "tenant_id", "received_at"),
        # The worker's recovery pass looks for invoices a crash left `received` (issue 11).
        Index("ix_invoices_status_received", "status", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    #: Who issued it (VAT id, else legal id, else …; see repositories.invoices.seller_key).
    seller_key: Mapped[str] = mapped_column(String(300))
    #: BT-1, the invoice number; unique per (tenant, seller) when present.
    number: Mapped[str | None] = mapped_column(String(200))
    #: "ubl", "cii", "facturx" or "json".
    syntax: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str | None] = mapped_column(String(200))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    document_sha256: Mapped[str] = mapped_column(String(64))
    #: The EN 16931 model as JSON, amounts as strings (exact).
    model: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    #: SHA-256 of the model's business terms: tells a replay from a different invoice.
    model_sha256: Mapped[str] = mapped_column(String(64))
    customer_code: Mapped[str | None] = mapped_column(String(64))
    issue_date: Mapped[date | None] = mapped_column(Date)
    currency_code: Mapped[str | None] = mapped_column(String(3))
    amount_with_vat: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(String(200))
    #: The language the submitter asked the decision's messages in (`?lang=`): the recovery pass decides in it.
    lang: Mapped[str | None] = mapped_column(String(35))
    #: The status the first answer to a submission gave (issue 11: a repeat gets the first answer), written in the
    #: transaction that decides the invoice for a request; NULL: the first answer was `received` (the recovery
    #: pass decides without answering anyone, so it never writes it).
    answered_status: Mapped[str | None] = mapped_column(String(24))


class DecisionRecord(Base):
    """What a ruleset version decided for an invoice; the latest one is the current one."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "ruleset_version_id"], ["ruleset_versions.tenant_id", "ruleset_versions.id"]
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    #: None when only the standard rulesets (shipped with the code) decided.
    ruleset_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    ruleset_hash: Mapped[str | None] = mapped_column(String(64))
    #: A one-word summary ("route", "hold", "reject"); the full Decision is in `result`.
    outcome: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# --------------------------------------------------------------------------- dispatch


class OutboxEntry(Base):
    """One delivery to make; written in the same transaction as the decision that routed it."""

    __tablename__ = "outbox_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "delivery_key"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        ForeignKeyConstraint(["tenant_id", "decision_id"], ["decisions.tenant_id", "decisions.id"]),
        Index("ix_outbox_entries_due", "status", "next_attempt_at"),
        Index("ix_outbox_entries_lease", "status", "claimed_until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: "peppol", "edi", "email", "print", "fax" or "portal".
    channel: Mapped[str] = mapped_column(String(16))
    format: Mapped[str | None] = mapped_column(String(16))
    #: The channel settings at the time of routing (address, partner id, …).
    destination: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    #: De-duplication key: the same key is never queued twice.
    delivery_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The worker holding the entry while it is `sending` ("host:pid").
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    #: End of that worker's lease: past it, the entry is due again (the worker died mid-send).
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The id of the attempt the current claim started; a late report from an older claim is told apart by it.
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: Attempts made before the last manual retry: the retry limit counts only the attempts after it.
    requeued_after: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeliveryAttempt(Base):
    """One try at sending an outbox entry, kept whatever its outcome."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        UniqueConstraint("outbox_id", "number"),
        ForeignKeyConstraint(
            ["tenant_id", "outbox_id"], ["outbox_entries.tenant_id", "outbox_entries.id"]
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    outbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    #: The channel's own id for the delivery (a Peppol message id, an SMTP queue id, …).
    remote_id: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    #: The worker that made the attempt ("host:pid").
    worker: Mapped[str | None] = mapped_column(String(200))


# --------------------------------------------------------------------------- audit


class AuditEntry(Base):
    """Who did what, when, with which key. Rows are only ever inserted (triggers refuse the rest)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_target", "tenant_id", "target_type", "target_id"),
        Index("ix_audit_log_tenant_at", "tenant_id", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: A readable name for who acted: "key:aig_AbCd1234" or "cli".
    actor: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    #: Dotted verb: "customer.create", "table.rows.replace", "invoice.receive".
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


# --------------------------------------------------------------------------- tables of later issues

# Register on Base.metadata the tables of the workflows (issue 8), look-alikes (issue 11), web users
# (issue 13), payments (issue 14), PA and lifecycle (issue 16) and events (issue 19).
from aiguillage.store import (  # noqa: E402, F401
    event_models,
    fr_models,
    lookalike_models,
    payment_models,
    web_models,
    workflow_models,
)
