"""Payments through the API and the command line: statements, manual allocation and reversal, balances,
the ERP's recorded payment; another tenant's payments and invoices are out of reach."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from payments_helpers import invoice

from aiguillage.payments.testing.writers import Credit, camt, cfonb
from aiguillage.store.database import make_engine, session_factory, transaction

pytest_plugins = ["aiguillage.api.testing"]

D = Decimal
ROOT = Path(__file__).resolve().parents[1]


def _invoices(sqlite_url: str, tenant_id, *specs: tuple[str, str]) -> list:  # noqa: ANN001
    engine = make_engine(sqlite_url)
    try:
        with transaction(session_factory(engine)) as session:
            return [invoice(session, tenant_id, number, amount) for number, amount in specs]
    finally:
        engine.dispose()


def test_statement_through_the_api_then_manual_allocation_and_reversal(api_client, api_keys, sqlite_url):
    erp = api_keys("erp")
    first, second = _invoices(sqlite_url, erp.tenant_id, ("API-0001", "120.00"), ("API-0002", "80.00"))
    data = camt([Credit(D("120.00"), "Facture API-0001", "ACME", "", "A-1"),
                 Credit(D("80.00"), "merci", "Quelqu'un", "", "A-2")])
    response = api_client.post("/v1/statements?filename=day.xml", data=data,
                               headers={**erp.headers, "Content-Type": "application/xml"})
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["text"] == "statement: 2 lines, 1 allocated, 0 partially allocated, 1 unallocated"
    assert report["lines"][0]["text"].startswith("line 1: 120.00 EUR allocated to API-0001 120.00")
    again = api_client.post("/v1/statements", data=data, headers={**erp.headers, "Content-Type": "application/xml"})
    assert again.status_code == 409

    waiting = api_client.get("/v1/payments?status=unallocated", headers=erp.headers).get_json()["items"]
    assert [(p["amount"], p["note"]) for p in waiting] == [("80.00", "no reference, invoice number or known payer")]
    payment_id = waiting[0]["id"]
    allocated = api_client.post(f"/v1/payments/{payment_id}/allocations", json={"invoice_id": str(second)},
                                headers=erp.headers)
    assert allocated.status_code == 201 and allocated.get_json()["kind"] == "manual"
    balance = api_client.get(f"/v1/invoices/{second}/balance", headers=erp.headers).get_json()
    assert (balance["status"], balance["open"]) == ("paid", "0.00")
    assert balance["creditor_reference"].startswith("RF")

    reversed_ = api_client.post(f"/v1/allocations/{allocated.get_json()['id']}/reverse", headers=erp.headers)
    assert reversed_.status_code == 200 and reversed_.get_json()["reversed_by"].startswith("key:")
    assert api_client.get(f"/v1/invoices/{second}/balance", headers=erp.headers).get_json()["status"] == "open"
    twice = api_client.post(f"/v1/allocations/{allocated.get_json()['id']}/reverse", headers=erp.headers)
    assert twice.status_code == 400
    detail = api_client.get(f"/v1/payments/{payment_id}", headers=erp.headers).get_json()
    assert detail["status"] == "unallocated" and len(detail["allocations"]) == 1

    # Another tenant sees none of it and cannot allocate to it.
    stranger = api_keys("erp")
    assert api_client.get(f"/v1/payments/{payment_id}", headers=stranger.headers).status_code == 404
    assert api_client.get(f"/v1/invoices/{first}/balance", headers=stranger.headers).status_code == 404
    assert api_client.post(f"/v1/payments/{payment_id}/allocations", json={"invoice_id": str(second)},
                           headers=stranger.headers).status_code == 404
    assert api_client.get("/v1/payments", headers=stranger.headers).get_json()["items"] == []
    # Approvers read, but do not allocate.
    approver = api_keys("approver", erp.tenant_name)
    assert api_client.post(f"/v1/payments/{payment_id}/allocations", json={"invoice_id": str(second)},
                           headers=approver.headers).status_code == 403


def test_unreadable_statement_is_a_422_that_says_where(api_client, api_keys):
    erp = api_keys("erp")
    response = api_client.post("/v1/statements", data=b"<?xml version='1.0'?>\n<Document>\n<oops></Document>",
                               headers={**erp.headers, "Content-Type": "application/xml"})
    body = response.get_json()
    assert response.status_code == 422 and body["line"] == 3 and "malformed XML" in body["detail"]


def test_erp_payment_partial_then_the_rest(api_client, api_keys, sqlite_url):
    erp = api_keys("erp")
    [invoice_id] = _invoices(sqlite_url, erp.tenant_id, ("ERP-0001", "100.00"))
    part = api_client.post(f"/v1/invoices/{invoice_id}/payments", json={"amount": "30.00", "reference": "B-1"},
                           headers=erp.headers).get_json()
    assert (part["balance_status"], part["open"]) == ("partially_paid", "70.00")
    repeat = api_client.post(f"/v1/invoices/{invoice_id}/payments", json={"amount": "30.00", "reference": "B-1"},
                             headers=erp.headers).get_json()
    assert repeat["payment_id"] == part["payment_id"] and repeat["open"] == "70.00"  # not doubled
    rest = api_client.post(f"/v1/invoices/{invoice_id}/payments", json={}, headers=erp.headers).get_json()
    assert (rest["balance_status"], rest["open"]) == ("paid", "0.00")
    assert api_client.post(f"/v1/invoices/{invoice_id}/payments", json={}, headers=erp.headers).status_code == 409


def test_cli_statements_import_prints_each_line_and_the_summary(api_keys, sqlite_url, tmp_path):
    erp = api_keys("erp")
    _invoices(sqlite_url, erp.tenant_id, ("CLI-0001", "55.00"), ("CLI-0002", "45.00"))
    path = tmp_path / "releve.cfonb"
    path.write_bytes(cfonb([Credit(D("55.00"), "FACT CLI-0001", "ACME", reference="C-1"),
                            Credit(D("20.00"), "FACT CLI-0002 acompte", "ACME", reference="C-2"),
                            Credit(D("9.99"), "?", "X", reference="C-3")]))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIGUILLAGE_DATABASE_URL": sqlite_url}
    run = subprocess.run([sys.executable, "-m", "aiguillage", "statements", "import", str(path),
                          "--tenant", erp.tenant_name, "--database", sqlite_url],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "line 1: 55.00 EUR allocated to CLI-0001 55.00 (invoice_number)"
    assert lines[1].startswith("line 2: 20.00 EUR unallocated")  # no payer known: a number must match the amount
    assert lines[-1] == "statement: 3 lines, 1 allocated, 0 partially allocated, 2 unallocated"
    again = subprocess.run([sys.executable, "-m", "aiguillage", "statements", "import", str(path),
                            "--tenant", erp.tenant_name, "--database", sqlite_url],
                           capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 1 and "already imported" in again.stderr


def test_exports_allocations_open_items_and_e_reporting(api_client, api_keys, sqlite_url, tmp_path):
    erp = api_keys("erp")
    paid, part, untouched = _invoices(sqlite_url, erp.tenant_id, ("EXP-0001", "652.75"), ("EXP-0002", "100.00"),
                                      ("EXP-0003", "10.00"))
    api_client.post(f"/v1/invoices/{paid}/payments", json={"paid_on": "2026-11-20", "reference": "X-1"},
                    headers=erp.headers)
    api_client.post(f"/v1/invoices/{part}/payments", json={"paid_on": "2026-11-25", "amount": "40.00",
                                                           "reference": "X-2"}, headers=erp.headers)
    response = api_client.get("/v1/payments/exports/e-reporting?from=2026-11-01&to=2026-11-30", headers=erp.headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = [line.split(",") for line in response.get_data(as_text=True).strip().splitlines()]
    assert rows[0][:9] == ["invoice_number", "invoice_id", "invoice_issue_date", "customer_code", "payment_date",
                           "currency", "vat_category", "vat_rate", "amount_paid"]
    # The sample's VAT breakdown: 600.00 at 20 %, 52.75 at 5.5 %; each payment split in that proportion.
    by_invoice = {}
    for row in rows[1:]:
        by_invoice.setdefault(row[0], []).append((row[4], row[7], row[8]))
    assert by_invoice["EXP-0001"] == [("2026-11-20", "20", "600.00"), ("2026-11-20", "5.5", "52.75")]
    assert by_invoice["EXP-0002"] == [("2026-11-25", "20", "36.77"), ("2026-11-25", "5.5", "3.23")]
    outside = api_client.get("/v1/payments/exports/e-reporting?from=2026-12-01", headers=erp.headers)
    assert outside.get_data(as_text=True).count("\n") == 1  # the header only

    open_items = api_client.get("/v1/payments/exports/open-items", headers=erp.headers).get_data(as_text=True)
    lines = open_items.strip().splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["EXP-0002", "EXP-0003"]
    assert lines[1].split(",")[7:11] == ["100.00", "40.00", "60.00", "partially_paid"]
    allocations = api_client.get("/v1/payments/exports/allocations", headers=erp.headers).get_data(as_text=True)
    assert allocations.count("\n") == 3 and ",erp," in allocations
    assert api_client.get("/v1/payments/exports/nothing", headers=erp.headers).status_code == 404
    stranger = api_keys("erp")
    assert api_client.get("/v1/payments/exports/allocations", headers=stranger.headers).get_data(
        as_text=True).count("\n") == 1

    output = tmp_path / "open.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "aiguillage", "payments", "export", "open-items", "--tenant",
                          erp.tenant_name, "--database", sqlite_url, "--output", str(output)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"open-items: 2 rows written to {output}"
    assert output.read_text(encoding="utf-8") == open_items
    assert str(untouched) in open_items
