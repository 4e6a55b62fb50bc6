"""Every event type, the schema of its payload, and the envelope the feed and the webhooks send.

One pydantic model per type; `AnyEvent` is their union, discriminated by
`type`, which is what the OpenAPI document shows for the feed's items and a
webhook's body. A payload is validated against its model when recorded, so
what an ERP receives always matches the published schema.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Payload(BaseModel):
    """Base of every payload: unknown fields are a programming error, caught when recording."""

    model_config = ConfigDict(extra="forbid")


class FindingCounts(Payload):
    fatal: int = 0
    error: int = 0
    warning: int = 0
    info: int = 0


class FindingSummary(Payload):
    rule: str
    severity: str
    message: str | None = None
    field: str | None = None


class HoldSummary(Payload):
    kind: str | None = None
    role: str | None = None
    reason: str | None = None


class InvoiceDecided(Payload):
    """The rules decided: outcome, findings (counts and the blocking ones) and holds."""

    outcome: str = Field(description='"queued", "held", "rejected" or "unrouted"')
    status: str = Field(description="The invoice's status after the decision")
    ruleset: str | None = Field(None, description="Name of the ruleset that decided")
    ruleset_version: int | None = None
    counts: FindingCounts
    findings: list[FindingSummary] = Field(description="Fatal and error findings first, at most 20")
    holds: list[HoldSummary]
    channels: list[str] = Field(description="Channels the routes chose")


class InvoiceHeld(Payload):
    reason: str | None = None


class InvoiceReleased(Payload):
    by: str | None = Field(None, description="Who released it (the approver)")


class DeliveryOutcome(Payload):
    """An attempt at one delivery (one route) of the invoice, and what it led to."""

    delivery_id: uuid.UUID
    channel: str
    format: str | None = None
    attempt: int
    remote_id: str | None = Field(None, description="The channel's own id (a Peppol message id, …)")
    error: str | None = None
    next_attempt_at: datetime | None = Field(None, description="delivery.failed: when it is tried again")


class QueryOpened(Payload):
    reason: str | None = None
    by: str | None = None


class QueryAnswered(Payload):
    answer: str | None = None
    by: str | None = None


class QueryResolved(Payload):
    resolution: str | None = None
    credit_note: str | None = None
    by: str | None = None


class ApprovalApproved(Payload):
    by: str | None = None


class ApprovalRejected(Payload):
    by: str | None = None
    reason: str | None = None


class PaymentReceived(Payload):
    amount: str | None = Field(None, description='Decimal as text, e.g. "1200.00"')
    paid_on: date | None = None
    reference: str | None = None


class PaymentAllocated(Payload):
    amount: str = Field(description='Decimal as text, e.g. "1200.00"')
    currency: str | None = None
    source: str | None = Field(None, description='"card", "bank-statement", …')
    reference: str | None = None
    remaining: str | None = Field(None, description="What is still open on the invoice after the allocation")


class LifecycleStatus(Payload):
    """A status a French approved platform (PA) sent back about the invoice (CDAR lifecycle)."""

    code: str = Field(description='The lifecycle status code, e.g. "200" (deposited), "210" (refused)')
    label: str | None = None
    platform: str | None = None
    reason: str | None = None


#: Type name → payload model: the closed list of what can happen.
PAYLOADS: dict[str, type[Payload]] = {
    "invoice.decided": InvoiceDecided,
    "invoice.held": InvoiceHeld,
    "invoice.released": InvoiceReleased,
    "delivery.sent": DeliveryOutcome,
    "delivery.delivered": DeliveryOutcome,
    "delivery.failed": DeliveryOutcome,
    "delivery.dead": DeliveryOutcome,
    "query.opened": QueryOpened,
    "query.answered": QueryAnswered,
    "query.resolved": QueryResolved,
    "approval.approved": ApprovalApproved,
    "approval.rejected": ApprovalRejected,
    "payment.received": PaymentReceived,
    "payment.allocated": PaymentAllocated,
    "lifecycle.status": LifecycleStatus,
}

EVENT_TYPES: tuple[str, ...] = tuple(PAYLOADS)


class InvoiceRef(BaseModel):
    id: uuid.UUID
    number: str | None = None


class EventBase(BaseModel):
    """The envelope: the same JSON in the feed and as a webhook's body (what the signature covers)."""

    id: uuid.UUID = Field(description="Stable id: also the webhook-id header; de-duplicate on it")
    type: str
    sequence: str = Field(description="Position in the tenant's feed (commit order): the cursor to continue after")
    timestamp: datetime = Field(description="When it happened")
    invoice: InvoiceRef | None = None


def _envelope(type_name: str, payload: type[Payload]) -> type[EventBase]:
    """The event model of one type: the envelope with `type` fixed and `data` of the type's payload."""
    class_name = "".join(part.capitalize() for part in type_name.replace(".", "_").split("_")) + "Event"
    annotations = {"type": Literal[type_name], "data": payload}  # type: ignore[valid-type]
    return type(class_name, (EventBase,), {"__annotations__": annotations, "__module__": __name__,
                                           "__doc__": f"Event `{type_name}`."})


#: Type name → its event model.
EVENT_MODELS: dict[str, type[EventBase]] = {name: _envelope(name, payload) for name, payload in PAYLOADS.items()}

def _union() -> Any:
    from typing import Union

    return Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # noqa: UP007


#: Any event, told apart by `type` (the OpenAPI document lists one schema per type).
AnyEvent = _union()


def check_payload(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored: validated against the type's model, JSON-ready (KeyError: unknown type)."""
    model = PAYLOADS[type_name]
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)


def envelope(*, event_id: uuid.UUID, type_name: str, seq: int, occurred_at: datetime, invoice_id: uuid.UUID | None,
             invoice_number: str | None, payload: dict[str, Any]) -> EventBase:
    """The event as the ERP sees it."""
    model = EVENT_MODELS[type_name]
    return model(id=event_id, type=type_name, sequence=str(seq), timestamp=occurred_at,
                 invoice=InvoiceRef(id=invoice_id, number=invoice_number) if invoice_id is not None else None,
                 data=payload)
