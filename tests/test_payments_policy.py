"""A customer's allocation policy written in its ruleset: parsed, checked at its line, formatted, and used when
a statement is imported; and the `creditor_reference` function rulesets call to write BT-83."""

from __future__ import annotations

from decimal import Decimal

from payments_helpers import ERP, invoice
from stdnum import iso11649
from test_engine_support import problems

from aiguillage.dsl.allocation_params import allocation_settings
from aiguillage.dsl.formatter import format_text
from aiguillage.dsl.parser import parse_text
from aiguillage.payments.importing import import_statement
from aiguillage.payments.ledger import Ledger
from aiguillage.payments.rules import policies
from aiguillage.payments.testing.writers import Credit, camt
from aiguillage.store.repositories.rulesets import Rulesets

pytest_plugins = ["aiguillage.store.testing"]

D = Decimal
RULESET = '''ruleset "acme" version 1
customer "ACME"
allocation with (tolerance = 0.50, order = "due", write_off = 2)

enrich

  rule "RF reference"
    set payment_instructions.remittance_information = creditor_reference(number)
'''


def test_the_allocation_line_parses_formats_and_reads_back():
    settings = allocation_settings(parse_text(RULESET))
    assert settings == {"tolerance": D("0.50"), "order": "due", "write_off": D("2")}
    assert format_text(RULESET) == RULESET
    assert allocation_settings(parse_text('ruleset "x"\n')) is None


def test_mistakes_fail_the_check_at_their_column(tmp_path):
    text = 'ruleset "x"\nallocation with (tolerence = 1, order = "newest", write_off = -1)\n'
    found = problems(tmp_path, text)
    assert "t.rules:2:30: unknown allocation parameter 'tolerence'; did you mean tolerance?" in found
    assert 't.rules:2:41: order takes "oldest" or "due", not "newest"' in found
    assert "t.rules:2:63: write_off takes an amount of zero or more such as 0.50, not -1" in found
    twice = problems(tmp_path, 'ruleset "x"\nallocation with (order = "due")\nallocation with (order = "due")\n')
    assert any("'allocation' is given twice" in p for p in twice)
    assert problems(tmp_path, RULESET) == []


def test_the_published_policy_decides_the_import(store_tx, tenant_id):
    with store_tx() as session:
        rulesets = Rulesets(session, tenant_id)
        ruleset = rulesets.create("acme", ERP, customer_code="ACME", content=RULESET)
        rulesets.publish(ruleset.id, ERP)
        first = invoice(session, tenant_id, "POL-0001", "100.00")
        reference = Ledger(session, tenant_id).balance(first).creditor_reference
        second = invoice(session, tenant_id, "POL-0002", "100.00", customer="OTHER")
        other_reference = Ledger(session, tenant_id).balance(second).creditor_reference
        assert policies(session, tenant_id)("ACME").tolerance == D("0.50")
        assert policies(session, tenant_id)("OTHER").tolerance == D("0")
    with store_tx() as session:
        report = import_statement(session, tenant_id, camt([
            Credit(D("99.70"), "", "ACME", "", "T-1", structured=reference),        # within ACME's tolerance
            Credit(D("99.70"), "", "Other", "", "T-2", structured=other_reference),  # OTHER has none
        ]), ERP)
        statuses = {b.number: (b.status, b.allocated) for b in Ledger(session, tenant_id).balances()}
    assert [o.status for o in report.lines] == ["allocated", "allocated"]
    assert statuses == {"POL-0001": ("paid", D("100.00")), "POL-0002": ("partially_paid", D("99.70"))}


def test_creditor_reference_function_writes_a_valid_reference():
    from aiguillage.engine.runtime import creditor_reference

    reference = creditor_reference("F2026-0042")
    assert iso11649.is_valid(reference) and reference.endswith("F20260042")
    assert creditor_reference(None) is None and creditor_reference("--") is None
