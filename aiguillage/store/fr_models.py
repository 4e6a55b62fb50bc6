"""Tables of France's exchange side (issue 16): PA accounts, flows at the PA, and each invoice's lifecycle.

`pa_accounts` holds a tenant's account at its approved platform (URL, token,
the webhook subscription and its signing key); the token and key are read
only by the PA adapter and the webhook endpoint and never returned or
logged. `pa_flows` ties the PA's flow ids to our invoices (outgoing invoice
and status flows, incoming lifecycle flows) with the PA's acknowledgement.
`lifecycle_events` is the status timeline: one row per status received or
sent, unique per source flow, so a webhook delivered twice records once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, Money, UtcDateTime, new_id, utcnow


class PaAccount(Base):
    """A tenant's account at its PA."""

    __tablename__ = "pa_accounts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(500))
    token: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[str | None] = mapped_column(String(200))
    #: OAuth2 client credentials (the description's other scheme): then `token` holds the client secret.
    token_url: Mapped[str | None] = mapped_column(String(500))
    client_id: Mapped[str | None] = mapped_column(String(200))
    webhook_id: Mapped[str | None] = mapped_column(String(64))
    #: The PA's signing key for webhook events (base64), as createWebhook returned it.
    signing_key: Mapped[str | None] = mapped_column(Text)
    #: Flows updated after this were not seen yet by polling (`updatedAfter` of the next search).
    polled_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:  # never the token or key
        return f"PaAccount(tenant_id={self.tenant_id}, base_url={self.base_url!r})"


class FrSettings(Base):
    """A French tenant's fiscal facts: its SIREN and VAT regime, which sets the e-reporting cadence."""

    __tablename__ = "fr_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9))
    #: "reel_normal_mensuel", "reel_normal_trimestriel", "simplifie" or "franchise".
    vat_regime: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaFlow(Base):
    """One flow at the PA: an invoice or status we sent (Out), or a lifecycle status we received (In)."""

    __tablename__ = "pa_flows"
    __table_args__ = (
        UniqueConstraint("tenant_id", "flow_id"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        Index("ix_pa_flows_pending", "tenant_id", "ack_status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    tracking_id: Mapped[str | None] = mapped_column(String(64))
    #: The Flow API's flowType ("CustomerInvoice", "CustomerInvoiceLC", …).
    flow_type: Mapped[str] = mapped_column(String(48))
    #: "Out" (we sent it) or "In" (the PA sent it to us).
    direction: Mapped[str] = mapped_column(String(3))
    #: "Pending", "Ok" or "Error".
    ack_status: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LifecycleEvent(Base):
    """One status of an invoice's French lifecycle, as received from the PA or sent by the supplier."""

    __tablename__ = "lifecycle_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source_flow_id", "code"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        Index("ix_lifecycle_events_invoice", "tenant_id", "invoice_id", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: MDT-105, e.g. "200", "212".
    code: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    #: When the status was issued (the CDAR's IssueDateTime): the timeline's order.
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: "pa" (received from the PA), "supplier" (we sent it), "webhook"/"poll" say how a PA status came.
    source: Mapped[str] = mapped_column(String(16))
    #: The role of who issued it (MDT-40: WK platform, BY buyer, SE seller).
    issuer_role: Mapped[str | None] = mapped_column(String(4))
    #: The PA flow that carried it; with `code`, what makes a status unique (duplicates are dropped).
    source_flow_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(200))
    #: For 211/212: the amount paid or cashed.
    amount: Mapped[Decimal | None] = mapped_column(Money)
