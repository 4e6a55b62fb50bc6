"""Workflow sessions in the store: load, post, save, `delete_state`, effects, in the caller's transaction.

The caller owns the transaction (an API request, one timer, one worker
event); everything an event does (the new session state, its timers, the
invoice's status, queued deliveries, audit entries) commits or rolls back
together. Saving bumps `version`, so a save based on a stale read fails
(`Conflict`) instead of overwriting another process's transition.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from aiguillage.events.transitions import workflow_event
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, NotFound
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.base import TenantScoped, page_size
from aiguillage.store.workflow_models import WorkflowState
from aiguillage.workflows import charts, runtime
from aiguillage.workflows.runtime import EventNotAllowed, Outcome

#: Workflow kind → durable_rules ruleset name.
CHARTS: dict[str, str] = {
    "approval": charts.APPROVAL,
    "query": charts.QUERY,
    "delivery": charts.DELIVERY,
    "reminder": charts.REMINDER,
}


#: `row_known` not given: look the session up.
_UNKNOWN = object()


class WorkflowConflict(Conflict):
    """Another process changed the session since it was read; retry the request."""


@dataclass(frozen=True)
class Posted:
    """The saved session after an event, and what the rules asked for."""

    row: WorkflowState
    outcome: Outcome


def invoice_sid(invoice_id: uuid.UUID) -> str:
    """The durable_rules session id of an invoice's workflow (unique per tenant and kind in the store)."""
    return str(invoice_id)


class Workflows(TenantScoped):
    """A tenant's workflow sessions."""

    noun = "workflow"

    def find(self, kind: str, sid: str) -> WorkflowState | None:
        return self.session.scalars(
            select(WorkflowState).where(
                WorkflowState.tenant_id == self.tenant_id, WorkflowState.kind == kind, WorkflowState.sid == sid
            )
        ).one_or_none()

    def for_invoice(self, kind: str, invoice_id: uuid.UUID) -> WorkflowState:
        """The invoice's workflow of this kind, or `NotFound` (also for another tenant's invoice)."""
        self._get(InvoiceRecord, invoice_id, noun="invoice")
        row = self.find(kind, invoice_sid(invoice_id))
        if row is None:
            raise NotFound(f"invoice {invoice_id} has no {kind} workflow")
        return row

    def listing(self, kind: str, *, status: str | None = None, role: str | None = None,
                limit: int | None = None) -> list[WorkflowState]:
        """A queue: the tenant's sessions of a kind, oldest first, optionally by status and role."""
        query = select(WorkflowState).where(WorkflowState.tenant_id == self.tenant_id, WorkflowState.kind == kind)
        if status is not None:
            query = query.where(WorkflowState.status == status)
        if role is not None:
            query = query.where(WorkflowState.role == role)
        query = query.order_by(WorkflowState.created_at, WorkflowState.id).limit(page_size(limit))
        return list(self.session.scalars(query))

    def post(
        self,
        kind: str,
        sid: str,
        message: dict[str, Any],
        actor: Actor,
        *,
        invoice_id: uuid.UUID | None = None,
        initial: dict[str, Any] | None = None,
        create: bool = False,
        now: datetime | None = None,
        as_facts: bool = False,
        keep_fact: Any = None,
        row_known: WorkflowState | None | object = _UNKNOWN,
    ) -> Posted:
        """Post one event (or assert one fact) to a session and apply what the rules asked for.

        `create` starts the session when there is none (a start event);
        without it a missing session is `NotFound`. `row_known` passes a
        session the caller already read (or None: known not to exist). An
        event the current state does not take raises `EventNotAllowed` and
        changes nothing; a session changed or started meanwhile by another
        process is `WorkflowConflict` (409), and the caller's transaction
        must be rolled back.
        """
        from aiguillage.workflows.effects import apply

        now = now or utcnow()
        row = self.find(kind, sid) if row_known is _UNKNOWN else cast(WorkflowState | None, row_known)
        if row is None and not create:
            raise NotFound(f"no {kind} workflow {sid}")
        outcome = runtime.run(
            CHARTS[kind], sid, None if row is None else row.state, [message],
            initial=initial, as_facts=as_facts, keep_fact=keep_fact,
        )
        if row is None:
            row = WorkflowState(tenant_id=self.tenant_id, invoice_id=invoice_id, kind=kind, sid=sid,
                                created_at=now, status=outcome.status, state=outcome.snapshot, updated_at=now)
            self.session.add(row)
        row.state = outcome.snapshot
        row.status = outcome.status
        role = outcome.snapshot["state"].get("role")
        row.role = str(role) if role else None
        row.updated_at = now
        try:
            self.session.flush()
        except (StaleDataError, IntegrityError):  # saved, or started, by another process since it was read
            raise WorkflowConflict(f"the {kind} workflow {sid} changed meanwhile; try again") from None
        apply(self.session, self.tenant_id, row, outcome.effects, actor, now)
        workflow_event(self.session, self.tenant_id, kind, message, row, now)  # issue 19: tell the ERP
        return Posted(row, outcome)


__all__ = ["CHARTS", "EventNotAllowed", "Posted", "WorkflowConflict", "Workflows", "invoice_sid"]
