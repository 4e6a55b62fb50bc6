"""Recording decisions for many invoices in one transaction, with a few Core statements (issue 11).

What `submission._record` does for one invoice through the ORM, this does
for a batch: the decision, the status it implies, the look-alike checks
(a probable duplicate is held, never queued), one outbox entry per route,
and the audit entries and events that tell it, all written by one
statement per kind of row. The rows and their order per invoice are the
ones the ORM path writes (`invoice.decide`, `invoice.status`, then
`invoice.duplicate`, `invoice.unusual_amount`, `delivery.queue` or
`invoice.hold`), so the trail reads the same whichever path recorded it.

Workflows (approvals, reminders) are rare at intake and keep their ORM
path: only invoices whose decision asks for one go through
`starting.start_workflows`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.api.deciding import stored_result, verdict
from aiguillage.api.selection import Selection
from aiguillage.engine.decision import Decision
from aiguillage.events.record import decided_data, event_row, held_data
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Invalid
from aiguillage.store.repositories import intake
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import _jsonable
from aiguillage.store.repositories.outbox import CHANNELS
from aiguillage.store.vocabulary import InvoiceStatus, OutboxStatus
from aiguillage.workflows.destinations import destination_document, settings_from_customer
from aiguillage.workflows.duplicates import Candidate, Finding, buyer_key_of, observe_many
from aiguillage.workflows.policy import DEFAULTS, policy_from_decision

RECEIVED = InvoiceStatus.RECEIVED.value
HELD = InvoiceStatus.HELD.value
QUEUED = InvoiceStatus.QUEUED.value


@dataclass(frozen=True)
class Decided:
    """A stored invoice and what deciding it gave: a decision, or why there is none (it is then held)."""

    invoice_id: uuid.UUID
    number: str | None
    seller_key: str
    customer_code: str | None
    model: dict[str, Any]
    amount: Decimal | None
    issue_date: date | None
    selection: Selection | None
    decision: Decision | None
    reason: str = ""


@dataclass
class _Rows:
    """What one invoice adds, kept per invoice so its trail stays in order."""

    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def record_many(session: Session, tenant_id: uuid.UUID, actor: Actor, items: list[Decided],
                now: datetime | None = None) -> dict[uuid.UUID, str]:
    """Record every item still `received`, in the caller's transaction; the status of every item after.

    The statuses are recorded as the answer (`answered_status`) with the
    decision. Items decided meanwhile (a repeat, the recovery pass) are left
    as they are and answered with their first answer (`received` if the
    recovery pass decided them), so a repeat of them is answered the same. The caller commits.
    """
    now = now or utcnow()
    locked = intake.lock_received(session, tenant_id, (item.invoice_id for item in items))
    status: dict[uuid.UUID, str] = {}
    rows: dict[uuid.UUID, _Rows] = {}
    decisions: list[dict[str, Any]] = []
    checked: list[tuple[Decided, dict[str, Any], uuid.UUID]] = []
    for item in items:
        if item.invoice_id not in locked:
            continue
        trail = rows[item.invoice_id] = _Rows()
        if item.selection is None or item.decision is None:
            status[item.invoice_id] = HELD
            trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.status", item.invoice_id,
                                                 {"from": RECEIVED, "to": HELD, "reason": item.reason}, now))
            trail.events.append(_held(tenant_id, item, item.reason, now))
            continue
        outcome = verdict(item.decision)
        result = _jsonable(stored_result(item.decision))
        version = item.selection.version
        decision_id = uuid.uuid4()
        decisions.append({
            "id": decision_id, "tenant_id": tenant_id, "invoice_id": item.invoice_id,
            "ruleset_version_id": version.version_id if version is not None else None,
            "ruleset_hash": version.content_hash if version is not None else item.selection.compiled.hash,
            "outcome": outcome.outcome, "result": result, "created_at": now,
        })
        status[item.invoice_id] = outcome.status.value
        trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.decide", item.invoice_id,
                                             {"decision": str(decision_id), "outcome": outcome.outcome}, now))
        trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.status", item.invoice_id,
                                             {"from": RECEIVED, "to": outcome.status.value,
                                              "reason": f"decision {outcome.outcome}"}, now))
        trail.events.append(event_row(tenant_id, "invoice.decided",
                                      decided_data(outcome.outcome, outcome.status.value, result),
                                      invoice_id=item.invoice_id, invoice_number=item.number, at=now))
        if outcome.status.value == HELD:
            trail.events.append(_held(tenant_id, item, outcome.reason, now))
        if outcome.status.value in (QUEUED, HELD):
            checked.append((item, result, decision_id))

    candidates = [Candidate(item.invoice_id, item.seller_key, item.number,
                            buyer_key_of(item.model, item.customer_code), item.amount, item.issue_date,
                            duplicate_window(result)) for item, result, _ in checked]
    findings = observe_many(session, tenant_id, candidates, now=now)
    outbox: list[dict[str, Any]] = []
    workflows: list[uuid.UUID] = []
    settings_cache: dict[uuid.UUID, Any] = {}
    for (item, result, decision_id), finding in zip(checked, findings, strict=True):
        trail = rows[item.invoice_id]
        _lookalike_rows(tenant_id, actor, item, finding, status, trail, now)
        if finding.duplicate_of is not None:
            continue
        assert item.decision is not None and item.selection is not None  # noqa: S101 - only decided items are checked
        if status[item.invoice_id] == QUEUED:
            settings = _settings(session, tenant_id, item.selection, settings_cache)
            for index, route in enumerate(item.decision.routes, 1):
                if route.channel not in CHANNELS:  # the checker refuses unknown channels; never expected
                    continue
                entry_id = uuid.uuid4()
                outbox.append({
                    "id": entry_id, "tenant_id": tenant_id, "invoice_id": item.invoice_id, "decision_id": decision_id,
                    "channel": route.channel, "format": (route.format or None) and route.format[:16],
                    "destination": destination_document(route.model_dump(mode="json"), settings),
                    "delivery_key": f"{item.invoice_id}:{index}:{route.channel}",
                    "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
                    "created_at": now, "updated_at": now, "requeued_after": 0,
                })
                trail.audit.append(intake.audit_row(tenant_id, actor, "delivery.queue", item.invoice_id,
                                                     {"delivery": str(entry_id), "channel": route.channel}, now))
        elif item.decision.holds:
            trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.hold", item.invoice_id,
                                                 {"holds": [h.model_dump(mode="json") for h in item.decision.holds],
                                                  "routes_waiting": len(item.decision.routes)}, now))
        if _wants_workflows(result, item.model):
            workflows.append(item.invoice_id)

    intake.insert_decisions(session, decisions)
    intake.set_statuses(session, tenant_id, status, now)
    intake.insert_outbox(session, outbox)
    intake.append_audit(session, [row for trail in rows.values() for row in trail.audit])
    intake.append_events(session, [row for trail in rows.values() for row in trail.events])
    if workflows:
        from aiguillage.workflows.starting import start_workflows

        session.expire_all()  # the ORM reads the rows written above, not what it may have cached
        for invoice_id in workflows:
            start_workflows(session, tenant_id, invoice_id, actor)
    others = [item.invoice_id for item in items if item.invoice_id not in locked]
    status.update(intake.answered(session, tenant_id, others))
    return status


def _lookalike_rows(tenant_id: uuid.UUID, actor: Actor, item: Decided, finding: Finding,
                    status: dict[uuid.UUID, str], trail: _Rows, now: datetime) -> None:
    """What `check_duplicate` records: the hold of a probable duplicate, the warning of an unusual amount."""
    if finding.duplicate_of is not None:
        reason = f"probable duplicate of invoice {finding.duplicate_of} (same {finding.duplicate_by})"
        if status[item.invoice_id] != HELD:
            trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.status", item.invoice_id,
                                                 {"from": status[item.invoice_id], "to": HELD, "reason": reason}, now))
            status[item.invoice_id] = HELD
        trail.events.append(_held(tenant_id, item, reason, now))
        trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.duplicate", item.invoice_id,
                                             {"of": str(finding.duplicate_of), "by": finding.duplicate_by}, now))
    if finding.unusual:
        trail.audit.append(intake.audit_row(tenant_id, actor, "invoice.unusual_amount", item.invoice_id,
                                             {"severity": "warning", "amount_cents": finding.amount_cents,
                                              "usual_limit_cents": finding.limit_cents}, now))


def _held(tenant_id: uuid.UUID, item: Decided, reason: str | None, now: datetime) -> dict[str, Any]:
    return event_row(tenant_id, "invoice.held", held_data(reason), invoice_id=item.invoice_id,
                     invoice_number=item.number, at=now)


def _settings(session: Session, tenant_id: uuid.UUID, selection: Selection, cache: dict[uuid.UUID, Any]) -> Any:
    """The customer's channel settings, read once per batch and customer."""
    if selection.customer is None:
        return None
    key = selection.customer.id
    if key not in cache:
        cache[key] = settings_from_customer(Customers(session, tenant_id).get(key))
    return cache[key]


def duplicate_window(result: dict[str, Any]) -> int:
    """The decision's duplicate window (a malformed setting: the default, as `starting._policy` says)."""
    try:
        return policy_from_decision(result).duplicate_window_s
    except Invalid:
        return DEFAULTS.duplicate_window_s


def _wants_workflows(result: dict[str, Any], model: dict[str, Any]) -> bool:
    """Whether `start_workflows` may start or record anything: an approval hold, reminders, a bad setting."""
    if any(h.get("kind") == "approval" and h.get("role") for h in result.get("holds") or []):
        return True
    try:
        policy = policy_from_decision(result)
    except Invalid:
        return True  # start_workflows records the warning
    return bool(policy.remind_every_s and policy.remind_max and model.get("due_date"))
