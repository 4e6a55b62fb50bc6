"""EDI: an EDIFACT INVOIC D.96A interchange, put on the partner's SFTP server or in an outbound mailbox folder.

The interchange is built in `edifact.py`; this module picks the partners
(ours from configuration or the seller's GLN, theirs from the customer's
channel settings), names the file after the interchange control reference
(derived from the delivery key, so a re-send has the same name and
reference) and hands it to the transport the customer uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aiguillage.adapters import edifact
from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    RenderedDocument,
)
from aiguillage.adapters.documents import document_stem
from aiguillage.adapters.files import atomic_create
from aiguillage.adapters.sftp import SftpServer, upload


class EdiConfig(AdapterConfig):
    """Our EDI identity and transports (env `AIGUILLAGE_EDI_*`, nested with `__`, e.g. `AIGUILLAGE_EDI_SFTP__HOST`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_EDI_")

    transport: Literal["sftp", "folder"] = "folder"
    sender_id: str | None = Field(default=None, description="Our id in UNB; default: the seller's GLN (BT-29, scheme 0088)")
    sender_qualifier: str = "14"
    association: str = Field(default="EAN008", description="UNH association assigned code")
    test_indicator: bool = Field(default=False, description="Mark interchanges as tests (UNB 0035 = 1)")
    folder: Path = Field(default=Path("outbox/edi"), description="Outbound mailbox folder (transport folder)")
    sftp: SftpServer = Field(default_factory=SftpServer)


class EdiAdapter(Adapter):
    """Builds the interchange and delivers it by SFTP or into the mailbox folder."""

    channel = "edi"
    config_class = EdiConfig
    config: EdiConfig

    def _partners(self, delivery: Delivery) -> edifact.Partners:
        invoice, settings = delivery.invoice, delivery.settings
        sender = self.config.sender_id
        if not sender and invoice.seller:
            sender = next((i.value for i in invoice.seller.identifiers if i.scheme == edifact.GLN_SCHEME and i.value), None)
        recipient = settings.edi_partner_id
        if not sender:
            raise PermanentDeliveryError("no EDI sender id: configure sender_id or give the seller a GLN (BT-29, 0088)")
        if not recipient:
            raise PermanentDeliveryError("the customer has no EDI partner id in its channel settings")
        return edifact.Partners(sender, recipient, self.config.sender_qualifier, settings.edi_partner_qualifier)

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """One interchange, ISO 8859-1 encoded as its UNOC syntax says."""
        partners = self._partners(delivery)
        reference = str(delivery.route.params.get("interchange_reference") or edifact.control_reference(delivery.delivery_key))
        if not reference.isalnum() or len(reference) > 14:
            raise PermanentDeliveryError(f"interchange reference must be 1-14 letters or digits: {reference!r}")
        text = edifact.build_interchange(delivery.invoice, partners, reference, delivery.created_at,
                                         association=self.config.association, test=self.config.test_indicator)
        name = f"INVOIC_{document_stem(delivery.invoice)}_{reference}.edi"
        return [RenderedDocument(filename=name, media_type="application/EDIFACT",
                                 content=text.encode("latin-1"), kind="edifact")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """Upload or drop the interchange; a file already there under its name is a duplicate, not a failure."""
        document = rendered[0]
        transport = delivery.settings.edi_transport or self.config.transport
        subfolder = delivery.settings.edi_path
        if subfolder and (".." in Path(subfolder).parts or Path(subfolder).is_absolute()):
            raise PermanentDeliveryError(f"EDI path must stay inside the configured folder: {subfolder!r}")
        if transport == "sftp":
            written = upload(self.config.sftp, document.filename, document.content, timeout=self.config.timeout,
                             subfolder=subfolder)
            server = self.config.sftp
            where = f"sftp://{server.host}:{server.port}{server.remote_dir.rstrip('/')}/" + (
                f"{subfolder.strip('/')}/" if subfolder else "") + document.filename
            status = DeliveryStatus.DELIVERED if written else DeliveryStatus.DUPLICATE
        else:
            folder = self.config.folder / subfolder if subfolder else self.config.folder
            path = folder / document.filename
            written = atomic_create(path, document.content)
            where = str(path)
            status = DeliveryStatus.QUEUED if written else DeliveryStatus.DUPLICATE
        detail = f"{'wrote' if written else 'already present'} {where}"
        return self.result(delivery, where, status, detail)
