"""Invoice bodies: the answer to a submission, listings, and one invoice with its history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from aiguillage.api.schemas.audit import AuditEntry
from aiguillage.api.schemas.common import Request
from aiguillage.api.schemas.decisions import StoredDecision
from aiguillage.api.schemas.deliveries import Delivery

InvoiceState = Literal["received", "evaluated", "held", "queued", "sent", "delivered", "failed", "rejected"]


class SubmitQuery(Request):
    """Options of a submission."""

    customer: str | None = Field(None, max_length=64, description="The customer's code; default: matched from the buyer")
    lang: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})?$", description="Language of the decision's messages")


class InvoiceAccepted(BaseModel):
    """A submission was stored: where to follow it. A repeat gets this same body again."""

    id: uuid.UUID
    status: InvoiceState = Field(description="The status when the submission was first answered (a repeat gets "
                                 "the same); the status now is at `status_url`")
    status_url: str = Field(description="GET it for the status, decision, deliveries and audit trail")
    duplicate: bool = Field(
        False, deprecated=True,
        description="Always false: a repeat gets the first answer again, byte for byte, and is told apart by the "
        "header `Idempotent-Replayed: true` (batch items: `replayed`). Kept for clients that read it; to be removed.")


class InvoiceSummary(BaseModel):
    """An invoice in a listing."""

    id: uuid.UUID
    number: str | None
    seller: str = Field(description="Who issued it (VAT id, else legal id, ...), as kind:value")
    customer: str | None
    syntax: str
    status: InvoiceState
    issue_date: date | None
    currency_code: str | None
    amount_with_vat: Decimal | None
    received_at: datetime
    updated_at: datetime


class InvoiceDetail(InvoiceSummary):
    """One invoice: status, current decision, deliveries with their attempts, audit trail."""

    idempotency_key: str | None
    decision: StoredDecision | None = Field(description="The current (latest) decision")
    decision_count: int
    deliveries: list[Delivery]
    audit: list[AuditEntry] = Field(description="Everything done to the invoice, oldest first")
    document_url: str


class InvoiceQuery(Request):
    """Filter invoices; newest first; page with `after`."""

    status: InvoiceState | None = None
    customer: str | None = Field(None, max_length=64, description="The customer's code")
    issued_from: date | None = Field(None, description="Issue date on or after")
    issued_to: date | None = Field(None, description="Issue date on or before")
    received_from: AwareDatetime | None = Field(None, description="Received at or after (with a time zone)")
    received_to: AwareDatetime | None = Field(None, description="Received before (with a time zone)")
    after: str | None = Field(None, max_length=200, description="The previous page's `next` cursor")
    limit: int = Field(50, ge=1, le=500)


class InvoicePage(BaseModel):
    """Invoices, newest first."""

    items: list[InvoiceSummary]
    next: str | None = Field(description="Cursor: pass as `after` for the next page; null on the last page")
    next_url: str | None = Field(description="The next page's URL (also in the Link header)")


class DocumentQuery(Request):
    """Which rendering of the invoice to download."""

    format: Literal["ubl", "cii", "facturx", "pdf", "json", "original"] = Field(
        "original", description="A syntax, a readable PDF, or the bytes as received"
    )
    lang: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})?$", description="Language of the readable PDF")
