"""Approval, query, reminder and delivery workflows with their state in the store, on both backends.

The clock is a parameter everywhere, so escalations, SLAs and reminders
are tested by moving "now", not by waiting.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from workflow_helpers import APPROVER, ERP, T0, decision_result, stored_invoice

from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.workflow_models import WorkflowTimer
from aiguillage.workflows import starting
from aiguillage.workflows.runtime import EventNotAllowed, live_sessions
from aiguillage.workflows.sessions import Workflows, invoice_sid
from aiguillage.workflows.timers import fire_due_timers

pytest_plugins = ["aiguillage.store.testing"]

ESCALATING = decision_result(params={"escalate_after": "48h", "escalate_to": "cfo"})
REMINDING = decision_result(approval=None, params={"remind_every": "7d", "remind_max": 2})


def _held(store_tx, tenant_id, number: str, result=ESCALATING):  # noqa: ANN001, ANN202
    with store_tx() as session:
        invoice_id = stored_invoice(session, tenant_id, number, result=result)
        starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
    return invoice_id


def _outbox(session, tenant_id, invoice_id) -> list[OutboxEntry]:  # noqa: ANN001
    return list(session.scalars(select(OutboxEntry).where(OutboxEntry.tenant_id == tenant_id,
                                                          OutboxEntry.invoice_id == invoice_id)))


def test_approval_hold_starts_workflow_and_approval_queues_the_routes(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "A-1")
    with store_tx() as session:
        row = Workflows(session, tenant_id).for_invoice("approval", invoice_id)
        assert (row.status, row.role) == ("held", "finance")
        assert _outbox(session, tenant_id, invoice_id) == []
    with store_tx() as session:
        posted = starting.approve(session, tenant_id, invoice_id, APPROVER, now=T0 + timedelta(hours=1))
        assert posted.row.status == "released"
        assert posted.row.state["state"]["decided_by"] == APPROVER.name
    with store_tx() as session:
        assert [e.channel for e in _outbox(session, tenant_id, invoice_id)] == ["email"]
        assert Invoices(session, tenant_id).get(invoice_id).status == "queued"
        timers = list(session.scalars(select(WorkflowTimer).where(WorkflowTimer.tenant_id == tenant_id)))
        assert [(t.name, t.outcome) for t in timers] == [("escalate", "cancelled")]
    assert live_sessions("aig_approval", [invoice_sid(invoice_id)]) == 0


def test_reject_and_event_not_allowed_changes_nothing(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "A-2")
    with store_tx() as session:
        starting.reject(session, tenant_id, invoice_id, APPROVER, "wrong price", now=T0)
    with store_tx() as session:
        row = Workflows(session, tenant_id).for_invoice("approval", invoice_id)
        version = row.version
        assert Invoices(session, tenant_id).get(invoice_id).status == "rejected"
        with pytest.raises(EventNotAllowed, match="'approve' is not allowed for the approval workflow in state 'rejected'"):
            starting.approve(session, tenant_id, invoice_id, APPROVER, now=T0)
    with store_tx() as session:
        row = Workflows(session, tenant_id).for_invoice("approval", invoice_id)
        assert (row.status, row.version) == ("rejected", version)
        assert _outbox(session, tenant_id, invoice_id) == []


def test_escalation_fires_from_the_stored_timer(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "A-3")
    with store_tx() as session:
        fire_due_timers(session, T0 + timedelta(hours=47))
        assert Workflows(session, tenant_id).for_invoice("approval", invoice_id).role == "finance"
    with store_tx() as session:
        fire_due_timers(session, T0 + timedelta(hours=49))
    with store_tx() as session:
        row = Workflows(session, tenant_id).for_invoice("approval", invoice_id)
        assert (row.status, row.role, row.state["state"]["escalations"]) == ("held", "cfo", 1)
        actions = [e.action for e in AuditLog(session, tenant_id).entries(target_id=invoice_id)]
        assert "approval.escalate" in actions
        queue = Workflows(session, tenant_id).listing("approval", status="held", role="cfo")
        assert invoice_id in [r.invoice_id for r in queue]
    with store_tx() as session:  # the cfo approves: released
        assert starting.approve(session, tenant_id, invoice_id, APPROVER, now=T0 + timedelta(hours=50)).row.status == "released"


def test_reminders_repeat_per_policy_and_stop(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "R-1", REMINDING)
    due = T0.replace(day=21)  # the sample is due 2026-12-20
    with store_tx() as session:
        assert fire_due_timers(session, due - timedelta(days=2)).fired == 0
    with store_tx() as session:
        assert fire_due_timers(session, due).fired == 1
    with store_tx() as session:
        assert fire_due_timers(session, due + timedelta(days=7, hours=1)).fired == 1
        row = Workflows(session, tenant_id).for_invoice("reminder", invoice_id)
        assert (row.status, row.state["state"]["sent"]) == ("exhausted", 2)
        keys = sorted(e.delivery_key.split(":", 1)[1] for e in _outbox(session, tenant_id, invoice_id))
        assert keys == ["reminder:1:email", "reminder:2:email"]
    with store_tx() as session:
        assert fire_due_timers(session, due + timedelta(days=30)).fired == 0
        assert starting.record_payment(session, tenant_id, invoice_id, ERP).row.status == "paid"


def test_open_query_pauses_reminders_and_resolving_resumes_them(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "Q-1", REMINDING)
    customer = ERP
    with store_tx() as session:
        posted = starting.raise_query(session, tenant_id, invoice_id, customer, "price differs from the order", now=T0)
        assert posted.row.status == "open"
        assert Workflows(session, tenant_id).for_invoice("reminder", invoice_id).status == "paused"
    with store_tx() as session:  # the SLA (3 days by default) passes without an answer
        fire_due_timers(session, T0 + timedelta(days=4))
        assert Workflows(session, tenant_id).for_invoice("query", invoice_id).state["state"]["breached"] is True
    with store_tx() as session:
        assert starting.answer_query(session, tenant_id, invoice_id, ERP, "see the order").row.status == "answered"
        with pytest.raises(EventNotAllowed):
            starting.answer_query(session, tenant_id, invoice_id, ERP, "again")
    with store_tx() as session:
        posted = starting.resolve_query(session, tenant_id, invoice_id, ERP, "credited", "CN-7", now=T0 + timedelta(days=5))
        assert (posted.row.status, posted.row.state["state"]["credit_note"]) == ("resolved", "CN-7")
        assert Workflows(session, tenant_id).for_invoice("reminder", invoice_id).status == "waiting"
    with store_tx() as session:  # reminders resume one period after the query closed
        assert fire_due_timers(session, T0 + timedelta(days=12, hours=1)).fired == 1
        assert Workflows(session, tenant_id).for_invoice("reminder", invoice_id).state["state"]["sent"] == 1


def test_delivery_workflow_follows_the_worker(store_tx, tenant_id):
    invoice_id = _held(store_tx, tenant_id, "D-1", decision_result(approval=None))
    steps = [("queue", False, "queued"), ("failed", False, "retrying"), ("failed", False, "retrying"),
             ("sent", False, "sent"), ("failed", True, "dead"), ("requeue", False, "queued"),
             ("delivered", False, "delivered")]
    for action, final, expected in steps:
        with store_tx() as session:
            posted = starting.delivery_event(session, tenant_id, invoice_id, action, ERP, final=final, reason="x")
            assert posted.row.status == expected, action
    with store_tx() as session:
        with pytest.raises(EventNotAllowed):
            starting.delivery_event(session, tenant_id, invoice_id, "failed", ERP)
        assert session.scalar(select(func.count()).select_from(WorkflowTimer)
                              .where(WorkflowTimer.tenant_id == tenant_id)) == 0


def test_a_save_from_a_stale_read_is_a_conflict(store_tx, tenant_id, db_backend):
    if db_backend == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): two open write transactions cannot interleave")
    from aiguillage.workflows.events import event
    from aiguillage.workflows.sessions import WorkflowConflict

    invoice_id = _held(store_tx, tenant_id, "V-1")
    with store_tx() as first:
        stale = Workflows(first, tenant_id).for_invoice("approval", invoice_id)
        with store_tx() as second:
            starting.reject(second, tenant_id, invoice_id, APPROVER, "no", now=T0)
        with pytest.raises(WorkflowConflict, match="changed meanwhile"):
            Workflows(first, tenant_id).post("approval", invoice_sid(invoice_id), event("approve", actor="x"),
                                             APPROVER, row_known=stale, now=T0)
        first.rollback()
    with store_tx() as session:
        assert Workflows(session, tenant_id).for_invoice("approval", invoice_id).status == "rejected"
