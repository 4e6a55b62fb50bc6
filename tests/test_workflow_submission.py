"""Workflows wired into the API: submission holds a probable duplicate instead of queueing it, and
`POST /v1/invoices/{id}/payments` records a payment, which stops the invoice's reminders."""

from __future__ import annotations

import uuid
from datetime import timedelta

from api_invoice_helpers import customer, example, published, ruleset_text, xml
from sqlalchemy import select
from workflow_helpers import ERP, T0, decision_result, stored_invoice

from aiguillage.model.syntaxes import read_invoice, write_invoice
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.workflow_models import WorkflowTimer
from aiguillage.workflows import starting
from aiguillage.workflows.timers import fire_due_timers

pytest_plugins = ["aiguillage.api.testing"]


def _second_copy(conformance, number: str) -> bytes:  # noqa: ANN001
    """Example 2 under another number: the same buyer, amount and issue date."""
    invoice = read_invoice(example(conformance))
    invoice.number = number
    return write_invoice(invoice, "ubl")


def test_same_buyer_amount_and_date_twice_holds_the_second_as_a_duplicate(api_client, api_keys, conformance):
    admin = api_keys("admin")
    customer(api_client, admin.headers)
    published(api_client, admin.headers, "buyer", ruleset_text("buyer"))
    first = api_client.post("/v1/invoices", data=example(conformance), headers=xml(admin.headers)).get_json()
    assert first["status"] == "queued"

    second = api_client.post("/v1/invoices", data=_second_copy(conformance, "TOSL108-BIS"),
                             headers=xml(admin.headers)).get_json()
    assert second["status"] == "held" and second["id"] != first["id"]
    detail = api_client.get(f"/v1/invoices/{second['id']}", headers=admin.headers).get_json()
    assert detail["status"] == "held" and detail["deliveries"] == []  # nothing queued
    [duplicate] = [e for e in detail["audit"] if e["action"] == "invoice.duplicate"]
    assert duplicate["detail"]["of"] == first["id"] and duplicate["detail"]["by"] == "buyer, amount and date"
    [status] = [e for e in detail["audit"] if e["action"] == "invoice.status" and e["detail"]["to"] == "held"]
    assert status["detail"]["reason"].startswith(f"probable duplicate of invoice {first['id']}")

    # The first one is untouched and another buyer's tenant is not affected.
    assert api_client.get(f"/v1/invoices/{first['id']}", headers=admin.headers).get_json()["status"] == "queued"
    other = api_keys("admin")
    customer(api_client, other.headers)
    published(api_client, other.headers, "buyer", ruleset_text("buyer"))
    assert api_client.post("/v1/invoices", data=_second_copy(conformance, "TOSL108-BIS"),
                           headers=xml(other.headers)).get_json()["status"] == "queued"


def _reminded(sqlite_url: str, tenant_id, number: str):  # noqa: ANN001, ANN202
    """A stored, queued invoice whose reminders started (due date 2026-12-20, every 7 days, at most 3)."""
    engine = make_engine(sqlite_url)
    try:
        with transaction(session_factory(engine)) as session:
            invoice_id = stored_invoice(session, tenant_id, number, result=decision_result(
                approval=None, params={"remind_every": "7d", "remind_max": 3}))
            assert starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
        return invoice_id
    finally:
        engine.dispose()


def test_a_recorded_payment_stops_the_reminders(api_client, api_keys, sqlite_url):
    erp = api_keys("erp")
    invoice_id = _reminded(sqlite_url, erp.tenant_id, f"P-{uuid.uuid4().hex[:8]}")
    response = api_client.post(f"/v1/invoices/{invoice_id}/payments",
                               json={"paid_on": "2026-12-05", "amount": "1200.00", "reference": "BANK-77"},
                               headers=erp.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reminders"]["status"] == "paid"

    engine = make_engine(sqlite_url)
    try:
        with transaction(session_factory(engine)) as session:
            timers = list(session.scalars(select(WorkflowTimer).where(WorkflowTimer.tenant_id == erp.tenant_id)))
            assert [(t.name, t.outcome) for t in timers] == [("remind", "cancelled")]
            fire_due_timers(session, T0 + timedelta(days=60))  # long past the due date: nothing is sent
            actions = [e.action for e in AuditLog(session, erp.tenant_id).entries(target_type="invoice",
                                                                                   target_id=invoice_id)]
            assert "invoice.remind" not in actions and "workflow.payment" in actions
            [payment] = [e for e in AuditLog(session, erp.tenant_id).entries(target_type="invoice",
                                                                            target_id=invoice_id)
                         if e.action == "workflow.payment"]
            assert payment.actor.startswith("key:") and payment.detail["reference"] == "BANK-77"
    finally:
        engine.dispose()

    again = api_client.post(f"/v1/invoices/{invoice_id}/payments", json={}, headers=erp.headers)
    assert again.status_code == 409 and again.get_json()["state"] == "paid"


def test_payments_need_erp_or_admin_and_the_tenants_own_invoice(api_client, api_keys, sqlite_url):
    admin = api_keys("admin")
    invoice_id = _reminded(sqlite_url, admin.tenant_id, f"P-{uuid.uuid4().hex[:8]}")
    for role in ("approver", "analyst", "customer"):
        key = api_keys(role, admin.tenant_name)
        assert api_client.post(f"/v1/invoices/{invoice_id}/payments", json={}, headers=key.headers).status_code == 403
    stranger = api_keys("erp")
    assert api_client.post(f"/v1/invoices/{invoice_id}/payments", json={},
                           headers=stranger.headers).status_code == 404
    response = api_client.post(f"/v1/invoices/{invoice_id}/payments", json={}, headers=admin.headers)
    assert response.status_code == 200 and response.get_json()["reminders"]["status"] == "paid"


def test_an_approval_written_with_its_settings_escalates_as_written(api_client, api_keys, conformance):
    admin = api_keys("admin")
    approver = api_keys("approver", admin.tenant_name)
    customer(api_client, admin.headers)
    route = ('otherwise -> approval by "finance" with (escalate_after = "2d", escalate_to = "cfo"), '
             'then email to "ap@buyer.example"')
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", route))
    body = api_client.post("/v1/invoices", data=example(conformance), headers=xml(admin.headers)).get_json()
    assert body["status"] == "held"
    queue = api_client.get("/v1/approvals?role=finance", headers=approver.headers).get_json()["items"]
    [waiting] = [item for item in queue if item["invoice_id"] == body["id"]]
    assert waiting["state"]["escalate_to"] == "cfo" and waiting["state"]["escalate_after_s"] == 2 * 86400
