"""Payments in the store (SQLite and PostgreSQL): balances, allocations and their reversal, statements.

Statements are written in the banks' real formats (camt.053/054, MT940,
CFONB 120) and read back through the product's readers.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from payments_helpers import ERP, customer, invoice
from sqlalchemy import select
from stdnum import iso11649

from aiguillage.payments.importing import import_statement
from aiguillage.payments.ledger import Ledger, payment_status
from aiguillage.payments.statements import StatementError, read_statement
from aiguillage.payments.testing.writers import Credit, camt, cfonb, mt940
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.models import AuditEntry
from aiguillage.store.payment_models import Allocation, Payment

pytest_plugins = ["aiguillage.store.testing"]

D = Decimal
IBAN = "FR7630006000011234567890189"


def test_payment_status_for_invoices_and_credit_notes():
    assert [payment_status(D("100"), D(a)) for a in ("0", "40", "100", "120")] == \
        ["open", "partially_paid", "paid", "over_paid"]
    assert [payment_status(D("-30"), D(a)) for a in ("0", "-10", "-30")] == ["open", "partially_paid", "paid"]


def test_balance_reference_and_manual_allocation_reversal_audited(store_tx, tenant_id):
    with store_tx() as session:
        invoice_id = invoice(session, tenant_id, "F2026-0100", "100.00")
        ledger = Ledger(session, tenant_id)
        balance = ledger.balance(invoice_id)
        assert (balance.status, balance.amount_due) == ("open", D("100.00"))
        assert iso11649.is_valid(balance.creditor_reference) and balance.creditor_reference[4:] == "F20260100"
        payment, created = ledger.record(ERP, source="manual", dedupe_key="erp:B1", amount=D("150.00"),
                                         currency="EUR", received_on=balance.issue_date)
        assert created and ledger.record(ERP, source="manual", dedupe_key="erp:B1", amount=D("150.00"),
                                         currency="EUR", received_on=balance.issue_date) == (payment, False)
        first = ledger.allocate_manually(payment.id, invoice_id, D("60.00"), ERP)
        assert (balance.status, payment.status, payment.unapplied) == ("partially_paid", "partially_allocated",
                                                                      D("90.00"))
        ledger.allocate_manually(payment.id, invoice_id, D("60.00"), ERP)
        assert balance.status == "over_paid" and balance.paid_at is not None
        with pytest.raises(Invalid, match="only 30.00"):
            ledger.allocate_manually(payment.id, invoice_id, D("31.00"), ERP)
        ledger.reverse(first.id, ERP)
        assert (balance.status, balance.allocated, payment.unapplied) == ("partially_paid", D("60.00"), D("90.00"))
        with pytest.raises(Invalid, match="already reversed"):
            ledger.reverse(first.id, ERP)
    with store_tx() as session:
        rows = session.scalars(select(Allocation).where(Allocation.tenant_id == tenant_id)).all()
        assert sorted((r.amount, r.reversed_by is not None) for r in rows) == [(D("60.00"), False),
                                                                                (D("60.00"), True)]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)).all()
        assert actions.count("allocation.manual") == 2 and "allocation.reverse" in actions


@pytest.mark.parametrize("writer", ["camt.053", "camt.054", "mt940", "cfonb120"])
def test_statement_import_allocates_what_the_evidence_allows(store_tx, tenant_id, writer):
    with store_tx() as session:
        customer(session, tenant_id, "ACME", "ACME SARL")
        customer(session, tenant_id, "BETA", "Beta Industries")
        a = invoice(session, tenant_id, "F2026-0001", "100.00", issued=_day(1))
        b = invoice(session, tenant_id, "F2026-0002", "250.00", issued=_day(2))
        c = invoice(session, tenant_id, "F2026-0003", "80.00", issued=_day(3))
        d = invoice(session, tenant_id, "F2026-0004", "500.00", customer="BETA", issued=_day(4))
        e = invoice(session, tenant_id, "F2026-0005", "75.00", customer="BETA", issued=_day(5))
        reference = Ledger(session, tenant_id).balance(d).creditor_reference
    credits = [
        Credit(D("100.00"), "Facture F2026-0001", "ACME SARL", IBAN, "BK-1"),           # number and amount
        Credit(D("200.00"), "", "Beta Industries", "", "BK-2", structured=reference),  # RF, partial
        Credit(D("330.00"), "virement", "Someone", IBAN, "BK-3"),                      # IBAN learnt: 250 + 80
        Credit(D("75.00"), "", "BETA INDUSTRIES SA", "", "BK-4"),                      # by name and amount
        Credit(D("42.00"), "don", "Inconnu", "DE89370400440532013000", "BK-5"),        # nothing to go on
    ]
    data = {"camt.053": lambda: camt(credits), "camt.054": lambda: camt(credits, notification=True),
            "mt940": lambda: mt940(credits), "cfonb120": lambda: cfonb(credits)}[writer]()
    with store_tx() as session:
        report = import_statement(session, tenant_id, data, ERP, filename="s")
        ledger = Ledger(session, tenant_id)
        statuses = {b_.number: b_.status for b_ in ledger.balances([a, b, c, d, e])}
    by_line = {o.number: o for o in report.lines}
    assert statuses["F2026-0001"] == "paid" and statuses["F2026-0004"] == "partially_paid"
    assert statuses["F2026-0005"] == "paid"
    assert by_line[5].status == "unallocated" and "no reference" in by_line[5].reason
    if writer == "cfonb120":  # CFONB carries no payer IBAN: line 3 cannot be told from the text
        assert by_line[3].status == "unallocated" and statuses["F2026-0002"] == "open"
        assert report.last_line() == "statement: 5 lines, 3 allocated, 0 partially allocated, 2 unallocated"
    else:
        assert statuses["F2026-0002"] == statuses["F2026-0003"] == "paid"
        assert by_line[3].invoices == [("F2026-0002", D("250.00")), ("F2026-0003", D("80.00"))]
        assert report.last_line() == "statement: 5 lines, 4 allocated, 0 partially allocated, 1 unallocated"
    # The same file again is refused; the same credits in another file are recorded once.
    with store_tx() as session, pytest.raises(Conflict, match="already imported"):
        import_statement(session, tenant_id, data, ERP)
    if writer.startswith("camt"):
        with store_tx() as session:
            again = import_statement(session, tenant_id, camt(credits[:2], account="FR7630006000011234567890189",
                                                              notification=writer == "camt.053"), ERP)
            assert [o.status for o in again.lines] == ["duplicate", "duplicate"]
            assert session.scalars(select(Payment).where(Payment.tenant_id == tenant_id)).all().__len__() == 5


def test_two_payments_for_one_invoice_and_one_for_many(store_tx, tenant_id):
    with store_tx() as session:
        x = invoice(session, tenant_id, "XA-0001", "90.00", issued=_day(1))
        invoice(session, tenant_id, "XA-0002", "10.00", issued=_day(2))
        ledger = Ledger(session, tenant_id)
        ref = ledger.balance(x).creditor_reference
    with store_tx() as session:
        report = import_statement(session, tenant_id, camt([
            Credit(D("40.00"), "", "ACME", "", "P-1", structured=ref),
            Credit(D("50.00"), "", "ACME", "", "P-2", structured=ref),
            Credit(D("10.00"), "XA-0002 et XA-0001 solde", "ACME", "", "P-3"),
        ]), ERP)
        assert [o.status for o in report.lines] == ["allocated", "allocated", "allocated"]
        assert Ledger(session, tenant_id).balance(x).status == "paid"


def test_bad_statements_say_where(tmp_path):
    lines = cfonb([Credit(D("1.00"), "x")]).decode("latin-1").splitlines()
    lines[1] = lines[1][:90] + "0000000000001X" + lines[1][104:]  # X is no CFONB sign
    with pytest.raises(StatementError, match=r"line 2, column 91, field montant: .*not a CFONB signed amount"):
        read_statement("\n".join(lines).encode("latin-1"), format="cfonb120")
    with pytest.raises(StatementError, match=r"line 2, column 1, field code enregistrement: a 05 complement record with no 04"):
        read_statement("\n".join(lines[:1] + ["05" + " " * 118] + lines[1:]).encode("latin-1"), format="cfonb120")
    with pytest.raises(StatementError, match=r"line 3, column 12: malformed XML"):
        read_statement(b"<?xml version='1.0'?>\n<Document><BkToCstmrStmt>\n</Document>")
    with pytest.raises(StatementError, match="CdtDbtInd"):
        read_statement(camt([Credit(D("1.00"), "x")]).replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>X</CdtDbtInd>"))
    with pytest.raises(StatementError, match="unknown statement format"):
        read_statement(b"hello")


def _day(n: int):  # noqa: ANN202
    from datetime import date

    return date(2026, 10, n)


def test_a_credit_note_offsets_the_invoice_it_is_paid_with(store_tx, tenant_id):
    with store_tx() as session:
        bill = invoice(session, tenant_id, "CN-F-0001", "100.00", issued=_day(1))
        credit = invoice(session, tenant_id, "CN-A-0001", "30.00", issued=_day(2), type_code="381")
        assert Ledger(session, tenant_id).balance(credit).amount_due == D("-30.00")
    with store_tx() as session:
        report = import_statement(session, tenant_id, mt940([
            Credit(D("70.00"), "Fact CN-F-0001 moins avoir CN-A-0001", "ACME", IBAN, "CN-1")]), ERP)
        ledger = Ledger(session, tenant_id)
        assert [o.status for o in report.lines] == ["allocated"]
        assert {b.number: b.status for b in ledger.balances([bill, credit])} == {"CN-F-0001": "paid",
                                                                                 "CN-A-0001": "paid"}


def test_reminders_stop_when_a_statement_pays_the_invoice_not_before(store_tx, tenant_id):
    from workflow_helpers import T0, decision_result, stored_invoice

    from aiguillage.workflows import starting
    from aiguillage.workflows.sessions import Workflows, invoice_sid

    with store_tx() as session:
        invoice_id = stored_invoice(session, tenant_id, "REM-0001", result=decision_result(
            approval=None, params={"remind_every": "7d", "remind_max": 3}))
        assert starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
        reference = Ledger(session, tenant_id).balance(invoice_id).creditor_reference
    with store_tx() as session:
        import_statement(session, tenant_id, camt([Credit(D("100.00"), "", "ACME", "", "R-1",
                                                          structured=reference)]), ERP)
        row = Workflows(session, tenant_id).find("reminder", invoice_sid(invoice_id))
        assert row.status != "paid"  # part paid: the reminders go on
    with store_tx() as session:
        import_statement(session, tenant_id, camt([Credit(D("552.75"), "", "ACME", "", "R-2",
                                                          structured=reference)]), ERP)
        assert Ledger(session, tenant_id).balance(invoice_id).status == "paid"
        assert Workflows(session, tenant_id).find("reminder", invoice_sid(invoice_id)).status == "paid"


def test_concurrent_imports_never_double_a_payment(postgres_url, make_tenant):
    """On PostgreSQL (SQLite serialises writers, so the race is PostgreSQL's)."""
    import threading

    from aiguillage.store.database import make_engine, session_factory, transaction

    engine = make_engine(postgres_url)
    tenant_id = make_tenant(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        for n in range(1, 21):
            invoice(session, tenant_id, f"RACE-{n:04d}", "10.00")
    credits = [Credit(D("10.00"), f"Facture RACE-{n:04d}", "ACME", "", f"RC-{n}") for n in range(1, 21)]
    files = [camt(credits), camt(credits), camt(credits[5:], notification=True), mt940(credits[:10])]
    results: list[str] = []
    barrier = threading.Barrier(len(files))

    def run(data: bytes) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as session:
                report = import_statement(session, tenant_id, data, ERP)
            results.append(report.last_line())
        except Conflict as exc:
            results.append(f"conflict: {exc.message}")

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 4 and all(r.startswith(("statement: ", "conflict: ")) for r in results), results
    assert sum(r.startswith("statement: ") for r in results) >= 1
    assert sum("is being imported by another request" in r for r in results) <= 1  # the same file twice
    with transaction(sessions) as session:
        payments = session.scalars(select(Payment).where(Payment.tenant_id == tenant_id)).all()
        keys = [p.dedupe_key for p in payments]
        assert len(keys) == len(set(keys)) and len({p.reference for p in payments}) == len(payments)
        allocated = sum((b.allocated for b in Ledger(session, tenant_id).balances()), D(0))
        assert allocated == sum((p.amount - p.unapplied for p in payments), D(0)) <= D("200.00")
        assert all(b.allocated <= b.amount_due for b in Ledger(session, tenant_id).balances())
    # Whatever lost a race can be imported again and finishes the work.
    for data in files[2:]:
        with contextlib.suppress(Conflict), transaction(sessions) as session:  # Conflict: the winner had it
            import_statement(session, tenant_id, data, ERP)
    with transaction(sessions) as session:
        assert {b.status for b in Ledger(session, tenant_id).balances()} == {"paid"}
    engine.dispose()
