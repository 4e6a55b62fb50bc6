"""Peppol: the invoice as UBL in Peppol BIS Billing 3.0 form, in an SBDH envelope, POSTed to our access point.

The access point (ours, "corner 2") does the AS4 exchange with the
customer's; we hand it the envelope over HTTP and keep its answer (usually a
message id) as the receipt. Receiver id comes from the customer's channel
settings, else from the buyer's electronic address (BT-49).
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from aiguillage.adapters import sbdh
from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    RenderedDocument,
)
from aiguillage.adapters.httpclient import post
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.invoice import Identifier
from aiguillage.model.ubl_common import CBC_NS, CREDIT_NOTE_NS, INVOICE_NS
from aiguillage.model.xmlsafe import parse_xml

BIS_CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
BIS_PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

#: UBL header elements that come after CustomizationID, in schema order.
_AFTER_CUSTOMIZATION = ("ProfileID", "ProfileExecutionID", "ID")


class PeppolConfig(AdapterConfig):
    """Our access point: where to POST and as whom (env `AIGUILLAGE_PEPPOL_*`)."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_PEPPOL_")

    access_point_url: str = Field(default="http://127.0.0.1:8080/outbound", description="Where envelopes are POSTed")
    sender_participant_id: str | None = Field(
        default=None, description="Our Peppol id (scheme:value); default: the seller's electronic address"
    )
    customization_id: str = BIS_CUSTOMIZATION_ID
    profile_id: str = BIS_PROFILE_ID
    bearer_token: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers the access point wants")
    ca_file: str | None = None
    verify: bool = True


def _id(identifier: Identifier | None) -> str | None:
    if identifier is None or not identifier.value:
        return None
    return f"{identifier.scheme}:{identifier.value}" if identifier.scheme else identifier.value


def bis_form(ubl: bytes, customization_id: str = BIS_CUSTOMIZATION_ID,
             profile_id: str = BIS_PROFILE_ID) -> etree._Element:
    """Parse UBL and set CustomizationID to Peppol BIS 3.0 (ProfileID only when missing), in schema order."""
    try:
        root = parse_xml(ubl, "UBL for Peppol")
    except InvoiceReadError as exc:
        raise PermanentDeliveryError(f"the UBL writer produced unreadable XML: {exc}") from exc
    if etree.QName(root).namespace not in (INVOICE_NS, CREDIT_NOTE_NS):
        raise PermanentDeliveryError(f"not a UBL Invoice or CreditNote: <{root.tag}>")
    custom = root.find(f"{{{CBC_NS}}}CustomizationID")
    if custom is None:
        custom = etree.Element(f"{{{CBC_NS}}}CustomizationID")
        following = next((child for child in root if isinstance(child.tag, str)
                          and etree.QName(child).localname in _AFTER_CUSTOMIZATION
                          and etree.QName(child).namespace == CBC_NS), None)
        if following is not None:
            following.addprevious(custom)
        else:
            root.insert(0, custom)
    custom.text = customization_id
    profile = root.find(f"{{{CBC_NS}}}ProfileID")
    if profile is None:
        profile = etree.Element(f"{{{CBC_NS}}}ProfileID")
        custom.addnext(profile)
        profile.text = profile_id
    elif not (profile.text or "").strip():
        profile.text = profile_id
    return root


class PeppolAdapter(Adapter):
    """Renders the SBDH envelope and POSTs it to the configured access point."""

    channel = "peppol"
    config_class = PeppolConfig
    config: PeppolConfig

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The enveloped BIS 3.0 document (one file: the access point wants the SBD as the body)."""
        invoice = delivery.invoice
        receiver_raw = delivery.route.to or delivery.settings.peppol_participant_id or _id(invoice.buyer.electronic_address if invoice.buyer else None)
        sender_raw = self.config.sender_participant_id or _id(invoice.seller.electronic_address if invoice.seller else None)
        if not receiver_raw:
            raise PermanentDeliveryError("no Peppol receiver: neither the customer's participant id nor the buyer's electronic address (BT-49) is set")
        if not sender_raw:
            raise PermanentDeliveryError("no Peppol sender: set the sender participant id or the seller's electronic address (BT-34)")
        try:
            receiver, sender = sbdh.participant(receiver_raw), sbdh.participant(sender_raw)
        except ValueError as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        root = bis_form(self.renderer.syntax(invoice, "ubl"), self.config.customization_id, self.config.profile_id)
        qname = etree.QName(root)
        profile = root.findtext(f"{{{CBC_NS}}}ProfileID") or self.config.profile_id
        country = invoice.seller.postal_address.country_code if invoice.seller and invoice.seller.postal_address else None
        envelope = sbdh.Envelope(
            sender=sender,
            receiver=receiver,
            document_type_id=f"{qname.namespace}::{qname.localname}##{self.config.customization_id}::2.1",
            process_id=profile,
            instance_id=delivery.delivery_key,
            created_at=delivery.created_at,
            standard=qname.namespace,
            type_name=qname.localname,
            country_c1=country,
        )
        body = sbdh.wrap(root, envelope)
        return [RenderedDocument(filename=f"{delivery.safe_key()}.sbd.xml", media_type="application/xml",
                                 content=body, kind="sbdh")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """POST the envelope; a 2xx answer is the access point's receipt."""
        headers = {"X-Delivery-Key": delivery.safe_key(), **self.config.headers}
        if self.config.bearer_token:
            headers["Authorization"] = f"Bearer {self.config.bearer_token.get_secret_value()}"
        answer = post(self.config.access_point_url, rendered[0].content, content_type="application/xml",
                      timeout=self.config.timeout, headers=headers, ca_file=self.config.ca_file,
                      verify=self.config.verify)
        receipt = answer.body.decode("utf-8", "replace")
        message_id = _message_id(answer.headers.get("X-Message-Id"), receipt) or delivery.delivery_key
        return self.result(delivery, message_id, DeliveryStatus.DELIVERED,
                           f"access point answered HTTP {answer.status}", receipt=receipt or None)


def _message_id(header: str | None, body: str) -> str | None:
    """The access point's id for the message: a header, or a JSON field with a usual name."""
    if header:
        return header.strip()
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("messageId", "message_id", "transmissionId", "id"):
            if isinstance(data.get(key), str | int):
                return str(data[key])
    return None
