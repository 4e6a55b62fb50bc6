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

from pydantic import ValidationError

from aiguillage.adapters.base import ChannelSettings, Delivery, PermanentDeliveryError, Route
from aiguillage.model.invoice import Invoice
from aiguillage.store.models import Customer
from aiguillage.store.repositories.claims import Claim
from aiguillage.workflows.destinations import destination_document, settings_from_customer

__all__ = ["KEYS", "build_delivery", "destination_document", "settings_from_customer"]

#: The keys a destination document may have.
KEYS = frozenset({"to", "params", "settings"})


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
