"""/v1/deliveries: dead letters listed, one delivery with its attempts, retry of a dead letter
(roles, 409 unless dead, tenant-scoped 404, audit), and the retried delivery then goes out
through a real worker and SMTP server; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from worker_helpers import FakeClock, make_worker, queue_invoice, smtp_config, url_of

from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer
from aiguillage.api import create_app
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.store.actor import WORKER
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.claims import Report, claim_due, finish
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.store.vocabulary import AttemptOutcome, OutboxStatus

pytest_plugins = ["aiguillage.api.testing", "dispatch_fixtures"]


@pytest.fixture
def app_on(dispatch_db):
    """The API on the test's own database."""
    application = create_app({"DATABASE_URL": url_of(dispatch_db), "TESTING": True})
    yield application
    application.extensions["aiguillage.database"].engine.dispose()


def test_a_dead_letter_is_listed_retried_through_the_api_and_then_delivered(dispatch_db, app_on, key_issuer,
                                                                            tmp_path):
    url = url_of(dispatch_db)
    erp = key_issuer(url, "erp")
    clock = FakeClock()
    queued = queue_invoice(dispatch_db, erp.tenant_id, "email")
    other = queue_invoice(dispatch_db, erp.tenant_id, "edi")  # stays pending: no worker for EDI here
    policy = RetryPolicy(base=timedelta(seconds=5), max_delay=timedelta(seconds=5), max_attempts=2)
    client = app_on.test_client()
    with LoopbackSmtpServer(tmp_path, reject_rcpt=(452, "mailbox full"), failures=2) as server:
        worker = make_worker(dispatch_db, clock, configs={"email": smtp_config(server)}, policy=policy)
        # Only the e-mail is due for this worker: push the EDI delivery out of its way.
        with transaction(session_factory(dispatch_db)) as session:
            Outbox(session, erp.tenant_id).get(other.entry_id).next_attempt_at = clock.now + timedelta(days=1)
        worker.run()
        clock.advance(5)
        worker.run()

        dead = client.get("/v1/deliveries?status=dead", headers=erp.headers)
        assert dead.status_code == 200, dead.json
        [item] = dead.json["items"]
        assert (item["id"], item["status"], item["attempt_count"], item["channel"]) == (
            str(queued.entry_id), "dead", 2, "email")
        assert item["last_error"].startswith("gave up after 2 attempt(s)") and "452 mailbox full" in item["last_error"]
        assert dead.json["next"] is None

        answer = client.post(f"/v1/deliveries/{queued.entry_id}/retry", headers=erp.headers)
        assert answer.status_code == 202, answer.json
        assert (answer.json["status"], answer.json["attempt_count"]) == ("pending", 2)
        assert client.post(f"/v1/deliveries/{queued.entry_id}/retry", headers=erp.headers).status_code == 409

        worker.run()  # a fresh round: the relay accepts it now
        [mail] = server.received

    one = client.get(f"/v1/deliveries/{queued.entry_id}", headers=erp.headers)
    assert one.status_code == 200
    assert one.json["status"] == "delivered" and one.json["last_error"] is None
    assert [(a["number"], a["outcome"]) for a in one.json["attempts"]] == [(1, "failed"), (2, "failed"), (3, "ok")]
    assert one.json["attempts"][2]["remote_id"] == mail.message["Message-ID"]
    assert all(a["worker"].startswith("test-") for a in one.json["attempts"])
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, erp.tenant_id).get(queued.invoice_id).status == "delivered"
        retry = [e for e in AuditLog(session, erp.tenant_id).entries(target_type="invoice", target_id=queued.invoice_id)
                 if e.action == "delivery.retry"]
    assert [(e.actor, e.role) for e in retry] == [(f"key:{erp.plaintext[:12]}", "erp")]


def _dead(engine, tenant):
    """A dead-lettered e-mail delivery, made through the store (claim, then a permanent failure)."""
    queued = queue_invoice(engine, tenant, "email")
    clock = FakeClock()
    with transaction(session_factory(engine)) as session:
        [claim] = [c for c in claim_due(session, "w", now=clock(), lease=timedelta(seconds=60), limit=50, actor=WORKER)
                   if c.entry_id == queued.entry_id]
    with transaction(session_factory(engine)) as session:
        finish(session, claim, Report(AttemptOutcome.FAILED, OutboxStatus.DEAD, clock(), detail="550 unknown user"),
               WORKER)
    return queued


def test_roles_tenants_and_paging(dispatch_db, app_on, key_issuer):
    url = url_of(dispatch_db)
    admin = key_issuer(url, "admin")
    keys = {role: key_issuer(url, role, admin.tenant_name) for role in ("erp", "analyst", "approver")}
    keys["customer"] = key_issuer(url, "customer", admin.tenant_name)
    stranger = key_issuer(url, "admin")
    dead = [_dead(dispatch_db, admin.tenant_id) for _ in range(3)]
    client = app_on.test_client()

    for role in ("analyst", "approver", "customer"):
        assert client.post(f"/v1/deliveries/{dead[0].entry_id}/retry", headers=keys[role].headers).status_code == 403
    for role in ("erp", "analyst", "approver"):
        assert client.get("/v1/deliveries?status=dead", headers=keys[role].headers).status_code == 200
    assert client.get("/v1/deliveries", headers=keys["customer"].headers).status_code == 403
    assert client.get("/v1/deliveries").status_code == 401

    for path in (f"/v1/deliveries/{dead[0].entry_id}", f"/v1/deliveries/{dead[0].entry_id}/retry"):
        method = client.post if path.endswith("retry") else client.get
        answer = method(path, headers=stranger.headers)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
        assert str(dead[0].invoice_id) not in answer.get_data(as_text=True)
    assert client.get("/v1/deliveries", headers=stranger.headers).json["items"] == []
    assert client.post(f"/v1/deliveries/{uuid.uuid4()}/retry", headers=admin.headers).status_code == 404

    first = client.get("/v1/deliveries?status=dead&limit=2", headers=admin.headers).json
    rest = client.get(f"/v1/deliveries?status=dead&limit=2&after={first['next']}", headers=admin.headers).json
    assert [i["id"] for i in first["items"] + rest["items"]] == [str(d.entry_id) for d in dead] and rest["next"] is None
    by_invoice = client.get(f"/v1/deliveries?invoice_id={dead[1].invoice_id}", headers=admin.headers).json["items"]
    assert [i["id"] for i in by_invoice] == [str(dead[1].entry_id)]

    bad = client.get("/v1/deliveries?status=lost", headers=admin.headers)
    assert bad.status_code == 400 and bad.json["errors"][0]["parameter"] == "status"
    unknown = client.get(f"/v1/deliveries?after={uuid.uuid4()}", headers=admin.headers)
    assert unknown.status_code == 400 and unknown.json["errors"][0]["parameter"] == "after"

    assert client.post(f"/v1/deliveries/{dead[2].entry_id}/retry", headers=admin.headers).status_code == 202
    assert client.get("/v1/deliveries?status=pending", headers=admin.headers).json["items"][0]["id"] == str(dead[2].entry_id)


def test_the_deliveries_endpoints_are_in_the_openapi_document(app_on):
    document = app_on.test_client().get("/openapi.json").json
    retry = document["paths"]["/v1/deliveries/{delivery_id}/retry"]["post"]
    assert "202" in retry["responses"] and "Roles: admin, erp." in retry["description"]
    listing = document["paths"]["/v1/deliveries"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "invoice_id", "after", "limit"}
