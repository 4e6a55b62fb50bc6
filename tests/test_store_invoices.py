"""Invoices: store first, idempotent on Idempotency-Key and on (seller, number), exact money,
decisions, outbox de-duplication and delivery attempts, tenant isolation; on both backends."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.actor import WORKER, Actor
from aiguillage.store.base import utcnow
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import (
    DuplicateInvoiceNumber,
    IdempotencyKeyReused,
    Invoices,
    invoice_from_record,
    seller_key,
)
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.store.vocabulary import InvoiceStatus, OutboxStatus

pytest_plugins = ["aiguillage.store.testing"]

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0042.json"
ERP = Actor("key:aig_erp00001", role="erp")


def _invoice(number: str = "F2026-0042", **changes):
    data = SAMPLE.read_bytes()
    invoice = read_invoice(data, "sample.json")
    invoice.number = number
    for name, value in changes.items():
        setattr(invoice, name, value)
    return invoice, data


def test_receive_stores_bytes_model_and_exact_amounts(store_tx, tenant_id):
    invoice, data = _invoice()
    invoice.totals.amount_with_vat = Decimal("123456789012.345678")
    with store_tx() as session:
        receipt = Invoices(session, tenant_id).receive(
            invoice, data, ERP, content_type="application/json", customer_code="ACME-FR-001"
        )
        assert receipt.created
        invoice_id = receipt.invoice.id
    with store_tx() as session:
        record = Invoices(session, tenant_id).get(invoice_id)
        assert record.document == data
        assert record.status == InvoiceStatus.RECEIVED
        assert record.syntax == "json"
        assert record.seller_key == "vat:FR44412345678"
        assert record.amount_with_vat == Decimal("123456789012.345678")
        assert record.model["totals"]["amount_with_vat"] == "123456789012.345678"
        again = invoice_from_record(record)
        assert again.totals.amount_with_vat == Decimal("123456789012.345678")
        assert again.lines[0].net_amount == invoice.lines[0].net_amount
        trail = AuditLog(session, tenant_id).entries(target_type="invoice", target_id=invoice_id)
        assert [e.action for e in trail] == ["invoice.receive"]


def test_same_idempotency_key_returns_the_first_invoice(store_tx, tenant_id):
    invoice, data = _invoice("IDEM-1")
    with store_tx() as session:
        first = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="req-1")
    with store_tx() as session:
        again = Invoices(session, tenant_id).receive(invoice, data + b"\n", ERP, idempotency_key="req-1")
    assert not again.created and again.invoice.id == first.invoice.id

    other, other_data = _invoice("IDEM-2")
    with pytest.raises(IdempotencyKeyReused) as caught, store_tx() as session:
        Invoices(session, tenant_id).receive(other, other_data, ERP, idempotency_key="req-1")
    assert caught.value.existing_id == first.invoice.id


def test_same_seller_and_number_is_a_resend_or_a_duplicate(store_tx, tenant_id):
    invoice, data = _invoice("NUM-1")
    with store_tx() as session:
        first = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="a")
    with store_tx() as session:
        resend = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="b")
    assert not resend.created and resend.invoice.id == first.invoice.id

    changed, _ = _invoice("NUM-1", due_date=None)
    with pytest.raises(DuplicateInvoiceNumber, match="used once"), store_tx() as session:
        Invoices(session, tenant_id).receive(changed, data, ERP)

    other_seller, _ = _invoice("NUM-1")
    other_seller.seller.vat_identifier = "FR00999999999"
    with store_tx() as session:
        assert Invoices(session, tenant_id).receive(other_seller, data, ERP).created


def test_concurrent_submissions_store_one_invoice(store_engine, tenant_id):
    invoice, data = _invoice("RACE-1")
    factory = session_factory(store_engine)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction(factory) as session:
                receipt = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="race")
                results.append((receipt.invoice.id, receipt.created))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({invoice_id for invoice_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]


def test_seller_key_prefers_the_most_stable_identifier():
    invoice, _ = _invoice()
    assert seller_key(invoice) == "vat:FR44412345678"
    invoice.seller.vat_identifier = None
    assert seller_key(invoice) == "legal:0009:41234567800012"
    invoice.seller = None
    assert seller_key(invoice) == ""


def test_idempotency_key_length_is_checked(store_tx, tenant_id):
    invoice, data = _invoice("LONG-KEY")
    with pytest.raises(Invalid), store_tx() as session:
        Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="k" * 256)


def test_decisions_listing_and_status(store_tx, tenant_id):
    with store_tx() as session:
        invoices = Invoices(session, tenant_id)
        ids = []
        for n in range(3):
            invoice, data = _invoice(f"LIST-{n}")
            ids.append(invoices.receive(invoice, data, ERP, customer_code="ACME" if n else "OTHER").invoice.id)
        decision = invoices.record_decision(
            ids[0],
            "route",
            {"findings": [], "routes": [{"channel": "peppol"}], "total": Decimal("652.75")},
            WORKER,
            status=InvoiceStatus.QUEUED,
            ruleset_hash="0" * 64,
        )
        assert decision.result["total"] == "652.75"
        assert invoices.get(ids[0]).status == InvoiceStatus.QUEUED
        assert [d.id for d in invoices.decisions(ids[0])] == [decision.id]
        with pytest.raises(Invalid, match="floats"):
            invoices.record_decision(ids[1], "route", {"total": 1.5}, WORKER, status="queued")

    with store_tx() as session:
        invoices = Invoices(session, tenant_id)
        assert {r.id for r in invoices.page(status="queued")} == {ids[0]}
        assert {r.id for r in invoices.page(customer_code="ACME")} == set(ids[1:])
        first_page = invoices.page(limit=2)
        last = first_page[-1]
        rest = invoices.page(before=(last.received_at, last.id), limit=2)
        assert {r.id for r in first_page + rest} == set(ids) and len(first_page + rest) == 3
        actions = [e.action for e in AuditLog(session, tenant_id).entries(target_type="invoice", target_id=ids[0])]
        assert actions == ["invoice.status", "invoice.decide", "invoice.receive"]


def test_outbox_deduplicates_and_records_attempts(store_tx, tenant_id):
    invoice, data = _invoice("OUT-1")
    with store_tx() as session:
        invoice_id = Invoices(session, tenant_id).receive(invoice, data, ERP).invoice.id
        outbox = Outbox(session, tenant_id)
        queued = outbox.enqueue(invoice_id, "email", {"to": "ap@acme.example"}, f"{invoice_id}:email", WORKER, format="facturx")
        again = outbox.enqueue(invoice_id, "email", {"to": "ap@acme.example"}, f"{invoice_id}:email", WORKER)
        assert queued.created and not again.created and again.entry.id == queued.entry.id
        with pytest.raises(Invalid, match="unknown channel"):
            outbox.enqueue(invoice_id, "pigeon", {}, "x", WORKER)

        started = utcnow()
        outbox.record_attempt(queued.entry.id, "failed", WORKER, started_at=started, detail="421 try later",
                              status=OutboxStatus.PENDING, next_attempt_at=started)
        outbox.record_attempt(queued.entry.id, "ok", WORKER, started_at=started, remote_id="<m1@smtp>",
                              status=OutboxStatus.SENT)
        entry = outbox.get(queued.entry.id)
        assert (entry.status, entry.attempts, entry.last_error) == ("sent", 2, None)
        assert [(a.number, a.outcome) for a in outbox.attempts(entry.id)] == [(1, "failed"), (2, "ok")]
        assert [e.id for e in outbox.for_invoice(invoice_id)] == [entry.id]


def test_another_tenants_invoice_is_not_found(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    invoice, data = _invoice("ISO-1")
    with store_tx() as session:
        their_id = Invoices(session, theirs).receive(invoice, data, ERP, idempotency_key="k").invoice.id
    with store_tx() as session:
        invoices, outbox = Invoices(session, mine), Outbox(session, mine)
        for attempt in (
            lambda: invoices.get(their_id),
            lambda: invoices.decisions(their_id),
            lambda: invoices.set_status(their_id, "rejected", ERP),
            lambda: invoices.record_decision(their_id, "route", {}, ERP, status="queued"),
            lambda: outbox.enqueue(their_id, "email", {}, "k", ERP),
        ):
            with pytest.raises(NotFound):
                attempt()
        assert invoices.page() == []
        # The same idempotency key and number are free in another tenant.
        assert invoices.receive(invoice, data, ERP, idempotency_key="k").created


def test_a_submission_racing_an_uncommitted_one_returns_the_winner(store_engine, tenant_id):
    """B looks up while A's insert is uncommitted, then collides with it on the unique key."""
    invoice, data = _invoice("RACE-2")
    factory = session_factory(store_engine)
    outcome: list[object] = []

    def submit_b() -> None:
        try:
            with transaction(factory) as session:
                receipt = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="race-2")
                outcome.append((receipt.invoice.id, receipt.created))
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome.append(exc)

    with transaction(factory) as session:
        winner = Invoices(session, tenant_id).receive(invoice, data, ERP, idempotency_key="race-2")
        b = threading.Thread(target=submit_b)
        b.start()
        b.join(timeout=0.5)  # B is now blocked: on the unique index (PostgreSQL) or the write lock (SQLite)
        assert b.is_alive()
    b.join(timeout=30)
    assert outcome == [(winner.invoice.id, False)]
