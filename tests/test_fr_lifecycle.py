"""End to end on SQLite and PostgreSQL: the worker sends an invoice to a loopback PA with the tenant's own
account, the PA's signed webhooks (duplicated, out of order) reach the real HTTP API, statuses land once
in the timeline in issue order and drive the workflows; polling is the fallback; the supplier sends 212."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import conformance_dir
from sqlalchemy import select
from werkzeug.serving import make_server
from worker_helpers import ERP, make_worker, queue_invoice, url_of

from aiguillage.adapters.flowapi import sign
from aiguillage.adapters.testing.pa_server import LoopbackPa
from aiguillage.api.app import create_app
from aiguillage.api.testing import issue_key
from aiguillage.fr import cdar, tracking
from aiguillage.fr.accounts import set_account, subscribe
from aiguillage.fr.cdar_checks import check
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.event_models import EventRecord
from aiguillage.store.fr_models import LifecycleEvent, PaFlow
from aiguillage.store.models import AuditEntry
from aiguillage.workflows import starting
from aiguillage.workflows.policy import Policy
from aiguillage.workflows.sessions import Workflows

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]


@pytest.fixture
def pa() -> Iterator[LoopbackPa]:
    spec = conformance_dir() / "fr" / "xp-z12-013" / "flow-service-1.3.0.json"
    with LoopbackPa(tokens={"tok-acme": "acme", "tok-other": "other"}, spec=spec) as server:
        yield server
        assert server.violations == []


@pytest.fixture
def api(dispatch_db) -> Iterator[str]:  # noqa: ANN001
    """The real API over HTTP on the test's database, so the PA can call its webhook."""
    app = create_app({"DATABASE_URL": url_of(dispatch_db), "TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["aiguillage.database"].engine.dispose()


def _sent_invoice(engine, pa: LoopbackPa, token: str = "tok-acme"):  # noqa: ANN001, ANN202
    key = issue_key(url_of(engine), "admin")
    with transaction(session_factory(engine)) as session:
        set_account(session, key.tenant_id, pa.url, token)
    queued = queue_invoice(engine, key.tenant_id, "pa", route_format="cii")
    make_worker(engine).run()
    flow = next(f for f in pa.flows.values() if f.tracking_id == str(queued.invoice_id))
    return key, queued, flow


def _timeline(engine, tenant, invoice_id) -> list[str]:  # noqa: ANN001
    with transaction(session_factory(engine)) as session:
        return [e.code for e in tracking.timeline(session, tenant, invoice_id)]


def test_statuses_come_back_by_webhook_once_and_in_issue_order(dispatch_db, pa, api) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    sessions = session_factory(dispatch_db)
    with transaction(sessions) as session:
        row = session.scalar(select(PaFlow).where(PaFlow.flow_id == flow.flow_id))
        assert (row.invoice_id, row.ack_status, row.direction) == (queued.invoice_id, "Pending", "Out")
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
    pa.duplicate_callbacks = True
    pa.acknowledge(flow.flow_id, "Ok")
    base = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    pa.emit_status(flow.flow_id, "200", issued_at=base)
    later = pa.emit_status(flow.flow_id, "205", issued_at=base + timedelta(hours=3), deliver=False)
    earlier = pa.emit_status(flow.flow_id, "204", issued_at=base + timedelta(hours=1), deliver=False)
    pa.deliver([earlier, later], order="reverse")  # 205 arrives before 204
    assert all(c.status == 200 for c in pa.callbacks), [c.error for c in pa.callbacks]
    assert len(pa.callbacks) == 8  # four events, each twice
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == ["200", "204", "205"]
    with create_app({"DATABASE_URL": url_of(dispatch_db), "TESTING": True}).test_client() as client:
        answer = client.get(f"/v1/invoices/{queued.invoice_id}/lifecycle", headers=key.headers).get_json()
        other = issue_key(url_of(dispatch_db), "admin")
        assert client.get(f"/v1/invoices/{queued.invoice_id}/lifecycle", headers=other.headers).status_code == 404
    assert answer["current"]["code"] == "205" and answer["current"]["label_fr"] == "Approuvée"
    assert [s["code"] for s in answer["statuses"]] == ["200", "204", "205"]
    assert {(f["direction"], f["ack_status"]) for f in answer["flows"]} == {("Out", "Ok"), ("In", "Ok")}
    with transaction(sessions) as session:  # the ERP is told too, once per status, in its feed
        told = session.scalars(select(EventRecord.payload).where(
            EventRecord.invoice_id == queued.invoice_id, EventRecord.type == "lifecycle.status")).all()
    assert sorted(p["code"] for p in told) == ["200", "204", "205"]


def test_statuses_drive_the_workflows(dispatch_db, pa, api) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    sessions = session_factory(dispatch_db)
    with transaction(sessions) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
        assert starting.start_reminders(session, key.tenant_id, queued.invoice_id, ERP,
                                        policy=Policy(remind_every_s=86400, remind_max=3)) is not None
    pa.emit_status(flow.flow_id, "207", reason_code="QTE_ERR", reason="3 lampes au lieu de 4")
    with transaction(sessions) as session:
        workflows = Workflows(session, key.tenant_id)
        assert workflows.for_invoice("query", queued.invoice_id).status == "open"
        assert workflows.for_invoice("reminder", queued.invoice_id).status == "paused"
    pa.emit_status(flow.flow_id, "210", reason_code="TX_TVA_ERR")
    with transaction(sessions) as session:
        assert Workflows(session, key.tenant_id).for_invoice("reminder", queued.invoice_id).status == "stopped"
        alerts = list(session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == key.tenant_id,
                                                               AuditEntry.action == "lifecycle.alert")))
        assert [a.detail["code"] for a in alerts] == ["210"] and alerts[0].detail["for"] == "accounts-receivable"


def test_payment_statuses_record_the_payment(dispatch_db, pa, api) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    sessions = session_factory(dispatch_db)
    with transaction(sessions) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
        starting.start_reminders(session, key.tenant_id, queued.invoice_id, ERP,
                                 policy=Policy(remind_every_s=86400, remind_max=3))
    pa.emit_status(flow.flow_id, "211")
    with transaction(sessions) as session:
        assert Workflows(session, key.tenant_id).for_invoice("reminder", queued.invoice_id).status == "paid"


def test_unsigned_or_foreign_events_are_refused(dispatch_db, pa, api) -> None:  # noqa: ANN001
    import urllib.error
    import urllib.request

    key, queued, flow = _sent_invoice(dispatch_db, pa)
    with transaction(session_factory(dispatch_db)) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
    body = json.dumps(pa.flows[flow.flow_id].document()).encode()

    def post(tenant: uuid.UUID, headers: dict[str, str]) -> int:
        request = urllib.request.Request(f"{api}/v1/pa/webhooks?tenant={tenant}", data=body, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    good_key = next(iter(pa.subscriptions.values())).signing_key
    assert post(key.tenant_id, {}) == 401
    assert post(key.tenant_id, sign(body, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")) == 401
    assert post(uuid.uuid4(), sign(body, good_key)) == 401
    assert post(key.tenant_id, sign(body, good_key)) == 200


def test_polling_finds_what_no_webhook_brought(dispatch_db, pa) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    pa.acknowledge(flow.flow_id, "Ok")
    for code in ("200", "202", "203"):
        pa.emit_status(flow.flow_id, code)
    sessions = session_factory(dispatch_db)
    with transaction(sessions) as session:
        report = tracking.poll(session, key.tenant_id, actor=ERP)
    assert (report.acknowledged, report.statuses, report.refused) == (1, 3, [])
    pa.emit_status(flow.flow_id, "212", cashed=[cdar.Cashed(amount=flow_total(pa, flow.flow_id), vat_rate=Decimal("20"))])
    with transaction(sessions) as session:
        again = tracking.poll(session, key.tenant_id, actor=ERP)
        assert session.scalar(select(PaFlow).where(PaFlow.flow_id == flow.flow_id)).ack_status == "Ok"
    assert again.statuses == 1
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == ["200", "202", "203", "212"]
    searches = [r for r in pa.requests if r.operation.operation_id == "searchFlows"]
    assert "updatedAfter" in searches[-1].json["where"]


def flow_total(pa: LoopbackPa, flow_id: str):  # noqa: ANN201
    from decimal import Decimal

    return Decimal(pa.flows[flow_id].invoice["total"])


def test_a_status_for_an_unknown_invoice_is_refused_by_the_webhook(dispatch_db, pa, api) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    with transaction(session_factory(dispatch_db)) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
    pa.flows[flow.flow_id].invoice["number"] = "NOT-OURS"
    pa.emit_status(flow.flow_id, "200")
    assert pa.callbacks[-1].status == 400 and "NOT-OURS" in (pa.callbacks[-1].error or "")
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == []


def test_the_supplier_sends_212_to_its_pa(dispatch_db, pa) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    with create_app({"DATABASE_URL": url_of(dispatch_db), "TESTING": True}).test_client() as client:
        refused = client.post(f"/v1/invoices/{queued.invoice_id}/lifecycle", json={"code": "207"}, headers=key.headers)
        sent = client.post(f"/v1/invoices/{queued.invoice_id}/lifecycle", json={"code": "212"}, headers=key.headers)
    assert refused.status_code == 422
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["source"] == "supplier" and sent.get_json()["code"] == "212"
    status_flow = pa.flows[sent.get_json()["flow_id"]]
    assert (status_flow.syntax, status_flow.flow_type, status_flow.direction) == ("CDAR", "CustomerInvoiceLC", "Out")
    assert [f for f in check(status_flow.content) if f.severity == "fatal"] == []
    line = cdar.read(status_flow.content).statuses[0]
    assert line.status_code == "212" and line.invoice_number == queued.number and sum(c.amount for c in line.cashed) > 0
    with transaction(session_factory(dispatch_db)) as session:
        events = session.scalars(select(LifecycleEvent).where(LifecycleEvent.invoice_id == queued.invoice_id)).all()
        assert [(e.code, e.source, e.issuer_role) for e in events] == [("212", "supplier", "SE")]


def test_cli_sets_the_account_polls_and_prints_the_timeline(dispatch_db, pa, capsys, monkeypatch) -> None:  # noqa: ANN001
    from aiguillage.cli.main import main

    key = issue_key(url_of(dispatch_db), "admin")
    database = ["--database", url_of(dispatch_db)]
    monkeypatch.setenv("ACME_PA_TOKEN", "tok-acme")
    assert main(["pa", "account", "--tenant", key.tenant_name, "--url", pa.url, "--token-env", "ACME_PA_TOKEN",
                 *database]) == 0
    assert "tok-acme" not in capsys.readouterr().out
    queued = queue_invoice(dispatch_db, key.tenant_id, "pa", route_format="ubl")
    make_worker(dispatch_db).run()
    flow = next(f for f in pa.flows.values() if f.tracking_id == str(queued.invoice_id))
    assert flow.syntax == "UBL"
    pa.acknowledge(flow.flow_id)
    pa.emit_status(flow.flow_id, "200")
    pa.emit_status(flow.flow_id, "213", reason_code="REJ_SEMAN")
    assert main(["pa", "poll", "--tenant", key.tenant_name, *database]) == 0
    assert "1 acknowledgement(s), 2 new status(es)" in capsys.readouterr().out
    assert main(["lifecycle", str(queued.invoice_id), "--tenant", key.tenant_name, *database]) == 0
    out = capsys.readouterr().out
    assert "acknowledgement Ok" in out and "200 Déposée" in out and "213 Rejetée\twebhook" not in out
    assert "213 Rejetée\tpoll\tREJ_SEMAN" in out
    assert main(["lifecycle", "nope", "--tenant", key.tenant_name, *database]) == 1
    assert "not an invoice id" in capsys.readouterr().err


def test_a_pa_unreachable_during_a_webhook_answers_500_and_polling_recovers(dispatch_db, pa, api) -> None:  # noqa: ANN001
    key, queued, flow = _sent_invoice(dispatch_db, pa)
    with transaction(session_factory(dispatch_db)) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
    pa.acknowledge(flow.flow_id)
    pa.fail_next(503)  # the CDAR download the webhook triggers
    pa.emit_status(flow.flow_id, "200")
    assert pa.callbacks[-1].status == 500
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == []
    with transaction(session_factory(dispatch_db)) as session:
        assert tracking.poll(session, key.tenant_id, actor=ERP).statuses == 1
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == ["200"]


def test_the_same_event_delivered_many_times_at_once_is_recorded_once(dispatch_db, pa, api) -> None:  # noqa: ANN001
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    key, queued, flow = _sent_invoice(dispatch_db, pa)
    with transaction(session_factory(dispatch_db)) as session:
        subscribe(session, key.tenant_id, f"{api}/v1/pa/webhooks?tenant={key.tenant_id}")
    status = pa.emit_status(flow.flow_id, "205", deliver=False)
    body = json.dumps(status.document()).encode()
    signing_key = next(iter(pa.subscriptions.values())).signing_key

    def post(_: int) -> int:
        request = urllib.request.Request(f"{api}/v1/pa/webhooks?tenant={key.tenant_id}", data=body, method="POST",
                                         headers={"Content-Type": "application/json", **sign(body, signing_key)})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert answers == [200] * 8
    assert _timeline(dispatch_db, key.tenant_id, queued.invoice_id) == ["205"]
    with transaction(session_factory(dispatch_db)) as session:
        flows = session.scalars(select(PaFlow).where(PaFlow.flow_id == status.flow_id)).all()
        assert len(flows) == 1


def test_an_account_with_oauth2_client_credentials_gets_and_reuses_an_access_token(dispatch_db, pa) -> None:  # noqa: ANN001
    key = issue_key(url_of(dispatch_db), "admin")
    token_url = pa.add_client("aiguillage-acme", "s3cret-client", "acme")
    with transaction(session_factory(dispatch_db)) as session:
        set_account(session, key.tenant_id, pa.url, "s3cret-client", token_url=token_url, client_id="aiguillage-acme")
    first = queue_invoice(dispatch_db, key.tenant_id, "pa", route_format="cii")
    second = queue_invoice(dispatch_db, key.tenant_id, "pa", route_format="cii")
    make_worker(dispatch_db).run()
    owners = {f.tracking_id: f.owner for f in pa.flows.values()}
    assert owners == {str(first.invoice_id): "acme", str(second.invoice_id): "acme"}
    assert pa.token_requests == 1
    with transaction(session_factory(dispatch_db)) as session:
        set_account(session, key.tenant_id, pa.url, "wrong-secret", token_url=token_url, client_id="aiguillage-acme")
        with pytest.raises(Exception, match="401"):
            tracking.poll(session, key.tenant_id, actor=ERP)


def test_a_flow_naming_another_tenants_invoice_is_not_tied_to_it(dispatch_db, pa) -> None:  # noqa: ANN001
    mine, _, _ = _sent_invoice(dispatch_db, pa)
    theirs, their_invoice, _ = _sent_invoice(dispatch_db, pa, token="tok-other")
    foreign = {"flowId": "foreign-1", "trackingId": str(their_invoice.invoice_id), "flowType": "CustomerInvoice",
               "flowDirection": "Out", "acknowledgement": {"status": "Ok"}}
    with transaction(session_factory(dispatch_db)) as session:
        from aiguillage.fr.accounts import account, service_of

        tracking.handle_flow(session, mine.tenant_id, foreign, service_of(account(session, mine.tenant_id)),
                             source="webhook", actor=ERP)
        row = session.scalar(select(PaFlow).where(PaFlow.flow_id == "foreign-1"))
        assert (row.tenant_id, row.invoice_id) == (mine.tenant_id, None)
