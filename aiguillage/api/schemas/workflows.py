"""Bodies of the workflow endpoints: approve, reject, query, answer, resolve, and the queues."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from aiguillage.api.schemas.common import Request
from aiguillage.api.schemas.payments import Amount
from aiguillage.store.workflow_models import WorkflowState


class ApproveBody(Request):
    """An approval may carry a comment (kept in the audit log)."""

    comment: str | None = Field(None, max_length=2000)


class ReasonBody(Request):
    """A rejection or a query: why, in words."""

    reason: str = Field(min_length=1, max_length=2000)


class AnswerBody(Request):
    answer: str = Field(min_length=1, max_length=4000)


class ResolveBody(Request):
    resolution: str = Field(min_length=1, max_length=4000)
    credit_note: str | None = Field(None, max_length=200, description="Number of the credit note that settled it")


class PaymentBody(Request):
    """A payment as the ERP booked it: recorded, and allocated to the invoice (the whole open amount by default)."""

    paid_on: date | None = Field(None, description="When the money arrived (default: today)")
    amount: str | None = Field(None, max_length=40, pattern=r"^-?\d+(\.\d+)?$", description="e.g. \"1200.00\"")
    reference: str | None = Field(None, max_length=200, description="The bank or ERP reference of the payment")


class QueueQuery(Request):
    status: str | None = Field(None, max_length=24, description="Only sessions in this state")
    role: str | None = Field(None, max_length=64, description="Approvals: only those waiting for this role")
    limit: int = Field(100, ge=1, le=500)


class WorkflowView(BaseModel):
    """One invoice's workflow: where it is and what it remembers."""

    invoice_id: uuid.UUID | None
    kind: str
    status: str
    role: str | None = None
    version: int
    updated_at: datetime
    state: dict[str, Any] = Field(description="The workflow's own data (who decided, the reason, escalations, …)")

    @classmethod
    def from_row(cls, row: WorkflowState) -> WorkflowView:
        state = {k: v for k, v in (row.state.get("state") or {}).items() if k not in ("sid", "running")}
        return cls(invoice_id=row.invoice_id, kind=row.kind, status=row.status, role=row.role,
                   version=row.version, updated_at=row.updated_at, state=state)


class WorkflowPage(BaseModel):
    items: list[WorkflowView]


class PaymentRecorded(BaseModel):
    """What recording the payment did: the reminder workflow's new state (None when it had none), the balance."""

    invoice_id: uuid.UUID
    reminders: WorkflowView | None
    payment_id: uuid.UUID | None = None
    balance_status: str | None = Field(None, description="open, partially_paid, paid or over_paid")
    open: Amount | None = Field(None, description="What is left to pay")
