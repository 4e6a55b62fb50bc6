"""Bodies of `POST /v1/invoices:batch`: one item per invoice, one result per item."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field, model_validator

from aiguillage.api.schemas.common import Request
from aiguillage.api.schemas.invoices import InvoiceState

#: Most items one batch may carry (a month-end run sends several batches).
MAX_ITEMS = 1000


class BatchItem(Request):
    """One invoice of a batch: exactly one of `invoice`, `document`, `document_base64`."""

    idempotency_key: str = Field(min_length=1, max_length=255,
                                 description="The item's own key: sending the item again (alone or in another batch) "
                                 "answers with the invoice first stored under it")
    customer: str | None = Field(None, max_length=64, description="The customer's code; default: matched from the buyer")
    lang: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})?$",
                      description="Language of the decision's messages (as `?lang=` of POST /v1/invoices)")
    invoice: dict[str, Any] | None = Field(None, description="The invoice in Aiguillage's JSON syntax")
    document: str | None = Field(None, description="The invoice document as text: UBL or CII XML, or JSON")
    document_base64: str | None = Field(None, description="The invoice document's bytes, base64 (e.g. a Factur-X PDF)")

    @model_validator(mode="after")
    def _one_document(self) -> BatchItem:
        given = [name for name in ("invoice", "document", "document_base64") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of invoice, document, document_base64"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class BatchItemResult(BaseModel):
    """What happened to one item: the status it would have had alone, and the invoice or the problem."""

    index: int = Field(description="The item's position (0-based; for NDJSON, its line number minus one)")
    idempotency_key: str | None
    status: int = Field(description="202 stored (now, or by the first submission: see `replayed`); 4xx/5xx: not stored")
    id: uuid.UUID | None = None
    invoice_status: InvoiceState | None = Field(None, description="The status first answered (a repeat gets the same)")
    replayed: bool | None = Field(None, description="True when the item repeats an invoice already stored: this is "
                                  "its first answer given again; false when stored now; absent when not stored")
    duplicate: bool | None = Field(None, deprecated=True,
                                   description="Always false when stored: read `replayed`. Kept for clients that read "
                                   "it; to be removed")
    status_url: str | None = None
    problem: dict[str, Any] | None = Field(None, description="An RFC 9457 problem document when not stored")


class BatchSummary(BaseModel):
    """Counts over the batch."""

    items: int
    stored: int = Field(description="Items stored by this request (202, not replayed)")
    repeated: int = Field(description="Items that repeat an invoice already stored (202 with `replayed`)")
    failed: int = Field(description="Items not stored (4xx, 5xx): send them again once fixed or later")


class BatchResult(BaseModel):
    """One result per item, in the order sent."""

    items: list[BatchItemResult]
    summary: BatchSummary
