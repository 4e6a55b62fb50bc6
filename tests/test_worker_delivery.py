"""The dispatch worker against real counterparts on loopback, on SQLite and PostgreSQL: the SMTP
server (STARTTLS, login), the EDI mailbox folder, a Peppol access point over HTTP, a print hot
folder; retries with backoff on a fake clock, dead letters, a timeout then recovery, threads,
two workers on one outbox, and a graceful stop in the middle of a send."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from pathlib import Path

from lxml import etree
from worker_helpers import (
    ERP,
    FakeClock,
    folder_config,
    make_worker,
    queue_invoice,
    smtp_config,
)

from aiguillage.adapters.base import (
    Adapter,
    ChannelSettings,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    RenderedDocument,
)
from aiguillage.adapters.edifact import control_reference
from aiguillage.adapters.email import EmailAdapter
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.store.actor import CLI, WORKER
from aiguillage.store.base import utcnow
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.claims import claim_due
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"


def view(engine, tenant, entry_id):
    with transaction(session_factory(engine)) as session:
        return Outbox(session, tenant).view(entry_id)


def invoice_status(engine, tenant, invoice_id) -> str:
    with transaction(session_factory(engine)) as session:
        return Invoices(session, tenant).get(invoice_id).status


def test_an_invoice_goes_out_by_email_with_its_message_id_from_the_delivery_key(dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    settings = ChannelSettings(email="ap@acme-retail.example", language="fr", attachment_formats=["pdf", "ubl"])
    queued = queue_invoice(dispatch_db, tenant, "email", settings=settings)
    with LoopbackSmtpServer(tmp_path) as server:
        stats = make_worker(dispatch_db, configs={"email": smtp_config(server)}).run()
        [mail] = server.received
    assert (stats.deliveries, dict(stats.outcomes)) == (1, {"delivered": 1})
    message = mail.message
    delivered = view(dispatch_db, tenant, queued.entry_id)
    [attempt] = delivered.attempts
    assert delivered.entry.status == "delivered" and delivered.entry.last_error is None
    assert (attempt.outcome, attempt.remote_id) == ("ok", message["Message-ID"])
    assert "250 OK queued as Q0001" in attempt.detail and attempt.finished_at >= attempt.started_at
    assert str(message["X-Aiguillage-Delivery-Key"]).strip().startswith(queued.delivery_key.replace(":", "_") + "-")
    assert message["Subject"].startswith(f"Facture {queued.number}")
    assert [p.get_filename() for p in message.iter_attachments()] == [f"{queued.number}.pdf", f"{queued.number}-ubl.xml"]
    assert mail.tls and mail.authenticated_as == "aiguillage"
    assert invoice_status(dispatch_db, tenant, queued.invoice_id) == "delivered"
    with transaction(session_factory(dispatch_db)) as session:
        audit = [(e.action, e.actor, e.detail.get("outcome")) for e in AuditLog(session, tenant).entries(
            target_type="invoice", target_id=queued.invoice_id)]
    assert ("delivery.attempt", "worker", "ok") in audit and ("invoice.status", "worker", None) in audit


def test_an_invoice_goes_into_the_mailbox_folder_once_per_delivery_key(dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "edi")
    stats = make_worker(dispatch_db, configs={"edi": folder_config(tmp_path / "mailbox")}).run()
    [written] = (tmp_path / "mailbox").iterdir()
    reference = control_reference(queued.delivery_key)
    assert written.name == f"INVOIC_{queued.number}_{reference}.edi"
    [unb] = [s for s in written.read_text("latin-1").split("'") if s.startswith("UNB+")]
    assert reference in unb  # the interchange control reference comes from the delivery key
    entry = view(dispatch_db, tenant, queued.entry_id)
    assert (stats.outcomes["sent"], entry.entry.status, entry.attempts[0].remote_id) == (1, "sent", str(written))
    assert invoice_status(dispatch_db, tenant, queued.invoice_id) == "sent"

    # Sent again (as after a crash, here by dead-lettering and retrying it by hand): same name, not a second file.
    with transaction(session_factory(dispatch_db)) as session:
        Outbox(session, tenant).get(queued.entry_id).status = "dead"
    with transaction(session_factory(dispatch_db)) as session:
        Outbox(session, tenant).requeue(queued.entry_id, ERP)
    make_worker(dispatch_db, configs={"edi": folder_config(tmp_path / "mailbox")}).run()
    assert list((tmp_path / "mailbox").iterdir()) == [written]
    again = view(dispatch_db, tenant, queued.entry_id)
    assert again.entry.status == "sent" and again.attempts[1].detail.startswith("already delivered by an earlier attempt")


def test_a_refused_recipient_is_retried_with_backoff_until_it_goes_through(dispatch_db, make_tenant, tmp_path):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "email")
    policy = RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(seconds=300), max_attempts=5, jitter=0.25,
                         rng=random.Random(7))
    with LoopbackSmtpServer(tmp_path, reject_rcpt=(450, "mailbox busy"), failures=2) as server:
        worker = make_worker(dispatch_db, clock, configs={"email": smtp_config(server)}, policy=policy)
        worker.run()
        entry = view(dispatch_db, tenant, queued.entry_id).entry
        assert entry.status == "retrying" and "450 mailbox busy" in entry.last_error
        assert clock.now + timedelta(seconds=7.5) <= entry.next_attempt_at <= clock.now + timedelta(seconds=10)
        first_wait = entry.next_attempt_at - clock.now

        assert worker.run().deliveries == 1  # not due yet: nothing more was tried
        clock.now = entry.next_attempt_at
        worker.run()
        entry = view(dispatch_db, tenant, queued.entry_id).entry
        assert entry.status == "retrying"
        assert clock.now + timedelta(seconds=15) <= entry.next_attempt_at <= clock.now + timedelta(seconds=20)
        assert entry.next_attempt_at - clock.now > first_wait  # it backs off

        clock.now = entry.next_attempt_at
        worker.run()
        assert len(server.received) == 1
    final = view(dispatch_db, tenant, queued.entry_id)
    assert final.entry.status == "delivered" and final.entry.last_error is None
    assert [(a.number, a.outcome) for a in final.attempts] == [(1, "failed"), (2, "failed"), (3, "ok")]
    assert invoice_status(dispatch_db, tenant, queued.invoice_id) == "delivered"


def test_a_permanent_error_is_dead_lettered_at_once(dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "email", settings=ChannelSettings(email="not an address"))
    with LoopbackSmtpServer(tmp_path) as server:
        make_worker(dispatch_db, configs={"email": smtp_config(server)}).run()
        assert server.received == []
    dead = view(dispatch_db, tenant, queued.entry_id)
    assert dead.entry.status == "dead" and dead.entry.last_error.startswith("permanent: not an e-mail address")
    assert [a.outcome for a in dead.attempts] == ["failed"]
    assert invoice_status(dispatch_db, tenant, queued.invoice_id) == "failed"


def test_a_timeout_is_retried_and_the_receiver_can_tell_the_resend(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "peppol",
                           settings=ChannelSettings(peppol_participant_id="0009:52198765400027"))
    script = [Answer(200, b"{}", delay=30), Answer(200, b'{"messageId": "ap-0002"}')]
    with LoopbackHttpServer(script) as access_point:
        config = {"access_point_url": f"{access_point.url}/outbound", "timeout": 1.5}
        worker = make_worker(dispatch_db, clock, configs={"peppol": config})
        worker.run()
        entry = view(dispatch_db, tenant, queued.entry_id)
        assert entry.entry.status == "retrying" and "no answer within 1.5 s" in entry.entry.last_error
        assert entry.attempts[0].outcome == "timeout"
        clock.now = entry.entry.next_attempt_at
        worker.run()
        received = list(access_point.received)
    final = view(dispatch_db, tenant, queued.entry_id)
    assert final.entry.status == "delivered"
    assert [(a.outcome, a.remote_id) for a in final.attempts] == [("timeout", None), ("ok", "ap-0002")]
    # The access point got it twice; both carry the same SBDH instance id, so it keeps one.
    instance_ids = {etree.fromstring(r.body).findtext(f".//{{{SBDH_NS}}}InstanceIdentifier") for r in received}
    assert len(received) == 2 and instance_ids == {queued.delivery_key}


class _FlakyEmail(Adapter):
    """Raises a plain exception (a bug, not a delivery error) on its first send, then works."""

    channel = "email"

    def __init__(self) -> None:
        super().__init__()
        self.sends = 0

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        return [RenderedDocument(filename="x.txt", media_type="text/plain", content=b"x", kind="json")]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        self.sends += 1
        if self.sends == 1:
            raise RuntimeError("adapter bug")
        return self.result(delivery, f"<{delivery.key_digest()}@flaky>", DeliveryStatus.DELIVERED)


def test_an_unexpected_exception_is_retried_like_a_temporary_error(dispatch_db, make_tenant):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "email")
    flaky = _FlakyEmail()
    worker = make_worker(dispatch_db, clock, pool=AdapterPool(factory=lambda channel, config: flaky))
    worker.run()
    entry = view(dispatch_db, tenant, queued.entry_id).entry
    assert (entry.status, entry.last_error) == ("retrying", "RuntimeError: adapter bug")
    clock.advance(3600)
    worker.run()
    assert view(dispatch_db, tenant, queued.entry_id).entry.status == "delivered" and flaky.sends == 2


def test_threads_and_a_second_worker_deliver_every_invoice_exactly_once(dispatch_db, make_tenant, tmp_path):
    tenants = [make_tenant(dispatch_db) for _ in range(2)]
    queued = [queue_invoice(dispatch_db, tenants[i % 2], "email") for i in range(12)]
    with LoopbackSmtpServer(tmp_path) as server:
        workers = [make_worker(dispatch_db, configs={"email": smtp_config(server)}, concurrency=3) for _ in range(2)]
        threads = [threading.Thread(target=w.run) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        received = list(server.received)
    assert sum(w.stats.deliveries for w in workers) == 12
    message_ids = [mail.message["Message-ID"] for mail in received]
    assert len(message_ids) == len(set(message_ids)) == 12
    for q in queued:
        entry = view(dispatch_db, tenants[queued.index(q) % 2], q.entry_id)
        assert entry.entry.status == "delivered" and len(entry.attempts) == 1
    per_stage = workers[0].stats.per_delivery_ms()
    assert set(per_stage) == {"claim", "load", "render", "send", "record"}


def test_stop_lets_the_send_under_way_finish_and_claims_nothing_more(dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    first = queue_invoice(dispatch_db, tenant, "email")
    hold = threading.Event()
    with LoopbackSmtpServer(tmp_path, hold_replies=hold) as server:
        worker = make_worker(dispatch_db, configs={"email": smtp_config(server)}, once=False)
        runner = threading.Thread(target=worker.run)
        try:
            runner.start()
            deadline = time.monotonic() + 30
            while not server.received and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.received, "the worker never sent"
            second = queue_invoice(dispatch_db, tenant, "email")
            worker.stop()
            runner.join(timeout=0.5)
            assert runner.is_alive()  # still waiting for the server's answer
        finally:
            hold.set()
            runner.join(timeout=30)
        assert not runner.is_alive()
    assert view(dispatch_db, tenant, first.entry_id).entry.status == "delivered"
    assert view(dispatch_db, tenant, second.entry_id).entry.status == "pending"


def test_an_idle_worker_publishes_a_partial_print_batch(dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    queued = [queue_invoice(dispatch_db, tenant, "print") for _ in range(2)]
    hot = tmp_path / "hot"
    make_worker(dispatch_db, configs={"print": {"hot_folder": str(hot), "batch_size": 10}}).run()
    [batch] = [p for p in hot.iterdir() if p.name.startswith("batch-")]
    assert len(list(batch.glob("*.pdf"))) == 2 and (batch / "manifest.json").exists()
    for q in queued:
        assert view(dispatch_db, tenant, q.entry_id).entry.status == "sent"


def test_the_destination_falls_back_to_the_customer_record(dispatch_db, make_tenant, tmp_path: Path):
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "email")
    with transaction(session_factory(dispatch_db)) as session:
        Customers(session, tenant).create({"code": "ACME", "name": "ACME", "language": "fr",
                                           "email": "compta@acme.example", "preferred_formats": ["cii"]}, CLI)
        record = Invoices(session, tenant).get(queued.invoice_id)
        record.customer_code = "ACME"
        entry = Outbox(session, tenant).get(queued.entry_id)
        entry.destination = {"to": None, "params": {}}  # queued without a settings snapshot
    with LoopbackSmtpServer(tmp_path) as server:
        make_worker(dispatch_db, configs={"email": smtp_config(server)}).run()
        [mail] = server.received
    assert mail.rcpt_tos == ["compta@acme.example"]
    assert [p.get_filename() for p in mail.message.iter_attachments()] == [f"{queued.number}-cii.xml"]


def test_email_adapter_is_made_from_the_pool_config(tmp_path):
    pool = AdapterPool({"email": {"from_address": "x@y.example"}})
    adapter = pool.get("email")
    assert isinstance(adapter, EmailAdapter) and adapter is pool.get("email")
    assert adapter.config.from_address == "x@y.example" and pool.idle() == []


def test_a_long_send_keeps_its_lease_alive(dispatch_db, make_tenant, tmp_path):
    """Leases of a second are renewed every third of one while the server sits on its answer."""
    tenant = make_tenant(dispatch_db)
    queued = queue_invoice(dispatch_db, tenant, "email")
    hold = threading.Event()
    with LoopbackSmtpServer(tmp_path, hold_replies=hold) as server:
        worker = make_worker(dispatch_db, configs={"email": smtp_config(server)}, once=False, lease=1)
        runner = threading.Thread(target=worker.run)
        try:
            runner.start()
            deadline = time.monotonic() + 30
            while not server.received and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.received, "the worker never sent"
            leases = set()
            for _ in range(10):  # 2.5 s: two and a half leases
                time.sleep(0.25)
                with transaction(session_factory(dispatch_db)) as session:
                    assert claim_due(session, "intruder", now=utcnow(), lease=timedelta(seconds=60), limit=5,
                                     actor=WORKER) == []
                leases.add(view(dispatch_db, tenant, queued.entry_id).entry.claimed_until)
            assert len(leases) >= 3  # pushed forward again and again
        finally:
            hold.set()
            worker.stop()
            runner.join(timeout=30)
    final = view(dispatch_db, tenant, queued.entry_id)
    assert final.entry.status == "delivered" and [a.outcome for a in final.attempts] == ["ok"]
