"""What an outbox entry's `destination` holds when a route is queued: the route's target and a settings snapshot.

Written when the invoice is routed (submission, or an approval releasing
it), in the same transaction as the decision; read back by the dispatch
worker (`dispatch.destination.build_delivery`). It lives here, below
`dispatch`, because queueing is a workflow step: workflows must not import
the worker's package.
"""

from __future__ import annotations

from typing import Any

from aiguillage.adapters.base import ChannelSettings, PostalAddress, Route
from aiguillage.store.models import Customer

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
