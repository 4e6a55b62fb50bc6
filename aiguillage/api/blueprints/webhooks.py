"""Webhook subscriptions: `/v1/webhooks` (create, list, read, change, delete) and their deliveries.

The secret is in the answer to the creation only. A subscription the worker
disabled after a long failure shows why (`disabled_reason`); `PATCH` with
`{"status": "enabled"}` turns it back on and its waiting deliveries go out.
"""

from __future__ import annotations

import uuid

from flask import Blueprint

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.roles import MANAGE_WEBHOOKS
from aiguillage.api.schemas.events import (
    DeliveryQuery,
    WebhookChange,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryPage,
    WebhookDeliveryView,
    WebhookPage,
    WebhookView,
)
from aiguillage.events.subscriptions import Subscriptions

blueprint = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")


def _subscriptions() -> Subscriptions:
    return Subscriptions(database.session(), current_principal().tenant_id)


@blueprint.post("")
@endpoint(summary="Subscribe an endpoint to events", roles=MANAGE_WEBHOOKS, body=WebhookCreate,
          responses={201: WebhookCreated}, tags=["webhooks"],
          description="The answer carries the signing secret, shown this once.")
def create(body: WebhookCreate) -> tuple[WebhookCreated, int]:
    row, secret = _subscriptions().create(body.url, body.event_types, current_principal().actor,
                                          description=body.description)
    return WebhookCreated(**WebhookView.from_row(row).model_dump(), secret=secret), 201


@blueprint.get("")
@endpoint(summary="List webhook subscriptions", roles=MANAGE_WEBHOOKS, responses={200: WebhookPage},
          tags=["webhooks"])
def listing() -> WebhookPage:
    return WebhookPage(items=[WebhookView.from_row(row) for row in _subscriptions().listing()])


@blueprint.get("/<uuid:subscription_id>")
@endpoint(summary="Read a webhook subscription", roles=MANAGE_WEBHOOKS, responses={200: WebhookView},
          tags=["webhooks"])
def read(subscription_id: uuid.UUID) -> WebhookView:
    return WebhookView.from_row(_subscriptions().get(subscription_id))


@blueprint.patch("/<uuid:subscription_id>")
@endpoint(summary="Change, disable or re-enable a webhook subscription", roles=MANAGE_WEBHOOKS,
          body=WebhookChange, responses={200: WebhookView}, tags=["webhooks"])
def change(subscription_id: uuid.UUID, body: WebhookChange) -> WebhookView:
    row = _subscriptions().change(subscription_id, current_principal().actor, url=body.url,
                                  event_types=body.event_types, description=body.description, status=body.status)
    return WebhookView.from_row(row)


@blueprint.delete("/<uuid:subscription_id>")
@endpoint(summary="Delete a webhook subscription", roles=MANAGE_WEBHOOKS, responses={204: None},
          tags=["webhooks"])
def delete(subscription_id: uuid.UUID) -> None:
    _subscriptions().delete(subscription_id, current_principal().actor)


@blueprint.get("/<uuid:subscription_id>/deliveries")
@endpoint(summary="A subscription's deliveries, newest event first", roles=MANAGE_WEBHOOKS, query=DeliveryQuery,
          responses={200: WebhookDeliveryPage}, tags=["webhooks"])
def deliveries(subscription_id: uuid.UUID, query: DeliveryQuery) -> WebhookDeliveryPage:
    rows = _subscriptions().deliveries(subscription_id, status=query.status, limit=query.limit)
    return WebhookDeliveryPage(items=[WebhookDeliveryView.from_row(row) for row in rows])
