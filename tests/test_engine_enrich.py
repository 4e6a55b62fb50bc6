"""Enrichment: set and fill, every write recorded, later phases see it, the caller's invoice untouched."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from test_engine_support import decide, fired, invoice


def test_set_and_fill_are_recorded_and_seen_by_validation(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("ref,po\nREF-1,PO-123456\n", encoding="utf-8")
    text = """ruleset "t"
table orders from "orders.csv" key ref
  shape
    ref text required
    po text required
enrich
  rule "PO from the order book"
    when order_reference is missing and orders[buyer_reference] exists
    then set order_reference = orders[buyer_reference].po
  rule E-2
    fill due_date = add_days(issue_date, 45)
    fill payment_terms = concat("Due ", text(add_days(issue_date, 45)))
validate
  rule V-1 error "PO {order_reference}"
    assert order_reference matches /^PO-[0-9]{6}$/
"""
    original = invoice()
    decision = decide(tmp_path, text, original)
    assert fired(decision) == []
    assert [(e.rule, e.field, e.old, e.new) for e in decision.enrichments] == [
        ("PO from the order book", "order_reference", None, "PO-123456"),
        ("E-2", "payment_terms", None, "Due 2026-04-15"),
    ]
    assert original.order_reference is None and original.payment_terms is None  # never the caller's invoice


def test_fill_only_when_missing_set_always(tmp_path: Path) -> None:
    text = 'ruleset "t"\nenrich\n  rule E-1\n    fill buyer_reference = "NEW"\n  rule E-2\n    set number = "INV-2"\n'
    decision = decide(tmp_path, text)
    assert [(e.field, e.old, e.new) for e in decision.enrichments] == [("number", "INV-1", "INV-2")]


def test_later_rules_see_earlier_writes(tmp_path: Path) -> None:
    text = 'ruleset "t"\nenrich\n  rule E-1\n    set buyer_reference = "A"\n  rule E-2\n    when buyer_reference = "A"\n    then set project_reference = "seen"\n'
    decision = decide(tmp_path, text)
    assert [e.new for e in decision.enrichments] == ["A", "seen"]


def test_writes_create_missing_groups_and_identifier_values(tmp_path: Path) -> None:
    text = """ruleset "t"
enrich
  rule E-1
    set delivery.invoicing_period.start_date = 2026-02-01
    set buyer.legal_registration_identifier = "52198765400027"
    set buyer.legal_registration_identifier.scheme = "0009"
validate
  rule V-1 error "m"
    assert delivery.invoicing_period.start_date = 2026-02-01 and buyer.legal_registration_identifier.scheme = "0009"
"""
    decision = decide(tmp_path, text)
    assert fired(decision) == []
    assert [e.field for e in decision.enrichments] == [
        "delivery.invoicing_period.start_date", "buyer.legal_registration_identifier", "buyer.legal_registration_identifier.scheme",
    ]


def test_scoped_writes_name_the_occurrence(tmp_path: Path) -> None:
    text = """ruleset "t"
enrich
  rule E-1
    for each line in lines where line.vat.rate = 20
    set line.note = concat("standard rate, line ", line.identifier)
    fill line.item.description = upper(line.item.name)
  rule E-2
    for each line in lines
    for each a in line.allowances
    set a.reason_code = "95"
"""
    decision = decide(tmp_path, text)
    assert [(e.field, e.new) for e in decision.enrichments] == [
        ("lines[1].note", "standard rate, line 1"),
        ("lines[1].item.description", "LAMP"),
        ("lines[3].note", "standard rate, line 3"),
        ("lines[3].item.description", "BULB"),
        ("lines[3].allowances[1].reason_code", "95"),
    ]


def test_counts_written_to_amounts_become_decimals(tmp_path: Path) -> None:
    text = 'ruleset "t"\nenrich\n  rule E-1\n    set totals.paid_amount = count(lines)\nvalidate\n  rule V-1 error "m"\n    assert decimals(totals.paid_amount) = 0 and totals.paid_amount = 3\n'
    decision = decide(tmp_path, text)
    assert fired(decision) == [] and decision.enrichments[0].new == Decimal(3)


def test_failing_enrich_rule_is_an_engine_error_and_others_run(tmp_path: Path) -> None:
    text = 'ruleset "t"\nenrich\n  rule E-1\n    set totals.paid_amount = 1 / (count(lines) - 3)\n  rule E-2\n    set number = "X"\n'
    decision = decide(tmp_path, text)
    assert fired(decision) == ["engine-error:E-1"]
    assert [e.rule for e in decision.enrichments] == ["E-2"]


def test_only_the_path_written_is_copied(tmp_path: Path) -> None:
    from aiguillage.dsl.program import load_program
    from aiguillage.engine.compiler import compile_ruleset
    from aiguillage.engine.evaluate import Run

    text = 'ruleset "t"\nenrich\n  rule E-1\n    for each line in lines\n    for each a in line.allowances\n    set a.reason_code = "95"\n'
    (tmp_path / "t.rules").write_text(text, encoding="utf-8")
    compiled = compile_ruleset(load_program(tmp_path / "t.rules"))
    original = invoice()
    run = Run(original, compiled, "en", original.issue_date, False)  # type: ignore[arg-type]
    compiled.units[0].fast.enrich(run, compiled.flags[0])
    assert original.lines[2].allowances[0].reason_code is None  # the caller's invoice is untouched
    assert run.inv.lines[2].allowances[0].reason_code == "95"
    assert run.inv is not original and run.inv.lines[2] is not original.lines[2]
    assert run.inv.lines[0] is original.lines[0] and run.inv.seller is original.seller  # the rest is shared
