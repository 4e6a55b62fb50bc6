"""Portal: publish the invoice for the customer's online view.

The adapter renders the documents the portal shows and hands them, with a
publication record, to a `PortalPublisher`. The store will implement that
protocol (a row per publication, documents in its blob storage); until then
`FolderPublisher` keeps each publication as a folder: the documents plus
`publication.json`, assembled aside and renamed into place in one step.
Publishing the same delivery key twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    AttachmentFormat,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    RenderedDocument,
)
from aiguillage.adapters.files import atomic_write, fsync_dir


class PublishedDocument(BaseModel):
    """One file of a publication, with what the portal needs to list and serve it."""

    model_config = ConfigDict(extra="forbid")

    filename: str
    media_type: str
    kind: str
    size: int
    sha256: str


class Publication(BaseModel):
    """The record the portal lists: which invoice, for whom, how much, which files."""

    model_config = ConfigDict(extra="forbid")

    publication_id: str
    delivery_key: str
    customer_id: str | None = None
    invoice_id: str | None = None
    invoice_number: str | None = None
    type_code: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency_code: str | None = None
    amount_due: Decimal | None = None
    seller_name: str | None = None
    buyer_name: str | None = None
    language: str = "en"
    published_at: datetime
    documents: list[PublishedDocument] = Field(default_factory=list)


class PublishOutcome(BaseModel):
    """What publishing did: where the publication lives, and whether this call created it."""

    publication_id: str
    location: str
    created: bool


@runtime_checkable
class PortalPublisher(Protocol):
    """Where publications go; the store-backed implementation comes with the store."""

    def publish(self, publication: Publication, documents: list[RenderedDocument]) -> PublishOutcome:
        """Store the record and its documents; publishing the same publication id again is a no-op."""
        ...


def _segment(value: str | None, fallback: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", value or "").strip("._")
    return cleaned[:80] or fallback


class FolderPublisher:
    """Publications as folders: `<root>/<customer>/<publication id>/{documents, publication.json}`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def publish(self, publication: Publication, documents: list[RenderedDocument]) -> PublishOutcome:
        folder = self.root / _segment(publication.customer_id, "_no_customer")
        final = folder / publication.publication_id
        if (final / "publication.json").exists():
            return PublishOutcome(publication_id=publication.publication_id, location=str(final), created=False)
        assembly = folder / f".{publication.publication_id}.part"
        shutil.rmtree(assembly, ignore_errors=True)  # left by an interrupted attempt
        assembly.mkdir(parents=True)
        for document in documents:
            atomic_write(assembly / document.filename, document.content)
        atomic_write(assembly / "publication.json", publication.model_dump_json(indent=2).encode("utf-8"))
        fsync_dir(assembly)
        try:
            os.rename(assembly, final)
        except OSError:  # a concurrent publisher won the race
            shutil.rmtree(assembly, ignore_errors=True)
            if (final / "publication.json").exists():
                return PublishOutcome(publication_id=publication.publication_id, location=str(final), created=False)
            raise
        fsync_dir(folder)
        return PublishOutcome(publication_id=publication.publication_id, location=str(final), created=True)


class PortalConfig(AdapterConfig):
    """Where the in-process publisher writes, and how the portal links to a publication (env `AIGUILLAGE_PORTAL_*`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_PORTAL_")

    folder: Path = Field(default=Path("outbox/portal"))
    base_url: str | None = Field(default=None, description="Portal URL prefix; the publication id is appended")
    formats: list[AttachmentFormat] = Field(default_factory=lambda: ["pdf", "json"],
                                            description="Documents published for every invoice")


class PortalAdapter(Adapter):
    """Renders the portal documents and publishes them through a `PortalPublisher`."""

    channel = "portal"
    config_class = PortalConfig
    config: PortalConfig

    def __init__(self, config: PortalConfig | dict[str, Any] | None = None, *, publisher: PortalPublisher | None = None,
                 **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.publisher: PortalPublisher = publisher or FolderPublisher(self.config.folder)

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The configured documents (by default the readable PDF and the model's JSON)."""
        formats = delivery.route.params.get("formats") or self.config.formats
        return [self.renderer.document(delivery.invoice, fmt, delivery.settings.language) for fmt in formats]

    def publication(self, delivery: Delivery, rendered: list[RenderedDocument]) -> Publication:
        """The record for this delivery; its id is stable per delivery key."""
        invoice = delivery.invoice
        return Publication(
            publication_id=f"{_segment(invoice.number, 'invoice')}-{delivery.key_digest(12)}",
            delivery_key=delivery.delivery_key,
            customer_id=delivery.customer_id,
            invoice_id=delivery.invoice_id,
            invoice_number=invoice.number,
            type_code=invoice.type_code,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            currency_code=invoice.currency_code,
            amount_due=invoice.totals.amount_due_for_payment if invoice.totals else None,
            seller_name=invoice.seller.name if invoice.seller else None,
            buyer_name=invoice.buyer.name if invoice.buyer else None,
            language=delivery.settings.language,
            published_at=delivery.created_at,
            documents=[PublishedDocument(filename=d.filename, media_type=d.media_type, kind=d.kind, size=len(d.content),
                                         sha256=hashlib.sha256(d.content).hexdigest()) for d in rendered],
        )

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """Publish; the delivery id is the portal URL when configured, else the publication id."""
        outcome = self.publisher.publish(self.publication(delivery, rendered), rendered)
        link = f"{self.config.base_url.rstrip('/')}/{outcome.publication_id}" if self.config.base_url else outcome.publication_id
        status = DeliveryStatus.PUBLISHED if outcome.created else DeliveryStatus.DUPLICATE
        return self.result(delivery, link, status, f"published at {outcome.location}",
                           receipt=json.dumps({"location": outcome.location}))
