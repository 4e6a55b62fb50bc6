"""Bodies of the event feed and the webhook endpoints (issue 19).

The events themselves are `aiguillage.events.types` models: one schema per
type in the OpenAPI document, the feed's items a union told apart by `type`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, RootModel, field_validator

from aiguillage.api.schemas.common import Request
from aiguillage.events.types import EVENT_TYPES, AnyEvent
from aiguillage.store.event_models import WebhookDelivery, WebhookSubscription

#: Longest long-poll a feed request may ask for, in seconds.
MAX_WAIT = 30


class FeedQuery(Request):
    after: str = Field("0", pattern=r"^\d{1,19}$",
                       description="Cursor: the `next` of the previous page (0 or absent: from the beginning)")
    types: str | None = Field(None, max_length=2000,
                              description="Only these event types, comma-separated (e.g. invoice.held,delivery.dead)")
    invoice_id: uuid.UUID | None = Field(None, description="Only the events of this invoice")
    limit: int = Field(100, ge=1, le=500)
    wait: int = Field(0, ge=0, le=MAX_WAIT,
                      description="Long-poll: when nothing is new, wait up to this many seconds for an event")

    @field_validator("types")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unknown = [t for t in value.split(",") if t.strip() not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
        return value

    def type_list(self) -> list[str] | None:
        return [t.strip() for t in self.types.split(",")] if self.types else None


class EventPage(BaseModel):
    """Events in commit order; continue with `after=next` (the same order the webhooks follow)."""

    items: list[AnyEvent]  # type: ignore[valid-type]
    next: str = Field(description="The cursor to continue after (also when `items` is empty)")


class OneEvent(RootModel[AnyEvent]):  # type: ignore[valid-type]
    """One event; its schema is given by its `type`."""


class ReplayBody(Request):
    subscription_id: uuid.UUID | None = Field(
        None, description="Replay to this subscription only (default: every enabled one that wants the type)")


class ReplayResult(BaseModel):
    event_id: uuid.UUID
    deliveries: list[uuid.UUID]


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) < 10:
        raise ValueError("a webhook URL is an absolute http:// or https:// URL")
    return value


class WebhookCreate(Request):
    url: str = Field(max_length=2000, description="Where events are POSTed (https:// in production)")
    event_types: list[str] = Field(default_factory=list, max_length=len(EVENT_TYPES),
                                   description="Event types to send; empty: all")
    description: str | None = Field(None, max_length=500)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)


class WebhookChange(Request):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=len(EVENT_TYPES))
    description: str | None = Field(None, max_length=500)
    status: Literal["enabled", "disabled"] | None = Field(
        None, description="Re-enable a disabled subscription (its waiting deliveries go out at once), or disable it")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)


class WebhookView(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None = Field(description="Why it was disabled (after a long failure, or by whom)")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(description="Start of the current run of failures, if any")
    consecutive_failures: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: WebhookSubscription) -> WebhookView:
        return cls(id=row.id, url=row.url, event_types=list(row.event_types or []), description=row.description,
                   status=row.status, disabled_reason=row.disabled_reason, disabled_at=row.disabled_at,
                   failing_since=row.failing_since, consecutive_failures=row.consecutive_failures or 0,
                   created_at=row.created_at)


class WebhookCreated(WebhookView):
    secret: str = Field(description="The signing secret (whsec_…): shown only now; keep it on the receiving side")


class WebhookPage(BaseModel):
    items: list[WebhookView]


class DeliveryQuery(Request):
    status: Literal["pending", "sending", "delivered"] | None = None
    limit: int = Field(100, ge=1, le=500)


class WebhookDeliveryView(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    invoice_id: uuid.UUID | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    replay: bool

    @classmethod
    def from_row(cls, row: WebhookDelivery) -> WebhookDeliveryView:
        return cls(id=row.id, event_id=row.event_id, invoice_id=row.invoice_id,
                   status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                   last_attempt_at=row.last_attempt_at, last_status_code=row.last_status_code,
                   last_error=row.last_error, delivered_at=row.delivered_at, replay=bool(row.replay))


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryView]


def webhooks_section(schemas: dict) -> dict:
    """The OpenAPI 3.1 `webhooks` entry: what Aiguillage POSTs to a subscription, with its signature headers.

    The event schemas are already among `schemas` (the feed's items); the body is any of them.
    """
    page = schemas.get("EventPage", {})
    body = page.get("properties", {}).get("items", {}).get("items")
    if body is None:
        return {}
    header = {"required": True, "schema": {"type": "string"}}
    return {"event": {"post": {
        "summary": "An event, signed (Standard Webhooks); answer 2xx once stored",
        "description": "Sent to each enabled subscription that wants the event's type, in order per invoice, "
        "retried with backoff until a 2xx. Verify `webhook-signature` (v1, HMAC-SHA256 over "
        "`{webhook-id}.{webhook-timestamp}.{body}`) and de-duplicate on `webhook-id` (the event's id).",
        "parameters": [
            {"name": "webhook-id", "in": "header", "description": "The event's id", **header},
            {"name": "webhook-timestamp", "in": "header", "description": "Unix seconds, signed", **header},
            {"name": "webhook-signature", "in": "header", "description": "v1,<base64 HMAC-SHA256>", **header},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"2XX": {"description": "Stored; the event will not be sent again (except by a replay)"}},
    }}}
