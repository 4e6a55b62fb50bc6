"""Correlation rules in durable_rules: a probable duplicate is held, an unusual amount is a warning."""

from __future__ import annotations

from datetime import timedelta

from workflow_helpers import ERP, T0, decision_result, stored_invoice

from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.workflows.correlation import UNUSUAL_MIN_HISTORY, observe_invoice
from aiguillage.workflows.sessions import Workflows

pytest_plugins = ["aiguillage.store.testing"]

QUEUED = decision_result(approval=None)


def _observe(store_tx, tenant_id, number, *, customer="ACME", amount=None, issue_date=None, at=T0, window_s=86400 * 30):  # noqa: ANN001, ANN202
    with store_tx() as session:
        invoice_id = stored_invoice(session, tenant_id, number, customer=customer, amount=amount,
                                    issue_date=issue_date, result=QUEUED)
        seen = observe_invoice(session, tenant_id, invoice_id, ERP, window_s=window_s, now=at)
    return invoice_id, seen


def test_same_buyer_amount_and_date_within_the_window_is_held(store_tx, tenant_id):
    first, seen = _observe(store_tx, tenant_id, "C-1", amount="100.00", issue_date="2026-11-20")
    assert seen.duplicate_of is None
    second, seen = _observe(store_tx, tenant_id, "C-2", amount="100.00", issue_date="2026-11-20",
                            at=T0 + timedelta(days=1))
    assert (seen.duplicate_of, seen.duplicate_by) == (str(first), "buyer, amount and date")
    with store_tx() as session:
        invoices = Invoices(session, tenant_id)
        assert invoices.get(second).status == "held"
        assert invoices.get(first).status == "queued"
        assert "invoice.duplicate" in [e.action for e in AuditLog(session, tenant_id).entries(target_id=second)]


def test_same_number_spelt_differently_is_held(store_tx, tenant_id):
    # The store refuses the same (seller, number) twice; the rule catches the same number spelt differently.
    first, _ = _observe(store_tx, tenant_id, "N-77", customer="B", amount="10.00")
    second, seen = _observe(store_tx, tenant_id, "n-77 ", customer="B", amount="11.00", at=T0 + timedelta(hours=1))
    assert (seen.duplicate_of, seen.duplicate_by) == (str(first), "number")
    with store_tx() as session:
        assert Invoices(session, tenant_id).get(second).status == "held"


def test_outside_the_window_is_not_a_duplicate_and_old_facts_are_dropped(store_tx, tenant_id):
    _observe(store_tx, tenant_id, "W-1", customer="W", amount="5.00", issue_date="2026-11-01", window_s=3600)
    _, seen = _observe(store_tx, tenant_id, "W-2", customer="W", amount="5.00", issue_date="2026-11-01",
                       at=T0 + timedelta(hours=2), window_s=3600)
    assert seen.duplicate_of is None
    with store_tx() as session:
        row = Workflows(session, tenant_id).find("correlation", "customer:W")
        assert [f["number"] for f in row.state["facts"]] == ["W-2"]
        assert row.state["state"]["count"] == 2


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
        assert Invoices(session, tenant_id).get(invoice_id).status == "queued"
