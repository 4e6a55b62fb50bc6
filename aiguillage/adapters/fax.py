"""Fax: the PDF rendition as a G4 fax TIFF, sent through an e-mail-to-fax gateway or a fax provider's HTTP API.

Gateway: an e-mail to `<digits>@<gateway domain>` with the TIFF attached
(the usual convention of such gateways). API: a multipart POST with the
number and the TIFF; the provider's answer (a fax id) is the receipt.
"""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

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
from aiguillage.adapters.faxtiff import pdf_to_fax_tiff
from aiguillage.adapters.httpclient import post
from aiguillage.adapters.smtpclient import SmtpServer, send_message


class FaxConfig(AdapterConfig):
    """The fax provider (env `AIGUILLAGE_FAX_*`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_FAX_")

    mode: Literal["email_gateway", "http_api"] = "email_gateway"
    gateway_domain: str = Field(default="fax.localhost", description="Faxes are mailed to <number>@<gateway_domain>")
    smtp: SmtpServer = Field(default_factory=SmtpServer)
    from_address: str = "fax@localhost"
    api_url: str = "http://127.0.0.1:8090/faxes"
    api_token: SecretStr | None = None
    ca_file: str | None = None
    verify: bool = True
    keep_plus: bool = Field(default=False, description="Keep the leading + in the gateway address (some gateways want it)")


def fax_number(raw: str | None) -> str:
    """`+33 1 23-45.67 (89)` -> `+33123456789`; PermanentDeliveryError when it cannot be a fax number."""
    if not raw:
        raise PermanentDeliveryError("the customer has no fax number in its channel settings")
    number = re.sub(r"[\s().\-/]", "", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not re.fullmatch(r"\+?\d{6,20}", number):
        raise PermanentDeliveryError(f"not a fax number: {raw!r}")
    return number


class FaxAdapter(Adapter):
    """Rasterises the rendition and sends it by gateway or API."""

    channel = "fax"
    config_class = FaxConfig
    config: FaxConfig

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """One multi-page fax TIFF of the customer-language rendition."""
        pdf = self.renderer.pdf(delivery.invoice, delivery.settings.language)
        try:
            tiff, _ = pdf_to_fax_tiff(pdf)
        except ValueError as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        return [RenderedDocument(filename=f"{document_stem(delivery.invoice)}.tif", media_type="image/tiff",
                                 content=tiff, kind="tiff")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        number = fax_number(delivery.route.to or delivery.settings.fax_number)
        if self.config.mode == "http_api":
            return self._api(delivery, number, rendered[0])
        return self._gateway(delivery, number, rendered[0])

    def _gateway(self, delivery: Delivery, number: str, tiff: RenderedDocument) -> DeliveryResult:
        local = number if self.config.keep_plus else number.lstrip("+")
        recipient = f"{local}@{self.config.gateway_domain}"
        message = EmailMessage()
        message["From"] = self.config.from_address
        message["To"] = recipient
        message["Subject"] = f"{delivery.invoice.number or 'Invoice'}"
        message["Date"] = format_datetime(delivery.created_at)
        domain = self.config.from_address.rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{delivery.key_digest(32)}.fax@{domain}>"
        message.set_content(f"Fax for {number}: {delivery.invoice.number}\n")
        message.add_attachment(tiff.content, maintype="image", subtype="tiff", filename=tiff.filename)
        reply = send_message(self.config.smtp, message, [recipient], timeout=self.config.timeout)
        return self.result(delivery, message["Message-ID"], DeliveryStatus.DELIVERED,
                           f"handed to the fax gateway for {number}", receipt=reply)

    def _api(self, delivery: Delivery, number: str, tiff: RenderedDocument) -> DeliveryResult:
        fields = {"to": number, "reference": delivery.delivery_key, "subject": delivery.invoice.number or ""}
        body, content_type = multipart(fields, "file", tiff.filename, tiff.media_type, tiff.content)
        headers = {"Idempotency-Key": delivery.safe_key()}
        if self.config.api_token:
            headers["Authorization"] = f"Bearer {self.config.api_token.get_secret_value()}"
        answer = post(self.config.api_url, body, content_type=content_type, timeout=self.config.timeout,
                      headers=headers, ca_file=self.config.ca_file, verify=self.config.verify)
        receipt = answer.body.decode("utf-8", "replace")
        try:
            data = json.loads(receipt)
        except ValueError:
            data = {}
        fax_id = str(data.get("id") or data.get("fax_id") or delivery.delivery_key) if isinstance(data, dict) else delivery.delivery_key
        return self.result(delivery, fax_id, DeliveryStatus.DELIVERED, f"fax API accepted it for {number}",
                           receipt=receipt or None)


def multipart(fields: dict[str, str], file_field: str, filename: str, media_type: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its Content-Type."""
    boundary = f"aiguillage-{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() +
                     value.encode("utf-8") + b"\r\n")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: {media_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
