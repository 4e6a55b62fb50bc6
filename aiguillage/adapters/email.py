"""E-mail: the invoice as attachments (PDF, Factur-X, UBL or CII, as the customer wants) over SMTP.

Which attachments: the route's format when the rules name one ("as
factur-x"), else the customer's preferred formats. The Message-ID is derived
from the delivery key, so a re-send after a crash carries the same id and
the recipient's mail system (and people) can tell it is the same message.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from pydantic import Field
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
from aiguillage.adapters.messages import email_body
from aiguillage.adapters.smtpclient import SmtpServer, send_message

#: Spellings the rules and settings may use for each attachment format.
_FORMAT_NAMES = {"pdf": "pdf", "facturx": "facturx", "factur-x": "facturx", "zugferd": "facturx",
                 "ubl": "ubl", "cii": "cii", "json": "json"}


class EmailConfig(AdapterConfig):
    """Our outgoing mail (env `AIGUILLAGE_EMAIL_*`, e.g. `AIGUILLAGE_EMAIL_SMTP__HOST`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_EMAIL_")

    smtp: SmtpServer = Field(default_factory=SmtpServer)
    from_address: str = "invoices@localhost"
    from_name: str | None = Field(default=None, description="Display name; default: the seller's name")
    reply_to: str | None = None
    bcc: list[str] = Field(default_factory=list, description="Archive copies, never shown to the customer")
    message_id_domain: str | None = Field(default=None, description="Right side of Message-IDs; default: from_address's domain")


def valid_address(value: str) -> bool:
    """A plausible single mailbox (local@domain), without trusting display names or lists."""
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain and address == value.strip() and "," not in value)


def attachment_formats(delivery: Delivery) -> list[str]:
    """The route's format, or the route's `attachments` list, or the customer's preferred formats."""
    wanted = delivery.route.params.get("attachments")
    if not wanted:
        wanted = [delivery.route.format] if delivery.route.format else delivery.settings.attachment_formats
    formats = []
    for name in wanted:
        fmt = _FORMAT_NAMES.get(str(name).lower())
        if fmt is None:
            raise PermanentDeliveryError(f"cannot attach format {name!r}; expected pdf, factur-x, ubl, cii or json")
        if fmt not in formats:
            formats.append(fmt)
    return formats


class EmailAdapter(Adapter):
    """Composes a bilingual-capable e-mail with the invoice attached and submits it over SMTP."""

    channel = "email"
    config_class = EmailConfig
    config: EmailConfig

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The attachments, in the order the customer asked for them."""
        lang = delivery.settings.language
        return [self.renderer.document(delivery.invoice, fmt, lang) for fmt in attachment_formats(delivery)]

    def recipients(self, delivery: Delivery) -> tuple[list[str], list[str]]:
        """(to, cc): the route's `to` when the rules named one, else the customer's address, and its copies."""
        to = delivery.route.to or delivery.route.params.get("to") or delivery.settings.email
        to_list = [to] if isinstance(to, str) else list(to or [])
        cc = list(delivery.settings.email_cc)
        if not to_list:
            raise PermanentDeliveryError("no e-mail address: the customer has none and the route names none")
        bad = [a for a in to_list + cc if not valid_address(a)]
        if bad:
            raise PermanentDeliveryError(f"not an e-mail address: {', '.join(map(repr, bad))}")
        return to_list, cc

    def message_id(self, delivery: Delivery) -> str:
        """`<digest.invoice@domain>` from the delivery key: the same on every attempt."""
        domain = self.config.message_id_domain or self.config.from_address.rpartition("@")[2] or "localhost"
        return f"<{delivery.key_digest(32)}.invoice@{domain}>"

    def compose(self, delivery: Delivery, rendered: list[RenderedDocument], to: list[str],
                cc: list[str]) -> EmailMessage:
        """The MIME message to `to` and `cc` (see `recipients`): text and HTML alternatives, then the attachments."""
        invoice = delivery.invoice
        body = email_body(invoice, delivery.settings.language, [d.filename for d in rendered])
        message = EmailMessage()
        sender_name = self.config.from_name or (invoice.seller.name if invoice.seller else None) or ""
        local, _, domain = self.config.from_address.rpartition("@")
        message["From"] = Address(display_name=sender_name, username=local, domain=domain)
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        if self.config.reply_to:
            message["Reply-To"] = self.config.reply_to
        message["Subject"] = body.subject
        message["Date"] = format_datetime(delivery.created_at)
        message["Message-ID"] = self.message_id(delivery)
        message["X-Aiguillage-Delivery-Key"] = delivery.safe_key()
        message.set_content(body.text)
        message.add_alternative(body.html, subtype="html")
        for part in message.iter_parts():  # the language belongs to the bodies, not to the attachments
            part["Content-Language"] = delivery.settings.language
        for document in rendered:
            maintype, _, subtype = document.media_type.partition("/")
            message.add_attachment(document.content, maintype=maintype, subtype=subtype, filename=document.filename)
        return message

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """Submit the message; the delivery id is its Message-ID, the receipt the server's reply to DATA."""
        to, cc = self.recipients(delivery)
        message = self.compose(delivery, rendered, to, cc)
        reply = send_message(self.config.smtp, message, to + cc + self.config.bcc, timeout=self.config.timeout)
        return self.result(delivery, message["Message-ID"], DeliveryStatus.DELIVERED,
                           f"sent to {', '.join(to + cc)}", receipt=reply)
