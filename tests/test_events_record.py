"""Events are recorded where things happen, in the same transaction: submission and decision, the
workflows (approval, queries), payments, and the dispatch worker's attempts; every event matches the
schema the OpenAPI document publishes for its type."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from api_invoice_helpers import customer, example, published, ruleset_text, xml
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from worker_helpers import FakeClock, make_worker, queue_invoice

from aiguillage.adapters.base import ChannelSettings
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.api.openapi import build_document
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.events.feed import read_feed
from aiguillage.events.record import record
from aiguillage.events.sequencer import sequence_pending
from aiguillage.store.actor import WORKER
from aiguillage.store.base import utcnow
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.event_models import EventRecord
from aiguillage.store.repositories.claims import claim_due

pytest_plugins = ["aiguillage.api.testing", "dispatch_fixtures"]

APPROVAL_ROUTE = 'otherwise -> approval by "finance", then email to "ap@buyer.example"'


def feed(client, headers, after="0", **params):
    query = "&".join([f"after={after}"] + [f"{k}={v}" for k, v in params.items()])
    response = client.get(f"/v1/events?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_invoice_life_is_told_in_order_and_each_event_matches_its_published_schema(
        api_app, api_client, api_keys, conformance):
    admin = api_keys("admin")
    erp = api_keys("erp", admin.tenant_name)
    approver = api_keys("approver", admin.tenant_name)
    customer(api_client, admin.headers)
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", APPROVAL_ROUTE))
    submitted = api_client.post("/v1/invoices", data=example(conformance), headers=xml(erp.headers)).get_json()
    assert submitted["status"] == "held"
    invoice_id = submitted["id"]

    page = feed(api_client, erp.headers)
    assert [e["type"] for e in page["items"]] == ["invoice.decided", "invoice.held"]
    decided = page["items"][0]
    assert decided["invoice"]["id"] == invoice_id and decided["invoice"]["number"]
    assert decided["data"]["outcome"] == "held" and decided["data"]["holds"][0]["role"] == "finance"
    assert decided["data"]["channels"] == ["email"] and set(decided["data"]["counts"]) >= {"error", "warning"}

    def post(path, body, key):
        response = api_client.post(f"/v1/invoices/{invoice_id}/{path}", json=body, headers=key.headers)
        assert response.status_code == 200, response.get_json()

    post("approve", {}, approver)
    post("query", {"reason": "wrong PO"}, erp)
    post("answer", {"answer": "PO corrected"}, erp)
    post("resolve", {"resolution": "credit note", "credit_note": "CN-1"}, erp)
    post("payments", {"amount": "1200.50", "paid_on": "2026-12-02", "reference": "BANK-7"}, erp)

    rest = feed(api_client, erp.headers, after=page["next"])
    assert [e["type"] for e in rest["items"]] == [
        "approval.approved", "invoice.released", "query.opened", "query.answered", "query.resolved",
        "payment.received", "payment.allocated"]
    by_type = {e["type"]: e["data"] for e in rest["items"]}
    assert by_type["approval.approved"]["by"].startswith("key:aig_")
    assert by_type["query.opened"]["reason"] == "wrong PO" and by_type["query.answered"]["answer"] == "PO corrected"
    assert by_type["query.resolved"]["credit_note"] == "CN-1"
    assert by_type["payment.received"] == {"amount": "1200.50", "paid_on": "2026-12-02", "reference": "BANK-7"}
    assert by_type["payment.allocated"]["amount"] == "1200.50" and by_type["payment.allocated"]["reference"] == "BANK-7"
    sequences = [int(e["sequence"]) for e in page["items"] + rest["items"]]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert feed(api_client, erp.headers, after=rest["next"])["items"] == []
    post("payments", {"amount": "1200.50", "paid_on": "2026-12-02", "reference": "BANK-7"}, erp)  # the ERP resends
    assert feed(api_client, erp.headers, after=rest["next"])["items"] == []  # the same payment: nothing new to tell

    # Each item validates against the OpenAPI document's schema, chosen by its type.
    with api_app.test_request_context():
        document = build_document(api_app)
    schemas = document["components"]["schemas"]
    assert {"InvoiceHeldEvent", "DeliveryDeadEvent", "PaymentAllocatedEvent", "LifecycleStatusEvent"} <= set(schemas)
    validator = Draft202012Validator({"$ref": "#/components/schemas/EventPage", "components": {"schemas": schemas}})
    validator.validate({"items": page["items"] + rest["items"], "next": rest["next"]})
    webhook = document["webhooks"]["event"]["post"]
    assert {p["name"] for p in webhook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert len(webhook["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 15
    broken = dict(rest["items"][-1], data={"amount": 12})
    assert list(validator.iter_errors({"items": [broken], "next": "1"})), "a wrong payload must not validate"


def test_an_unrouted_hold_and_a_rejection_are_told(api_client, api_keys, conformance):
    alone = api_keys("admin")  # no customer, no ruleset of its own: the standard rules route nowhere
    held = api_client.post("/v1/invoices", data=example(conformance), headers=xml(alone.headers)).get_json()
    assert held["status"] == "held"
    items = feed(api_client, alone.headers)["items"]
    assert [(e["type"], e["invoice"]["id"]) for e in items] == [("invoice.decided", held["id"]),
                                                               ("invoice.held", held["id"])]
    assert items[0]["data"]["outcome"] == "unrouted" and items[1]["data"]["reason"] == "the ruleset chose no route"

    admin = api_keys("admin")
    approver = api_keys("approver", admin.tenant_name)
    customer(api_client, admin.headers)
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", APPROVAL_ROUTE))
    second = api_client.post("/v1/invoices", data=example(conformance), headers=xml(admin.headers)).get_json()
    response = api_client.post(f"/v1/invoices/{second['id']}/reject", json={"reason": "not ordered"},
                               headers=approver.headers)
    assert response.status_code == 200, response.get_json()
    last = feed(api_client, admin.headers, types="approval.rejected,approval.approved")["items"]
    assert [(e["invoice"]["id"], e["data"]["reason"]) for e in last] == [(second["id"], "not ordered")]


def test_an_event_is_kept_only_if_its_transaction_commits(store_engine, make_tenant):
    tenant = make_tenant(store_engine)
    sessions = session_factory(store_engine)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        record(session, tenant, "payment.received", {"amount": "1.00"})
        raise RuntimeError("the change failed")
    with transaction(sessions) as session:
        record(session, tenant, "payment.received", {"amount": "2.00"})
    with transaction(sessions) as session:
        sequence_pending(session, utcnow())
    with transaction(sessions) as session:
        page = read_feed(session, tenant, after=0)
        assert [e.payload["amount"] for e in page.events] == ["2.00"]
        with pytest.raises(Exception, match="amount"):
            record(session, tenant, "payment.received", {"amount": 3})  # not the schema's text


def test_every_attempt_outcome_becomes_a_delivery_event(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "peppol",
                           settings=ChannelSettings(peppol_participant_id="0009:52198765400027"))
    failing = queue_invoice(dispatch_db, tenant, "peppol",
                            settings=ChannelSettings(peppol_participant_id="0009:52198765400027"))

    def answer(request):
        return Answer(200, b'{"messageId": "ap-1"}') if queued.delivery_key.encode() in request.body \
            else Answer(503, b"busy")

    with LoopbackHttpServer(responder=answer) as access_point:
        config = {"access_point_url": f"{access_point.url}/outbound", "timeout": 5}
        worker = make_worker(dispatch_db, clock, configs={"peppol": config})
        for _ in range(3):  # the policy allows 3 attempts
            worker.run()
            clock.advance(400)
    sessions = session_factory(dispatch_db)
    with transaction(sessions) as session:
        sequence_pending(session, utcnow())
    with transaction(sessions) as session:
        events = read_feed(session, tenant, after=0, types=[t for t in (
            "delivery.sent", "delivery.delivered", "delivery.failed", "delivery.dead")]).events
        assert session.scalar(select(func.count()).select_from(EventRecord).where(EventRecord.seq.is_(None))) == 0
    good = [(e.type, e.payload.get("remote_id")) for e in events if e.invoice_id == queued.invoice_id]
    bad = [(e.type, e.payload["attempt"]) for e in events if e.invoice_id == failing.invoice_id]
    assert good == [("delivery.delivered", "ap-1")]
    assert bad == [("delivery.failed", 1), ("delivery.failed", 2), ("delivery.dead", 3)]
    failed = next(e for e in events if e.type == "delivery.failed")
    assert "503" in failed.payload["error"] and failed.payload["next_attempt_at"]
    assert failed.payload["delivery_id"] == str(failing.entry_id) and failed.invoice_number == failing.number
    assert uuid.UUID(str(failed.id))


def test_a_delivery_dead_lettered_after_abandoned_attempts_is_told(dispatch_db, make_tenant):
    """Workers that die mid-send never report; the worker that finds the last lease expired tells the ERP."""
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant)
    sessions = session_factory(dispatch_db)
    for _ in range(2):  # two workers claim it and die without a report
        with transaction(sessions) as session:
            assert len(claim_due(session, "dying", now=clock(), lease=timedelta(seconds=60), limit=10,
                                 max_attempts=2, actor=WORKER)) == 1
        clock.advance(61)
    policy = RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(seconds=300), max_attempts=2)
    worker = make_worker(dispatch_db, clock, policy=policy)
    worker.run()
    with transaction(sessions) as session:
        sequence_pending(session, utcnow())
    with transaction(sessions) as session:
        told = [e for e in read_feed(session, tenant, after=0, types=["delivery.dead"]).events
                if e.invoice_id == queued.invoice_id]
    assert [(e.type, e.payload["attempt"], e.payload["delivery_id"]) for e in told] == [
        ("delivery.dead", 2, str(queued.entry_id))]
    assert "abandoned" in told[0].payload["error"]
