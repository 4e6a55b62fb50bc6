"""An outbox entry's `destination`, to and from what an adapter needs (`Route` and `ChannelSettings`).

The destination is written when the invoice is routed, in the same
transaction as the decision: `{"to": …, "params": {…}, "settings": {…}}`,
i.e. the route's own target and options and a snapshot of the customer's
channel settings. A snapshot, because the invoice must go where the rules
sent it even if the customer record changes before the worker gets to it.
An entry queued without `settings` falls back to the customer's current
record (by the invoice's customer code).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from aiguillage.adapters.base import (
    ChannelSettings,
    Delivery,
    PermanentDeliveryError,
    PostalAddress,
    Route,
)
from aiguillage.model.invoice import Invoice
from aiguillage.store.models import Customer
from aiguillage.store.repositories.claims import Claim

#: The keys a destination document may have.
KEYS = frozenset({"to", "params", "settings"})
#: Customer preferred formats that are also e-mail attachment formats (EDIFACT is the EDI channel's own).
_ATTACHABLE = ("pdf", "facturx", "ubl", "cii", "json")
#: The customer record says "mailbox" where the EDI adapter says "folder".
_EDI_TRANSPORTS = {"mailbox": "folder", "folder": "folder", "sftp": "sftp"}


def destination_document(route: Route | dict[str, Any], settings: ChannelSettings | None = None) -> dict[str, Any]:
    """The `destination` to queue for a route (an engine or adapter `Route`, or its dict) and settings."""
    if not isinstance(route, Route):
        route = Route.model_validate(route if isinstance(route, dict) else route.model_dump())
    document: dict[str, Any] = {"to": route.to, "params": route.params}
    if settings is not None:
        document["settings"] = settings.model_dump(mode="json")
    return document


def settings_from_customer(customer: Customer) -> ChannelSettings:
    """The adapters' view of a stored customer: addresses, partner ids, language, attachments."""
    formats = [f for f in customer.preferred_formats or [] if f in _ATTACHABLE]
    postal = None
    if customer.postal_address:
        address = customer.postal_address
        postal = PostalAddress(
            name=customer.name,
            lines=[address[k] for k in ("line_one", "line_two", "line_three") if address.get(k)],
            post_code=address.get("post_code"),
            city=address.get("city"),
            country_code=address.get("country_code"),
        )
    return ChannelSettings(
        email=customer.email,
        language=customer.language or "en",
        peppol_participant_id=customer.peppol_participant_id,
        edi_partner_id=customer.edi_partner_id,
        edi_transport=_EDI_TRANSPORTS.get(customer.edi_transport or ""),  # type: ignore[arg-type]
        fax_number=customer.fax_number,
        postal_address=postal,
        **({"attachment_formats": formats} if formats else {}),
    )


def build_delivery(claim: Claim, invoice: Invoice, *, invoice_id: str, customer_code: str | None,
                   customer: Customer | None) -> Delivery:
    """The adapter's `Delivery` for a claimed entry; a destination that cannot be used is permanent."""
    destination = claim.destination
    unknown = set(destination) - KEYS
    if unknown:
        raise PermanentDeliveryError(f"the outbox entry's destination has unknown field(s): {', '.join(sorted(unknown))}")
    try:
        route = Route(channel=claim.channel, format=claim.format, to=destination.get("to"),
                      params=destination.get("params") or {})
        if destination.get("settings") is not None:
            settings = ChannelSettings.model_validate(destination["settings"])
        elif customer is not None:
            settings = settings_from_customer(customer)
        else:
            settings = ChannelSettings()
        return Delivery(delivery_key=claim.delivery_key, invoice=invoice, route=route, settings=settings,
                        customer_id=customer_code, invoice_id=invoice_id, created_at=claim.created_at,
                        tenant_id=str(claim.tenant_id))
    except ValidationError as exc:
        raise PermanentDeliveryError(f"the outbox entry's destination is not usable: {exc}") from exc
