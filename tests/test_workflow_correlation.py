"""Look-alike checks as store queries: a probable duplicate is held, an unusual amount is a warning.

They used to be a durable_rules session per customer holding the whole
duplicate window (issue 11: it crashed under concurrent submission); now each
check is one indexed statement, correct under concurrency on both databases.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from workflow_helpers import ERP, T0, decision_result, stored_invoice

from aiguillage.store.lookalike_models import AmountStatistic, InvoiceFingerprint
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.workflow_models import WorkflowState
from aiguillage.workflows.duplicates import UNUSUAL_MIN_HISTORY, check_duplicate

pytest_plugins = ["aiguillage.store.testing"]

QUEUED = decision_result(approval=None)


def _observe(store_tx, tenant_id, number, *, customer="ACME", amount=None, issue_date=None, at=T0, window_s=86400 * 30):  # noqa: ANN001, ANN202
    with store_tx() as session:
        invoice_id = stored_invoice(session, tenant_id, number, customer=customer, amount=amount,
                                    issue_date=issue_date, result=QUEUED)
        seen = check_duplicate(session, tenant_id, invoice_id, ERP, window_s=window_s, now=at)
    return invoice_id, seen


def test_same_buyer_amount_and_date_within_the_window_is_held(store_tx, tenant_id):
    first, seen = _observe(store_tx, tenant_id, "C-1", amount="100.00", issue_date="2026-11-20")
    assert seen.duplicate_of is None
    second, seen = _observe(store_tx, tenant_id, "C-2", amount="100.00", issue_date="2026-11-20",
                            at=T0 + timedelta(days=1))
    assert (seen.duplicate_of, seen.duplicate_by) == (str(first), "buyer, amount and date")
    _, seen = _observe(store_tx, tenant_id, "C-3", amount="100.00", issue_date="2026-11-21")
    assert seen.duplicate_of is None  # another date: a monthly subscription, not a duplicate
    with store_tx() as session:
        invoices = Invoices(session, tenant_id)
        assert invoices.get(second).status == "held"
        assert "probable duplicate" in next(e.detail["reason"] for e in AuditLog(session, tenant_id).entries(
            target_id=second) if e.action == "invoice.status")
        assert invoices.get(first).status == "queued"
        assert "invoice.duplicate" in [e.action for e in AuditLog(session, tenant_id).entries(target_id=second)]


def test_same_number_spelt_differently_is_held(store_tx, tenant_id):
    # The store refuses the same (seller, number) twice; the check catches the same number spelt differently.
    first, _ = _observe(store_tx, tenant_id, "N-77", customer="B", amount="10.00")
    second, seen = _observe(store_tx, tenant_id, "n-77 ", customer="B", amount="11.00", at=T0 + timedelta(hours=1))
    assert (seen.duplicate_of, seen.duplicate_by) == (str(first), "number")
    with store_tx() as session:
        assert Invoices(session, tenant_id).get(second).status == "held"


def test_outside_the_window_is_not_a_duplicate_and_takes_the_fingerprint_over(store_tx, tenant_id):
    _observe(store_tx, tenant_id, "W-1", customer="W", amount="5.00", issue_date="2026-11-01", window_s=3600)
    second, seen = _observe(store_tx, tenant_id, "W-2", customer="W", amount="5.00", issue_date="2026-11-01",
                            at=T0 + timedelta(hours=2), window_s=3600)
    assert seen.duplicate_of is None
    _, seen = _observe(store_tx, tenant_id, "W-3", customer="W", amount="5.00", issue_date="2026-11-01",
                       at=T0 + timedelta(hours=2, minutes=30), window_s=3600)
    assert seen.duplicate_of == str(second)  # the window now runs from W-2


def test_asking_again_for_the_same_invoice_finds_nothing_new(store_tx, tenant_id):
    first, _ = _observe(store_tx, tenant_id, "R-1", customer="R", amount="7.00", issue_date="2026-11-03")
    with store_tx() as session:
        assert check_duplicate(session, tenant_id, first, ERP, now=T0).duplicate_of is None


def test_amount_far_above_the_customers_usual_is_a_warning(store_tx, tenant_id):
    for index in range(UNUSUAL_MIN_HISTORY):
        _, seen = _observe(store_tx, tenant_id, f"U-{index}", customer="U", amount=f"{100 + index}.00",
                           issue_date=f"2026-10-{index + 1:02d}")
        assert not seen.unusual
    invoice_id, seen = _observe(store_tx, tenant_id, "U-big", customer="U", amount="9000.00", issue_date="2026-11-02")
    assert seen.unusual and seen.duplicate_of is None
    with store_tx() as session:
        entry = next(e for e in AuditLog(session, tenant_id).entries(target_id=invoice_id)
                     if e.action == "invoice.unusual_amount")
        assert entry.detail["severity"] == "warning"
        assert entry.detail["usual_limit_cents"] == 51000  # mean of 100..104 is 102.00, times 5
        assert Invoices(session, tenant_id).get(invoice_id).status == "queued"


def test_state_does_not_grow_with_invoices(store_tx, tenant_id):
    """No session holds a window: one fingerprint per distinct look-alike, a fixed number of statistic rows."""
    for index in range(40):
        _observe(store_tx, tenant_id, f"G-{index}", customer="G", amount="20.00", issue_date=f"2026-11-{index % 4 + 1:02d}")
    with store_tx() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowState).where(WorkflowState.tenant_id == tenant_id)) == 0
        kinds = dict(session.execute(select(InvoiceFingerprint.kind, func.count()).where(InvoiceFingerprint.tenant_id == tenant_id)
                                     .group_by(InvoiceFingerprint.kind)).all())
        assert kinds == {"number": 40, "buyer-amount-date": 4}
        assert session.scalar(select(func.count()).select_from(AmountStatistic)
                              .where(AmountStatistic.tenant_id == tenant_id)) <= 8
        assert session.scalar(select(func.sum(AmountStatistic.count)).where(AmountStatistic.tenant_id == tenant_id)) == 40
        held = Invoices(session, tenant_id).page(status="held", limit=500)
        assert len(held) == 36


@pytest.mark.parametrize("threads", [8])
def test_concurrent_look_alikes_hold_all_but_one(store_engine, store_tx, tenant_id, threads):
    """Many processes' worth of concurrent submissions of one look-alike: exactly one is not held."""
    from aiguillage.store.database import session_factory

    with store_tx() as session:
        ids = [stored_invoice(session, tenant_id, f"P-{i}", customer="P", amount="30.00", issue_date="2026-11-05",
                              result=QUEUED) for i in range(threads * 3)]
    factory = session_factory(store_engine)
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(chunk: list) -> None:  # noqa: ANN001
        barrier.wait()
        for invoice_id in chunk:
            try:
                with factory() as session, session.begin():
                    check_duplicate(session, tenant_id, invoice_id, ERP, window_s=86400)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    workers = [threading.Thread(target=run, args=(ids[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with store_tx() as session:
        statuses = [Invoices(session, tenant_id).get(i).status for i in ids]
        assert statuses.count("queued") == 1 and statuses.count("held") == len(ids) - 1
        assert session.scalar(select(func.sum(AmountStatistic.count)).where(AmountStatistic.tenant_id == tenant_id)) == len(ids)
