"""5,000 invoices waiting for approval at once: far past durable_rules' 1,024 live sessions per ruleset.

Every session lives in the store between events; the engine holds one only
while an event is posted (`delete_state` after each), so the number of
invoices waiting is bounded by the database, not by the engine. Runs on
SQLite and PostgreSQL. The invoices themselves are inserted in bulk (the
workflows are under test, not submission); every workflow event goes
through the engine.
"""

from __future__ import annotations

from sqlalchemy import func, select
from workflow_helpers import APPROVER, ERP, T0, bulk_invoices, decision_result

from aiguillage.store.models import OutboxEntry
from aiguillage.store.workflow_models import WorkflowState, WorkflowTimer
from aiguillage.workflows import starting
from aiguillage.workflows.runtime import live_sessions
from aiguillage.workflows.sessions import Workflows, invoice_sid

pytest_plugins = ["aiguillage.store.testing"]

COUNT = 5_000
BATCH = 500
RESULT = decision_result(params={"escalate_after": "48h", "escalate_to": "cfo"})


def test_five_thousand_invoices_wait_for_approval_at_once(store_tx, tenant_id):
    with store_tx() as session:
        ids = bulk_invoices(session, tenant_id, "S", COUNT, RESULT)
    for offset in range(0, COUNT, BATCH):
        with store_tx() as session:
            for invoice_id in ids[offset:offset + BATCH]:
                starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
    with store_tx() as session:
        waiting = session.scalar(select(func.count()).select_from(WorkflowState).where(
            WorkflowState.tenant_id == tenant_id, WorkflowState.kind == "approval", WorkflowState.status == "held"))
        assert waiting == COUNT
        timers = session.scalar(select(func.count()).select_from(WorkflowTimer).where(
            WorkflowTimer.tenant_id == tenant_id, WorkflowTimer.fired.is_(False)))
        assert timers == COUNT
        assert len(Workflows(session, tenant_id).listing("approval", role="finance", limit=500)) == 500
    assert live_sessions("aig_approval", [invoice_sid(i) for i in ids[:2000]]) == 0

    chosen = ids[::10]  # 500 decisions spread over all of them: any waiting session resumes from the store
    with store_tx() as session:
        for invoice_id in chosen:
            assert starting.approve(session, tenant_id, invoice_id, APPROVER, now=T0).row.status == "released"
    with store_tx() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.tenant_id == tenant_id))
        assert queued == len(chosen)
        still = session.scalar(select(func.count()).select_from(WorkflowState).where(
            WorkflowState.tenant_id == tenant_id, WorkflowState.kind == "approval", WorkflowState.status == "held"))
        assert still == COUNT - len(chosen)
    assert live_sessions("aig_approval", [invoice_sid(i) for i in ids]) == 0
