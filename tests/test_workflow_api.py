"""The workflow endpoints: role checks (a wrong role gets 403), tenant isolation (404), audit, 409 for an
action the state does not take, the approval queue and the queries; end to end from a ruleset's
`approval by "finance"` with escalation parameters."""

from __future__ import annotations

import uuid

import pytest
from api_invoice_helpers import customer, example, published, ruleset_text, xml
from workflow_helpers import ERP, T0, decision_result, stored_invoice

from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.workflows import starting

pytest_plugins = ["aiguillage.api.testing"]

ROUTE = ('otherwise -> approval by "finance", then email to "ap@buyer.example" '
         'with (escalate_after = "48h", escalate_to = "cfo")')


def _held(sqlite_url: str, tenant_id: uuid.UUID, number: str, customer_code: str = "C1") -> uuid.UUID:
    engine = make_engine(sqlite_url)
    try:
        with transaction(session_factory(engine)) as session:
            invoice_id = stored_invoice(session, tenant_id, number, customer=customer_code,
                                        result=decision_result(params={"escalate_after": "2d", "escalate_to": "cfo"}))
            starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
        return invoice_id
    finally:
        engine.dispose()


@pytest.fixture
def approver(api_keys):
    return api_keys("approver")


def test_ruleset_approval_hold_starts_the_workflow_and_approving_queues_it(api_client, api_keys, conformance):
    admin = api_keys("admin")
    approver = api_keys("approver", admin.tenant_name)
    customer(api_client, admin.headers)
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", ROUTE))
    body = api_client.post("/v1/invoices", data=example(conformance), headers=xml(admin.headers)).get_json()
    assert body["status"] == "held"

    queue = api_client.get("/v1/approvals?role=finance", headers=approver.headers).get_json()["items"]
    [waiting] = [item for item in queue if item["invoice_id"] == body["id"]]
    assert waiting["state"]["escalate_to"] == "cfo" and waiting["state"]["escalate_after_s"] == 48 * 3600

    response = api_client.post(f"/v1/invoices/{body['id']}/approve", json={"comment": "ok"}, headers=approver.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "released"
    detail = api_client.get(f"/v1/invoices/{body['id']}", headers=admin.headers).get_json()
    assert detail["status"] == "queued" and [d["channel"] for d in detail["deliveries"]] == ["email"]
    approval = next(e for e in detail["audit"] if e["action"] == "workflow.approve")
    assert approval["actor"].startswith("key:") and approval["detail"]["comment"] == "ok"

    again = api_client.post(f"/v1/invoices/{body['id']}/approve", json={}, headers=approver.headers)
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("event-not-allowed") and again.get_json()["state"] == "released"


@pytest.mark.parametrize(("path", "role", "body"), [
    ("approve", "erp", {}), ("approve", "analyst", {}), ("approve", "customer", {}),
    ("reject", "erp", {"reason": "no"}), ("query", "approver", {"reason": "why"}),
    ("query", "analyst", {"reason": "why"}), ("answer", "customer", {"answer": "a"}),
    ("answer", "approver", {"answer": "a"}), ("resolve", "customer", {"resolution": "r"}),
])
def test_a_wrong_role_gets_403(api_client, api_keys, sqlite_url, path, role, body):
    key = api_keys(role)
    invoice_id = _held(sqlite_url, key.tenant_id, f"R-{uuid.uuid4().hex[:8]}")
    response = api_client.post(f"/v1/invoices/{invoice_id}/{path}", json=body, headers=key.headers)
    assert response.status_code == 403, response.get_json()


def test_another_tenants_invoice_is_404(api_client, api_keys, sqlite_url, approver):
    stranger = api_keys("approver")
    invoice_id = _held(sqlite_url, approver.tenant_id, "T-1")
    for path, body in (("approve", {}), ("reject", {"reason": "x"})):
        assert api_client.post(f"/v1/invoices/{invoice_id}/{path}", json=body, headers=stranger.headers).status_code == 404
    assert api_client.get("/v1/approvals", headers=stranger.headers).get_json()["items"] == []
    assert api_client.post(f"/v1/invoices/{uuid.uuid4()}/approve", json={}, headers=approver.headers).status_code == 404


def test_reject_is_final(api_client, sqlite_url, approver):
    invoice_id = _held(sqlite_url, approver.tenant_id, "J-1")
    response = api_client.post(f"/v1/invoices/{invoice_id}/reject", json={"reason": "wrong price"}, headers=approver.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    assert api_client.post(f"/v1/invoices/{invoice_id}/reject", json={}, headers=approver.headers).status_code == 400
    assert api_client.post(f"/v1/invoices/{invoice_id}/approve", json={}, headers=approver.headers).status_code == 409


def test_query_raised_by_the_customer_answered_and_resolved(api_client, api_keys, sqlite_url):
    buyer = api_keys("customer")  # a customer key of customer C1
    analyst = api_keys("analyst", buyer.tenant_name)
    own = _held(sqlite_url, buyer.tenant_id, "Q-1", customer_code="C1")
    other = _held(sqlite_url, buyer.tenant_id, "Q-2", customer_code="C2")

    assert api_client.post(f"/v1/invoices/{other}/query", json={"reason": "?"}, headers=buyer.headers).status_code == 404
    response = api_client.post(f"/v1/invoices/{own}/query", json={"reason": "wrong quantity"}, headers=buyer.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "open"
    [open_query] = api_client.get("/v1/queries", headers=analyst.headers).get_json()["items"]
    assert open_query["invoice_id"] == str(own) and open_query["state"]["reason"] == "wrong quantity"

    assert api_client.post(f"/v1/invoices/{own}/resolve", json={"resolution": "credited", "credit_note": "CN-1"},
                           headers=analyst.headers).get_json()["status"] == "resolved"
    resolved = api_client.get("/v1/queries?status=resolved", headers=analyst.headers).get_json()["items"]
    assert resolved[0]["state"]["credit_note"] == "CN-1"
    answer = api_client.post(f"/v1/invoices/{own}/answer", json={"answer": "late"}, headers=analyst.headers)
    assert answer.status_code == 409
    assert api_client.post(f"/v1/invoices/{other}/answer", json={"answer": "x"}, headers=analyst.headers).status_code == 404
