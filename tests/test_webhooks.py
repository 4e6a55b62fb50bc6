"""Webhooks against a real HTTP receiver on loopback, whose signature check is the independent
`standardwebhooks` package: signed deliveries, receiver down then up (nothing lost, order kept), a slow
receiver (timeouts), disabling after a long failure (reason visible) and re-enabling, replays, 10,000
events in order per invoice, and subscriptions of one tenant out of another's reach (tried)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from webhook_receiver import Receiver
from worker_helpers import FakeClock, url_of

import aiguillage
from aiguillage.api.app import create_app
from aiguillage.events.feed import body_of
from aiguillage.events.record import record
from aiguillage.events.retry import WebhookPolicy
from aiguillage.events.subscriptions import Subscriptions
from aiguillage.events.worker import WebhookSettings, WebhookWorker
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.event_models import EventRecord, WebhookDelivery

pytest_plugins = ["aiguillage.api.testing", "dispatch_fixtures"]

CODE_ROOT = Path(aiguillage.__file__).resolve().parents[1]
FAST = WebhookPolicy(base=timedelta(seconds=5), max_delay=timedelta(seconds=60), jitter=0)


def subscribe(engine, tenant, url, types=()):
    with transaction(session_factory(engine)) as session:
        row, secret = Subscriptions(session, tenant).create(url, list(types), CLI)
        return row.id, secret


def events_for(engine, tenant, invoices, per_invoice, *, type_name="invoice.held"):
    """Record `per_invoice` events for each invoice, interleaved across invoices, in a few transactions."""
    ids = []
    with transaction(session_factory(engine)) as session:
        for n in range(per_invoice):
            for invoice in invoices:
                ids.append(record(session, tenant, type_name, {"reason": f"step {n}"}, invoice_id=invoice,
                                  invoice_number=f"N-{invoice.hex[:6]}").id)
    return ids


def worker(engine, clock, *, policy=FAST, **settings):
    values = {"once": True, "concurrency": 4, "timeout": 5.0, "poll": 0.05, "allow_private": True, **settings}
    return WebhookWorker(engine, settings=WebhookSettings(**values), policy=policy, clock=clock)


def drain(engine, clock, *, rounds=200, **settings):
    """Run the worker (once) and move the clock past every backoff until nothing waits."""
    for _ in range(rounds):
        worker(engine, clock, **settings).run()
        with transaction(session_factory(engine)) as session:
            waiting = session.query(WebhookDelivery).filter(WebhookDelivery.status != "delivered").count()
        if not waiting:
            return
        clock.advance(61)
    raise AssertionError("deliveries still waiting after every round")


def assert_in_order_per_invoice(arrivals):
    """No event of an invoice reached the receiver before every earlier event of that invoice was accepted."""
    parsed = [(json.loads(a.body), a) for a in arrivals]
    sequences: dict[str, list[int]] = defaultdict(list)
    for event, _ in parsed:
        sequences[event["invoice"]["id"]].append(int(event["sequence"]))
    ordered = {invoice: sorted(set(seqs)) for invoice, seqs in sequences.items()}
    accepted: dict[str, set[int]] = defaultdict(set)
    prefix: dict[str, int] = defaultdict(int)  # how many of the invoice's first events are accepted
    for event, arrival in parsed:
        invoice, seq = event["invoice"]["id"], int(event["sequence"])
        position = ordered[invoice].index(seq)
        assert position <= prefix[invoice], f"event {seq} of invoice {invoice} came before an earlier one was accepted"
        if 200 <= arrival.answered < 300:
            accepted[invoice].add(seq)
            while prefix[invoice] < len(ordered[invoice]) and ordered[invoice][prefix[invoice]] in accepted[invoice]:
                prefix[invoice] += 1
    return ordered


def test_deliveries_are_signed_and_an_independent_verifier_accepts_them(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    invoice = uuid.uuid4()
    with Receiver() as receiver:
        _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
        ids = events_for(dispatch_db, tenant, [invoice], 3)
        worker(dispatch_db, clock).run()
        arrivals = receiver.accepted()
    assert [uuid.UUID(a.webhook_id) for a in arrivals] == ids
    assert all(a.verified and a.signature.startswith("v1,") for a in arrivals)
    with transaction(session_factory(dispatch_db)) as session:
        rows = {row.id: row for row in session.query(EventRecord).filter(EventRecord.tenant_id == tenant)}
        assert [a.body for a in arrivals] == [body_of(rows[i]) for i in ids]  # the feed's JSON, byte for byte
        assert {d.status for d in session.query(WebhookDelivery)} == {"delivered"}
    first = arrivals[0]
    headers = {"webhook-id": first.webhook_id, "webhook-timestamp": first.timestamp,
               "webhook-signature": first.signature}
    assert Webhook(receiver.secret).verify(first.body, headers)["id"] == first.webhook_id
    with pytest.raises(WebhookVerificationError):  # the check can fail: another secret, or a changed body
        Webhook("whsec_" + "A" * 43 + "=").verify(first.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(first.body.replace(b"step 0", b"step 9"), headers)

    # The stdlib snippet docs/integrators.md gives receivers agrees.
    guide = (CODE_ROOT / "docs" / "integrators.md").read_text()
    snippet = guide[guide.index("import base64, hashlib, hmac, time"):]
    namespace: dict = {}
    exec(snippet[:snippet.index("```")], namespace)  # noqa: S102 - the documented code, run as documented
    assert namespace["verify"](receiver.secret, headers, first.body)
    assert not namespace["verify"](receiver.secret, headers, first.body + b" ")
    assert not namespace["verify"](receiver.secret, dict(headers, **{"webhook-timestamp": "1700000000"}), first.body)


def test_a_receiver_down_then_up_gets_everything_in_order(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    invoices = [uuid.uuid4() for _ in range(3)]
    receiver = Receiver()  # not started: connections are refused
    _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
    ids = events_for(dispatch_db, tenant, invoices, 4)
    worker(dispatch_db, clock).run()
    clock.advance(61)
    worker(dispatch_db, clock).run()
    with transaction(session_factory(dispatch_db)) as session:
        rows = session.query(WebhookDelivery).all()
        assert {r.status for r in rows} == {"pending"} and len(rows) == 12
        # Only the head of each invoice's chain was tried; the rest wait behind it.
        tried = sorted(r.attempts for r in rows)
        assert tried == [0] * 9 + [2] * 3
        assert all("ConnectionRefusedError" in r.last_error for r in rows if r.attempts)
    with receiver:
        drain(dispatch_db, clock)
        arrivals = list(receiver.arrivals)
    assert sorted(uuid.UUID(a.webhook_id) for a in arrivals) == sorted(ids)  # nothing lost, nothing twice
    assert_in_order_per_invoice(arrivals)


def test_a_slow_receiver_times_out_and_gets_the_event_again_under_the_same_id(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    with Receiver(script=[(200, 3.0)]) as receiver:
        _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
        [event_id] = events_for(dispatch_db, tenant, [uuid.uuid4()], 1)
        worker(dispatch_db, clock, timeout=0.5).run()
        with transaction(session_factory(dispatch_db)) as session:
            [delivery] = session.query(WebhookDelivery).all()
            assert delivery.status == "pending" and "timeout" in delivery.last_error
            assert delivery.last_status_code is None and delivery.next_attempt_at > clock.now
        clock.advance(10)
        worker(dispatch_db, clock, timeout=0.5).run()
        arrivals = list(receiver.arrivals)
    assert [a.webhook_id for a in arrivals] == [str(event_id)] * 2  # the receiver de-duplicates on it
    with transaction(session_factory(dispatch_db)) as session:
        assert session.query(WebhookDelivery).one().status == "delivered"


def test_a_long_failure_disables_the_subscription_with_its_reason_and_re_enabling_resumes(
        dispatch_db, key_issuer):
    url = url_of(dispatch_db)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    key = key_issuer(url, "erp")
    clock = FakeClock()
    policy = WebhookPolicy(base=timedelta(seconds=5), max_delay=timedelta(minutes=30), jitter=0,
                           disable_after=timedelta(hours=1), min_failures=3)
    with Receiver(status=500) as receiver:
        created = client.post("/v1/webhooks", json={"url": receiver.url, "event_types": ["invoice.held"]},
                              headers=key.headers)
        assert created.status_code == 201
        receiver.secret = created.get_json()["secret"]
        hook = created.get_json()["id"]
        ids = events_for(dispatch_db, key.tenant_id, [uuid.uuid4()], 2)
        for _ in range(4):
            worker(dispatch_db, clock, policy=policy).run()
            clock.advance(31 * 60)
        view = client.get(f"/v1/webhooks/{hook}", headers=key.headers).get_json()
        assert view["status"] == "disabled" and view["consecutive_failures"] == 3
        assert "HTTP 500" in view["disabled_reason"] and "without a success since" in view["disabled_reason"]
        assert "secret" not in view
        failed = len(receiver.arrivals)
        worker(dispatch_db, clock, policy=policy).run()
        assert len(receiver.arrivals) == failed  # a disabled subscription gets nothing

        receiver.status = 200
        enabled = client.patch(f"/v1/webhooks/{hook}", json={"status": "enabled"}, headers=key.headers)
        assert enabled.get_json()["status"] == "enabled" and enabled.get_json()["disabled_reason"] is None
        worker(dispatch_db, clock, policy=policy).run()
        accepted = [uuid.UUID(a.webhook_id) for a in receiver.accepted()]
    assert accepted == ids
    listing = client.get(f"/v1/webhooks/{hook}/deliveries", headers=key.headers).get_json()["items"]
    assert [d["status"] for d in listing] == ["delivered", "delivered"] and listing[-1]["attempts"] == 4


def test_any_event_can_be_replayed_with_its_id(dispatch_db, key_issuer):
    url = url_of(dispatch_db)
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    key = key_issuer(url, "erp")
    clock = FakeClock()
    with Receiver() as receiver:
        created = client.post("/v1/webhooks", json={"url": receiver.url}, headers=key.headers).get_json()
        receiver.secret = created["secret"]
        first, second = events_for(dispatch_db, key.tenant_id, [uuid.uuid4()], 2)
        worker(dispatch_db, clock).run()
        replayed = client.post(f"/v1/events/{first}/replay", json={}, headers=key.headers)
        assert replayed.status_code == 202 and len(replayed.get_json()["deliveries"]) == 1
        only = client.post(f"/v1/events/{second}/replay", json={"subscription_id": created["id"]},
                           headers=key.headers)
        assert only.status_code == 202
        worker(dispatch_db, clock).run()
        arrivals = [uuid.UUID(a.webhook_id) for a in receiver.accepted()]
    assert arrivals == [first, second, first, second]
    replays = client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=key.headers).get_json()["items"]
    assert sorted(d["replay"] for d in replays) == [False, False, True, True]


def test_subscriptions_crud_shows_the_secret_once_and_stays_within_the_tenant(api_client, api_keys):
    mine, theirs = api_keys("erp"), api_keys("admin")
    body = {"url": "https://erp.example/hooks", "event_types": ["invoice.held", "delivery.dead"],
            "description": "ERP"}
    created = api_client.post("/v1/webhooks", json=body, headers=mine.headers)
    assert created.status_code == 201
    hook = created.get_json()
    assert hook["secret"].startswith("whsec_") and hook["status"] == "enabled"
    read = api_client.get(f"/v1/webhooks/{hook['id']}", headers=mine.headers).get_json()
    assert "secret" not in read and read["event_types"] == ["invoice.held", "delivery.dead"]
    assert [h["id"] for h in api_client.get("/v1/webhooks", headers=mine.headers).get_json()["items"]] == [hook["id"]]

    # Another tenant (even an admin) can neither see, change, delete nor list it.
    assert api_client.get("/v1/webhooks", headers=theirs.headers).get_json()["items"] == []
    for method, path, payload in [("get", "", None), ("patch", "", {"status": "disabled"}), ("delete", "", None),
                                  ("get", "/deliveries", None)]:
        response = getattr(api_client, method)(f"/v1/webhooks/{hook['id']}{path}", json=payload,
                                               headers=theirs.headers)
        assert response.status_code == 404, (method, path)
    assert api_client.get(f"/v1/webhooks/{hook['id']}", headers=mine.headers).get_json()["status"] == "enabled"

    bad = api_client.post("/v1/webhooks", json={"url": "ftp://x.example/y"}, headers=mine.headers)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["pointer"] == "/url"
    unknown = api_client.post("/v1/webhooks", json={"url": "https://x.example/y", "event_types": ["invoice.paid"]},
                              headers=mine.headers)
    assert unknown.status_code == 400 and "invoice.paid" in unknown.get_json()["detail"]
    assert api_client.post("/v1/webhooks", json=body, headers=api_keys("analyst", mine.tenant_name).headers
                           ).status_code == 403

    changed = api_client.patch(f"/v1/webhooks/{hook['id']}", json={"status": "disabled", "event_types": []},
                               headers=mine.headers).get_json()
    assert changed["status"] == "disabled" and changed["disabled_reason"].startswith("disabled by key:")
    assert api_client.delete(f"/v1/webhooks/{hook['id']}", headers=mine.headers).status_code == 204
    assert api_client.get(f"/v1/webhooks/{hook['id']}", headers=mine.headers).status_code == 404


def test_only_the_subscribed_types_of_the_own_tenant_are_sent(dispatch_db, make_tenant):
    mine, theirs, clock = make_tenant(dispatch_db), make_tenant(dispatch_db), FakeClock()
    with Receiver() as receiver:
        _, receiver.secret = subscribe(dispatch_db, mine, receiver.url, types=["payment.received"])
        with transaction(session_factory(dispatch_db)) as session:
            wanted = record(session, mine, "payment.received", {"amount": "5.00"}).id
            record(session, mine, "invoice.held", {"reason": "not subscribed"})
            record(session, theirs, "payment.received", {"amount": "6.00"})
        worker(dispatch_db, clock).run()
        assert [uuid.UUID(a.webhook_id) for a in receiver.arrivals] == [wanted]


def test_ten_thousand_events_reach_the_receiver_in_order_per_invoice(postgres_url, make_tenant):
    # PostgreSQL only (the production database; the order logic is the same SQL on SQLite, tested above).
    dispatch_db = make_engine(postgres_url, pool_size=8)
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    invoices = [uuid.uuid4() for _ in range(20)]
    with Receiver(fail_rate=0.01) as receiver:  # one request in a hundred answered 503: retries, order kept
        _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
        ids = []
        for _ in range(5):
            ids += events_for(dispatch_db, tenant, invoices, 100)
        started = time.perf_counter()
        drain(dispatch_db, clock, concurrency=4, batch=1000)
        elapsed = time.perf_counter() - started
        arrivals = list(receiver.arrivals)
    accepted = [uuid.UUID(a.webhook_id) for a in arrivals if a.answered == 200]
    assert len(ids) == 10_000 and sorted(accepted) == sorted(ids)  # every event accepted exactly once
    assert all(a.verified for a in arrivals)
    ordered = assert_in_order_per_invoice(arrivals)
    assert len(ordered) == 20 and all(len(seqs) == 500 for seqs in ordered.values())
    assert any(a.answered == 503 for a in arrivals)
    print(f"10,000 webhook events on {dispatch_db.dialect.name}: {elapsed:.1f} s "
          f"({len(arrivals)} requests, {len(arrivals) - len(accepted)} answered 503)")
    dispatch_db.dispose()


def start_webhooks(url: str, log_path) -> subprocess.Popen:
    """`aiguillage webhooks` in its own process, running the code under test."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment.pop("AIGUILLAGE_DATABASE_URL", None)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), environment.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "aiguillage.cli.main", "webhooks", "--database", url, "--concurrency", "1",
         "--poll", "0.1", "--lease", "2", "--timeout", "30", "--allow-private-addresses"],
        env=environment, stdout=subprocess.PIPE, stderr=open(log_path, "ab"),  # noqa: SIM115
    )


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def statuses(engine) -> list[str]:
    with transaction(session_factory(engine)) as session:
        return [d.status for d in session.query(WebhookDelivery).order_by(WebhookDelivery.event_seq)]


def test_a_worker_killed_mid_send_is_replaced_and_the_duplicate_has_the_same_event_id(
        dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    url = url_of(dispatch_db)
    first = second = None
    with Receiver(script=[(200, 60.0)]) as receiver:  # holds the first request: the worker dies waiting
        _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
        ids = events_for(dispatch_db, tenant, [uuid.uuid4()], 3)
        try:
            first = start_webhooks(url, tmp_path / "webhooks-1.log")
            wait_for(lambda: len(receiver.arrivals) == 1, 60, "the first worker's send to arrive")
            assert statuses(dispatch_db)[0] == "sending"
            first.send_signal(signal.SIGKILL)  # the receiver has the event; the store does not know
            assert first.wait(timeout=10) == -signal.SIGKILL

            second = start_webhooks(url, tmp_path / "webhooks-2.log")
            wait_for(lambda: statuses(dispatch_db) == ["delivered"] * 3, 60, "the second worker to deliver all")
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0, (tmp_path / "webhooks-2.log").read_text()
            assert "3 delivered" in second.stdout.read().decode()
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
        arrivals = list(receiver.arrivals)
    assert [uuid.UUID(a.webhook_id) for a in arrivals] == [ids[0], ids[0], ids[1], ids[2]]
    assert arrivals[0].body == arrivals[1].body and all(a.verified for a in arrivals)
    assert_in_order_per_invoice(arrivals)


def test_a_url_on_a_private_network_is_refused_unless_allowed(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    with Receiver() as receiver:
        _, receiver.secret = subscribe(dispatch_db, tenant, receiver.url)
        events_for(dispatch_db, tenant, [uuid.uuid4()], 1)
        worker(dispatch_db, clock, allow_private=False).run()
        assert receiver.arrivals == []
        with transaction(session_factory(dispatch_db)) as session:
            error = session.query(WebhookDelivery).one().last_error
        assert "non-public address 127.0.0.1" in error
        clock.advance(61)
        worker(dispatch_db, clock, allow_private=True).run()
        assert len(receiver.accepted()) == 1
