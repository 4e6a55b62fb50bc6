"""Deliveries: `GET /v1/deliveries` (e.g. `?status=dead`), `GET /v1/deliveries/{id}`, and
`POST /v1/deliveries/{id}/retry` to queue a dead-lettered delivery again.

Retrying is how the accounts-receivable team gets an invoice out once the
cause is fixed (a customer's address corrected, a partner's server back):
the delivery keeps its key, so the receiver can still recognise a re-send.
"""

from __future__ import annotations

import uuid

from flask import Blueprint

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import READ_DELIVERIES, RETRY_DELIVERIES
from aiguillage.api.schemas.common import one_page
from aiguillage.api.schemas.deliveries import Delivery, DeliveryPage, DeliveryQuery, DeliverySummary
from aiguillage.store.errors import NotFound
from aiguillage.store.repositories.outbox import Outbox

blueprint = Blueprint("deliveries", __name__, url_prefix="/v1/deliveries")


def _outbox() -> Outbox:
    return Outbox(database.session(), current_principal().tenant_id)


@blueprint.get("")
@endpoint(summary="List deliveries", description="Dead letters: `?status=dead`.", roles=READ_DELIVERIES,
          query=DeliveryQuery, responses={200: DeliveryPage})
def list_deliveries(query: DeliveryQuery) -> DeliveryPage:
    try:
        rows = _outbox().page(status=query.status, invoice_id=query.invoice_id, after=query.after,
                              limit=query.limit + 1)
    except NotFound:
        raise Problem(400, f"invalid query parameter at after: no delivery {query.after} to continue after",
                      type="invalid-request", title="Invalid request",
                      errors=[{"parameter": "after", "detail": "unknown delivery"}]) from None
    rows, last = one_page(rows, query.limit)
    return DeliveryPage(items=[DeliverySummary.from_entry(row) for row in rows],
                        next=last.id if last is not None else None)


@blueprint.get("/<uuid:delivery_id>")
@endpoint(summary="Read a delivery and its attempts", roles=READ_DELIVERIES, responses={200: Delivery})
def get_delivery(delivery_id: uuid.UUID) -> Delivery:
    return Delivery.from_view(_outbox().view(delivery_id))


@blueprint.post("/<uuid:delivery_id>/retry")
@endpoint(
    summary="Retry a dead-lettered delivery",
    description="Queues the delivery again, due now, with a fresh round of attempts; 409 unless it is dead.",
    roles=RETRY_DELIVERIES,
    responses={202: Delivery},
)
def retry_delivery(delivery_id: uuid.UUID) -> Delivery:
    outbox = _outbox()
    entry = outbox.requeue(delivery_id, current_principal().actor)
    return Delivery.from_view(outbox.view(entry.id))
