"""Bodies of the French lifecycle endpoints: an invoice's status timeline, a supplier's status, the webhook query."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from aiguillage.api.schemas.common import Request
from aiguillage.fr.statuses import STATUSES
from aiguillage.store.fr_models import LifecycleEvent, PaFlow


class LifecycleStatus(BaseModel):
    """One status of the timeline."""

    code: str = Field(description="MDT-105, e.g. 200 Déposée, 212 Encaissée")
    label_fr: str
    label_en: str
    reason_code: str | None = None
    reason: str | None = None
    issued_at: datetime = Field(description="When the status was issued: the timeline's order")
    received_at: datetime
    source: str = Field(description="webhook or poll (from the PA), supplier (sent by us)")
    issuer_role: str | None = Field(None, description="WK platform, BY buyer, SE seller")
    flow_id: str
    amount: Decimal | None = None

    @classmethod
    def from_row(cls, row: LifecycleEvent) -> LifecycleStatus:
        known = STATUSES.get(row.code)
        return cls(code=row.code, label_fr=known.label_fr if known else row.code,
                   label_en=known.label_en if known else row.code, reason_code=row.reason_code, reason=row.reason,
                   issued_at=row.issued_at, received_at=row.received_at, source=row.source,
                   issuer_role=row.issuer_role, flow_id=row.source_flow_id, amount=row.amount)


class PaFlowView(BaseModel):
    """A flow at the PA about the invoice, with the PA's acknowledgement."""

    flow_id: str
    flow_type: str
    direction: str
    ack_status: str = Field(description="Pending, Ok or Error")
    detail: str | None = None

    @classmethod
    def from_row(cls, row: PaFlow) -> PaFlowView:
        return cls(flow_id=row.flow_id, flow_type=row.flow_type, direction=row.direction, ack_status=row.ack_status,
                   detail=row.detail)


class Lifecycle(BaseModel):
    """An invoice's French lifecycle: the current status, the timeline in issue order, and its flows."""

    invoice_id: uuid.UUID
    current: LifecycleStatus | None
    statuses: list[LifecycleStatus]
    flows: list[PaFlowView]


class SupplierStatusBody(Request):
    """A status the supplier sends to its PA about its own invoice (e.g. 212 Encaissée when VAT is due on payment)."""

    code: str = Field(pattern=r"^\d{3}$", description="211, 212, 220, 224–228")
    reason_code: str | None = Field(None, max_length=32, pattern=r"^[A-Z_]+$")
    reason: str | None = Field(None, max_length=1000)


class WebhookQuery(Request):
    tenant: uuid.UUID = Field(description="The tenant whose PA subscription sends here (set in the callback URL)")
