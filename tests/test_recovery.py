"""A server process SIGKILLed between storing an invoice and deciding it: the worker's recovery pass decides it.

The crash is real: `AIGUILLAGE_CRASH_AT=after-store` makes the gunicorn
worker kill itself right after the storing transaction commits. The ERP
sees a dropped connection; the invoice is in the store, `received`. Sent
again with the same key, it is answered as stored (and decided then); left
alone, `aiguillage worker` decides and delivers it.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from aiguillage.api.recovery import recover_received
from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord, OutboxEntry
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.testing import create_postgres_database, drop_postgres_database, new_tenant
from aiguillage.testing.cluster import Cluster, invoice_document

pytest_plugins = ["aiguillage.store.testing"]


@pytest.fixture
def cluster(tmp_path):
    url = create_postgres_database()
    cluster = Cluster(url.render_as_string(hide_password=False), tmp_path)
    cluster.setup()
    try:
        yield cluster
    finally:
        cluster.stop_all()
        drop_postgres_database(url)


def _invoices(url: str) -> dict[str, InvoiceRecord]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return {r.number: r for r in session.scalars(select(InvoiceRecord))}
    finally:
        engine.dispose()


def _wait(condition, seconds: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_crash_between_store_and_decision_is_recovered(cluster):
    healthy = cluster.serve("healthy", workers=1)
    cluster.publish_ruleset(healthy.base)
    crashing = cluster.serve("crashing", workers=1, env={"AIGUILLAGE_CRASH_AT": "after-store"})

    status, body = cluster.submit(crashing.base, invoice_document("CRASH-1"), "key-crash-1")
    assert status == 0, body  # the process died: no answer at all
    status, body = cluster.submit(crashing.base, invoice_document("CRASH-2", charge=21), "key-crash-2")
    assert status == 0, body
    stored = _invoices(cluster.url)
    assert {n: r.status for n, r in stored.items()} == {"CRASH-1": "received", "CRASH-2": "received"}

    # The ERP sends CRASH-1 again (same key) to a healthy server: answered with the stored invoice, decided now.
    status, body = cluster.submit(healthy.base, invoice_document("CRASH-1"), "key-crash-1")
    assert status == 202 and body["duplicate"] is False, body
    assert body["id"] == str(stored["CRASH-1"].id) and body["status"] == "queued"

    # Nobody sends CRASH-2 again: the worker's recovery pass decides it, and the delivery goes out.
    cluster.worker(recover_after=1.0)
    _wait(lambda: _invoices(cluster.url)["CRASH-2"].status == "delivered", 60, "CRASH-2 to be recovered and delivered")
    engine = make_engine(cluster.url)
    try:
        with session_factory(engine)() as session:
            entries = session.scalars(select(OutboxEntry)).all()
            assert sorted(e.status for e in entries) == ["delivered", "delivered"]
            recovered = stored["CRASH-2"].id
            from aiguillage.store.repositories.audit import AuditLog

            actions = [(e.actor, e.action) for e in AuditLog(session, stored["CRASH-2"].tenant_id).entries(
                target_id=recovered)]
            assert ("recovery", "invoice.decide") in actions
    finally:
        engine.dispose()
    publications = [json.loads(p.read_text()) for p in cluster.portal.glob("*/*/publication.json")]
    assert sorted(p["invoice_number"] for p in publications) == ["CRASH-1", "CRASH-2"]
    assert uuid.UUID(body["id"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_recovery_pass_decides_in_the_language_the_invoice_was_submitted_with(backend, request):
    """An invoice a crash left `received` is decided in its submitter's `?lang=`, not in English."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        tenant = new_tenant(engine)
        document = json.loads(invoice_document("LANG-1"))
        document["totals"]["amount_with_vat"] = "1.00"  # BR-CO-15 fails, with a message in each language
        ids = {}
        with sessions() as session:
            for lang in ("fr", None):  # as a crash between store and decision leaves them
                document["number"] = f"LANG-{lang}"
                data = json.dumps(document).encode()
                receipt = Invoices(session, tenant).receive(read_invoice(data, "test"), data, CLI, lang=lang)
                ids[lang] = receipt.invoice.id
            session.commit()
        # the database is shared with the worker's other tests: at least ours, whatever they left
        assert recover_received(sessions, older_than=timedelta(0), limit=100_000) >= 2
        with sessions() as session:
            assert "received" not in {Invoices(session, tenant).get(i).status for i in ids.values()}
            messages = {}
            for lang, invoice_id in ids.items():
                [decision] = Invoices(session, tenant).decisions(invoice_id)
                messages[lang] = {f["rule"]: f["message"] for f in decision.result["findings"]}["BR-CO-15"]
        assert messages["fr"].startswith("Le total TTC 1.00 n'est pas égal")
        assert messages[None].startswith("Total with VAT 1.00 is not")  # stored before `lang` was kept: English
    finally:
        engine.dispose()
