"""The one small interface every delivery channel implements.

A worker hands an adapter a `Delivery` (the invoice, the route the rules
chose, the customer's channel settings and a de-duplication key); the adapter
`render`s the documents the channel carries and `send`s them, returning a
`DeliveryResult` or raising a typed error that tells the worker whether to
retry (`TemporaryDeliveryError`) or dead-letter (`PermanentDeliveryError`).

Adapters know nothing about rules: everything they need is in the delivery
and in their own configuration (`AdapterConfig`, read from the environment or
a dict), so the same adapter serves every customer and every ruleset.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiguillage.model.invoice import Invoice

if TYPE_CHECKING:
    from aiguillage.adapters.documents import DocumentRenderer

#: Formats a customer can ask to receive as attachments (e-mail) or publications (portal).
AttachmentFormat = Literal["pdf", "facturx", "ubl", "cii", "json"]


class PostalAddress(BaseModel):
    """Where paper goes: the print channel's envelope window, not the invoice's buyer address."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    lines: list[str] = Field(default_factory=list)
    post_code: str | None = None
    city: str | None = None
    country_code: str | None = None


class ChannelSettings(BaseModel):
    """How one customer wants to be reached, per channel; the store keeps these per customer.

    Plain data: the same settings drive every adapter, and an adapter reads
    only the fields of its own channel.
    """

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, description="Where invoices are e-mailed")
    email_cc: list[str] = Field(default_factory=list, description="Copies of each e-mail")
    language: str = Field(default="en", description="Language of bodies and renditions (en, fr)")
    peppol_participant_id: str | None = Field(
        default=None, description="Receiver's Peppol id as scheme:value, e.g. 0009:52198765400027"
    )
    edi_partner_id: str | None = Field(default=None, description="Partner id in UNB (usually a GLN)")
    edi_partner_qualifier: str = Field(default="14", description="UNB code qualifier; 14 = GS1 GLN")
    edi_transport: Literal["sftp", "folder"] | None = Field(
        default=None, description="Overrides the EDI adapter's default transport for this partner"
    )
    edi_path: str | None = Field(default=None, description="Sub-folder of the SFTP inbox or mailbox folder")
    fax_number: str | None = Field(default=None, description="International fax number, e.g. +33 1 23 45 67 89")
    postal_address: PostalAddress | None = Field(default=None, description="Where paper invoices go")
    attachment_formats: list[AttachmentFormat] = Field(
        default_factory=lambda: ["pdf"], description="Documents attached to e-mails, in order"
    )


class Route(BaseModel):
    """The part of the engine's route decision an adapter needs: where, in what form, with what options.

    Field for field the engine's `decision.Route` (extra fields ignored), so a
    worker passes `Route.model_validate(route.model_dump())` without mapping.
    """

    model_config = ConfigDict(extra="ignore")

    channel: str
    format: str | None = None
    to: str | None = Field(default=None, description="A destination the rules named; wins over the customer's settings")
    params: dict[str, Any] = Field(default_factory=dict)


class Delivery(BaseModel):
    """One invoice going down one channel to one customer: what `render` and `send` receive.

    `delivery_key` is stable across retries (the outbox creates it once), so
    every identifier an adapter derives from it (SBDH instance id, Message-ID,
    interchange reference, file names) is the same on a re-send and the
    receiving side can recognise the duplicate. `created_at` is fixed for the
    same reason: a re-send renders byte-identical documents.
    """

    model_config = ConfigDict(extra="forbid")

    delivery_key: str = Field(min_length=1, max_length=300)
    invoice: Invoice
    route: Route
    settings: ChannelSettings = Field(default_factory=ChannelSettings)
    customer_id: str | None = None
    invoice_id: str | None = Field(default=None, description="The store's id of the invoice, when known")
    tenant_id: str | None = Field(default=None, description="The tenant sending it (channels with per-tenant accounts)")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def key_digest(self, length: int = 32) -> str:
        """A hex digest of the delivery key, for identifiers that must be short or plain ASCII."""
        return hashlib.sha256(self.delivery_key.encode("utf-8")).hexdigest()[:length]

    def safe_key(self) -> str:
        """The delivery key made safe for file names and header values (digest added if anything changed)."""
        cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", self.delivery_key)[:80]
        return cleaned if cleaned == self.delivery_key else f"{cleaned}-{self.key_digest(12)}"


class RenderedDocument(BaseModel):
    """One document as it travels: bytes, a file name and a media type."""

    model_config = ConfigDict(extra="forbid")

    filename: str
    media_type: str
    content: bytes
    kind: str = Field(description="What it is: ubl, cii, facturx, pdf, json, sbdh, edifact, tiff")


class DeliveryStatus(StrEnum):
    """What a successful send means: the counterpart has it, or a hand-off point does."""

    #: The counterpart acknowledged it (SMTP 250, access point 2xx, file on the partner's server).
    DELIVERED = "delivered"
    #: Left where another party picks it up (hot folder, outbound mailbox folder).
    QUEUED = "queued"
    #: Staged locally until a batch is closed (print batches).
    STAGED = "staged"
    #: Visible to the customer online.
    PUBLISHED = "published"
    #: Already done on an earlier attempt with the same delivery key; nothing sent again.
    DUPLICATE = "duplicate"


class DeliveryResult(BaseModel):
    """What the worker records after a successful send."""

    model_config = ConfigDict(extra="forbid")

    delivery_id: str = Field(description="The counterpart's id for it (message id, job id, path) or one we derived")
    status: DeliveryStatus
    detail: str = ""
    channel: str = ""
    receipt: str | None = Field(default=None, description="The counterpart's own answer, kept as evidence")


class DeliveryError(Exception):
    """A send that did not happen; `temporary` tells the worker whether to try again."""

    temporary: ClassVar[bool] = False

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: What the counterpart said, when it said something (status line, SMTP reply).
        self.detail = detail


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying later: timeouts, refused connections, 4xx SMTP replies, 5xx HTTP answers."""

    temporary = True


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: a bad address, a rejected document, wrong credentials. Dead-letter it."""

    temporary = False


class AdapterConfig(BaseSettings):
    """Base of every adapter's configuration: environment variables, or a dict in tests."""

    model_config = SettingsConfigDict(extra="forbid", env_nested_delimiter="__")

    timeout: float = Field(default=30.0, gt=0, description="Seconds before a send counts as timed out")


class Adapter(ABC):
    """A delivery channel. Subclasses set `channel` and `config_class` and implement render/send."""

    channel: ClassVar[str]
    config_class: ClassVar[type[AdapterConfig]] = AdapterConfig

    def __init__(self, config: AdapterConfig | dict[str, Any] | None = None, *,
                 renderer: DocumentRenderer | None = None) -> None:
        if config is None:
            config = self.config_class()
        elif isinstance(config, dict):
            config = self.config_class(**config)
        self.config = config
        if renderer is None:
            from aiguillage.adapters.documents import DocumentRenderer

            renderer = DocumentRenderer()
        #: Writes syntaxes and the PDF rendition; injectable so tests and deployments can swap them.
        self.renderer = renderer

    @abstractmethod
    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The documents this channel carries for the delivery; raises `PermanentDeliveryError` if it cannot."""

    @abstractmethod
    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """Hand the rendered documents to the counterpart; idempotent for the same delivery key where it can be."""

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Render then send: what a worker calls for one outbox entry."""
        return self.send(delivery, self.render(delivery))

    def idle(self) -> list[str]:
        """Called by a worker when its queue is empty: finish batched work (e.g. close a print batch).

        Returns what was done, for the log; most channels have nothing to do.
        """
        return []

    def result(self, delivery: Delivery, delivery_id: str, status: DeliveryStatus, detail: str = "",
               receipt: str | None = None) -> DeliveryResult:
        """Build a result stamped with this adapter's channel."""
        return DeliveryResult(delivery_id=delivery_id, status=status, detail=detail, channel=self.channel,
                              receipt=receipt)
