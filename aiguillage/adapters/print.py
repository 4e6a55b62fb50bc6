"""Print: the readable PDF of the invoice, to a print provider's hot folder (in batches) or to an IPP printer.

The PDF is `model.rendition.render_pdf`'s, in the customer's language; this
module adds no drawing of its own. The postal address on the envelope comes
from the customer's channel settings, else the buyer's address (BG-8); a
document with no address to print is refused, not printed blind.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from pypdf import PdfReader

from aiguillage.adapters import ipp
from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    PostalAddress,
    RenderedDocument,
    TemporaryDeliveryError,
)
from aiguillage.adapters.documents import document_stem
from aiguillage.adapters.hotfolder import HotFolder
from aiguillage.adapters.httpclient import post


class PrintConfig(AdapterConfig):
    """The print provider (env `AIGUILLAGE_PRINT_*`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_PRINT_")

    mode: Literal["hot_folder", "ipp"] = "hot_folder"
    hot_folder: Path = Field(default=Path("outbox/print"), description="Where batches are published")
    batch_size: int = Field(default=1, ge=1, description="Invoices per batch; the worker flushes a partial batch when idle")
    printer_uri: str = Field(default="ipp://127.0.0.1:631/printers/invoices", description="IPP printer (ipp:// or http://)")
    requesting_user: str = "aiguillage"
    sides: str | None = Field(default=None, description="IPP sides, e.g. two-sided-long-edge")
    media: str | None = Field(default=None, description="IPP media, e.g. iso_a4_210x297mm")
    ca_file: str | None = None
    verify: bool = True


def postal_address(delivery: Delivery) -> PostalAddress:
    """The customer's print address, else the buyer's address on the invoice."""
    if delivery.settings.postal_address:
        return delivery.settings.postal_address
    buyer = delivery.invoice.buyer
    address = buyer.postal_address if buyer else None
    if not address or not (address.city or address.post_code):
        raise PermanentDeliveryError("no postal address: the customer has none and the buyer's address (BG-8) is incomplete")
    lines = [line for line in (address.line_one, address.line_two, address.line_three) if line]
    return PostalAddress(name=buyer.name if buyer else None, lines=lines, post_code=address.post_code,
                         city=address.city, country_code=address.country_code)


class PrintAdapter(Adapter):
    """Puts the rendition in a hot-folder batch or submits it as an IPP Print-Job."""

    channel = "print"
    config_class = PrintConfig
    config: PrintConfig

    def hot_folder(self) -> HotFolder:
        """The batching hot folder (a worker calls `.flush()` on it when it has nothing else to do)."""
        return HotFolder(self.config.hot_folder, self.config.batch_size)

    def idle(self) -> list[str]:
        """Publish a partially filled hot-folder batch, so no invoice waits for the batch to fill."""
        if self.config.mode != "hot_folder":
            return []
        batch = self.hot_folder().flush()
        return [f"published print batch {batch}"] if batch else []

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The readable PDF in the customer's language."""
        pdf = self.renderer.pdf(delivery.invoice, delivery.settings.language)
        return [RenderedDocument(filename=f"{document_stem(delivery.invoice)}.pdf", media_type="application/pdf",
                                 content=pdf, kind="pdf")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """Hot folder: stage (and publish when the batch is full). IPP: one Print-Job per invoice."""
        address = postal_address(delivery)
        pdf = rendered[0].content
        if self.config.mode == "ipp":
            return self._print_job(delivery, pdf)
        entry = {
            "delivery_key": delivery.delivery_key,
            "invoice_number": delivery.invoice.number,
            "customer_id": delivery.customer_id,
            "pages": len(PdfReader(io.BytesIO(pdf)).pages),
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "address": address.model_dump(exclude_none=True),
        }
        name = f"{document_stem(delivery.invoice)}-{delivery.key_digest(12)}"
        state, batch = self.hot_folder().stage(name, pdf, entry)
        if state == "duplicate":
            return self.result(delivery, name, DeliveryStatus.DUPLICATE, "already published in an earlier batch")
        if state == "staged":
            return self.result(delivery, name, DeliveryStatus.STAGED, "waiting for the batch to fill")
        return self.result(delivery, f"{batch.name}/{name}.pdf", DeliveryStatus.QUEUED, f"published in {batch}")

    def _print_job(self, delivery: Delivery, pdf: bytes) -> DeliveryResult:
        config = self.config
        request_id = int(delivery.key_digest(7), 16) or 1
        request = ipp.print_job_request(
            config.printer_uri, pdf, request_id=request_id, user=config.requesting_user,
            job_name=f"{delivery.invoice.number} {delivery.safe_key()}", sides=config.sides, media=config.media,
        )
        answer = post(ipp.http_url(config.printer_uri), request, content_type="application/ipp",
                      timeout=config.timeout, ca_file=config.ca_file, verify=config.verify)
        try:
            response = ipp.decode(answer.body)
        except ValueError as exc:
            raise TemporaryDeliveryError(f"the printer's answer is not IPP: {exc}") from exc
        message = response.attribute(ipp.OPERATION_GROUP, "status-message") or ""
        if response.code >= 0x0400:
            error = f"printer answered IPP status 0x{response.code:04x} {message}".strip()
            if ipp.status_is_temporary(response.code):
                raise TemporaryDeliveryError(error, detail=message)
            raise PermanentDeliveryError(error, detail=message)
        job_id = response.attribute(ipp.JOB_GROUP, "job-id")
        return self.result(delivery, f"{config.printer_uri}#job-{job_id}", DeliveryStatus.DELIVERED,
                           f"IPP job {job_id} accepted (status 0x{response.code:04x})", receipt=message or None)
