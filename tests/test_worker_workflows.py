"""The dispatch worker drives the workflows: each attempt moves the invoice's delivery statechart,
and the worker loop fires due workflow timers (an escalation here) on its own clock."""

from __future__ import annotations

from datetime import timedelta

from worker_helpers import ERP, FakeClock, make_worker, queue_invoice
from workflow_helpers import decision_result, stored_invoice

from aiguillage.adapters.base import (
    Adapter,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    RenderedDocument,
    TemporaryDeliveryError,
)
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.workflows import starting
from aiguillage.workflows.sessions import Workflows

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]


class _Scripted(Adapter):
    """Sends succeed or fail as scripted: "ok", "temporary", "permanent"."""

    channel = "email"

    def __init__(self, script: list[str]) -> None:
        super().__init__()
        self.script = list(script)

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        return [RenderedDocument(filename="x.txt", media_type="text/plain", content=b"x", kind="json")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        step = self.script.pop(0) if self.script else "ok"
        if step == "temporary":
            raise TemporaryDeliveryError("mailbox busy")
        if step == "permanent":
            raise PermanentDeliveryError("no such mailbox")
        return self.result(delivery, f"<{delivery.key_digest()}@scripted>", DeliveryStatus.DELIVERED)


def _pool(script: list[str]) -> AdapterPool:
    adapter = _Scripted(script)
    return AdapterPool(factory=lambda channel, config: adapter)


def _delivery_state(engine, tenant, invoice_id) -> tuple[str, dict]:  # noqa: ANN001
    with transaction(session_factory(engine)) as session:
        row = Workflows(session, tenant).for_invoice("delivery", invoice_id)
        return row.status, dict(row.state["state"])


def test_a_worker_run_moves_the_delivery_workflow_to_delivered(dispatch_db, make_tenant):
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "email")
    make_worker(dispatch_db, pool=_pool(["ok"])).run()
    status, _ = _delivery_state(dispatch_db, tenant, queued.invoice_id)
    assert status == "delivered"


def test_failures_move_the_delivery_workflow_to_retrying_then_dead(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "email")
    policy = RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(seconds=300), max_attempts=2)
    worker = make_worker(dispatch_db, clock, pool=_pool(["temporary", "temporary"]), policy=policy)
    worker.run()
    status, state = _delivery_state(dispatch_db, tenant, queued.invoice_id)
    assert (status, state["failures"]) == ("retrying", 1)
    assert "mailbox busy" in state["last_error"]
    clock.advance(3600)
    worker.run()
    status, state = _delivery_state(dispatch_db, tenant, queued.invoice_id)
    assert (status, state["failures"]) == ("dead", 2)


def test_a_permanent_error_makes_the_delivery_workflow_dead_at_once(dispatch_db, make_tenant):
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "email")
    make_worker(dispatch_db, pool=_pool(["permanent"])).run()
    status, _ = _delivery_state(dispatch_db, tenant, queued.invoice_id)
    assert status == "dead"


def test_the_worker_loop_fires_a_due_escalation_timer(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    result = decision_result(params={"escalate_after": "48h", "escalate_to": "cfo"})
    with transaction(session_factory(dispatch_db)) as session:
        invoice_id = stored_invoice(session, tenant, "ESC-1", result=result)
        starting.start_workflows(session, tenant, invoice_id, ERP, now=clock.now)
    worker = make_worker(dispatch_db, clock, pool=_pool([]))
    worker.run()  # not due yet
    with transaction(session_factory(dispatch_db)) as session:
        assert Workflows(session, tenant).for_invoice("approval", invoice_id).role == "finance"
    clock.advance(48 * 3600 + 1)
    worker.run()
    with transaction(session_factory(dispatch_db)) as session:
        row = Workflows(session, tenant).for_invoice("approval", invoice_id)
        assert (row.status, row.role, row.state["state"]["escalations"]) == ("held", "cfo", 1)
        actions = [e.action for e in AuditLog(session, tenant).entries(target_type="invoice", target_id=invoice_id)]
        assert "approval.escalate" in actions


def test_a_worker_can_leave_the_timers_to_another_process(dispatch_db, make_tenant):
    from aiguillage.dispatch.worker import WorkerSettings

    tenant, clock = make_tenant(dispatch_db), FakeClock()
    result = decision_result(params={"escalate_after": "1h", "escalate_to": "cfo"})
    with transaction(session_factory(dispatch_db)) as session:
        invoice_id = stored_invoice(session, tenant, "ESC-2", result=result)
        starting.start_workflows(session, tenant, invoice_id, ERP, now=clock.now)
    worker = make_worker(dispatch_db, clock, pool=_pool([]))
    worker.settings = WorkerSettings(once=True, timers=False, name="no-timers")
    clock.advance(7200)
    worker.run()
    with transaction(session_factory(dispatch_db)) as session:
        assert Workflows(session, tenant).for_invoice("approval", invoice_id).role == "finance"
