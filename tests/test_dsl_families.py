"""Rule families: many nameable rules judged by one look-up (UBL-CR, CII-SR, CII-DT).

Each member must behave as an ordinary rule: it fires on its own keys only, can be
disabled and overridden from a ruleset that extends it, is explained by its id and
counted in coverage; the family is checked (names, key type) and formatted back.
"""

from __future__ import annotations

from pathlib import Path

from test_engine_support import decide, fired, invoice, problems, program, validate_rules

from aiguillage.dsl.formatter import format_text as format_source
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.evaluate import evaluate

FAMILY = """\
  family X-CR warning
    message en "{f.path} is not used"
            fr "{f.path} n'est pas utilisé"
    for each f in syntax_facts where f.kind = "unused_element"
    lookup f.path members
      X-CR-001 "cbc:UUID"
      X-CR-002 "cac:InvoiceLine/cbc:Note", "cac:CreditNoteLine/cbc:Note"
      X-CR-003 "//ram:DurationMeasure"
"""


def with_facts(*paths: str):  # noqa: ANN201
    return invoice(syntax_facts=[{"kind": "unused_element", "path": p} for p in paths])


def test_each_member_fires_on_its_own_keys_once_per_fact(tmp_path: Path) -> None:
    inv = with_facts("cbc:UUID", "cac:CreditNoteLine/cbc:Note", "cbc:Other", "a/b/ram:DurationMeasure", "cbc:UUID")
    decision = decide(tmp_path, validate_rules(FAMILY), inv)
    assert sorted(fired(decision)) == ["X-CR-001", "X-CR-001", "X-CR-002", "X-CR-003"]
    assert {f.message for f in decision.findings if f.rule == "X-CR-001"} == {"cbc:UUID is not used"}
    assert {f.severity for f in decision.findings} == {"warning"}


def test_nothing_fires_without_facts(tmp_path: Path) -> None:
    assert fired(decide(tmp_path, validate_rules(FAMILY), invoice())) == []


def test_members_are_rules_that_can_be_disabled_overridden_and_explained(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    parent = program(base, validate_rules(FAMILY), "t.rules")
    child_text = 'ruleset "c" version 1\nextends "t"\nvalidate\n  disable X-CR-001\n  override X-CR-002 severity error\n'
    child = program(tmp_path, child_text, "c.rules", resolve_parent=lambda name: parent)
    compiled = compile_ruleset(child)
    inv = with_facts("cbc:UUID", "cac:InvoiceLine/cbc:Note")
    decision = evaluate(inv, compiled)
    assert [(f.rule, f.severity) for f in decision.findings] == [("X-CR-002", "error")]
    explained = evaluate(inv, compiled, explain=True)
    assert [(f.rule, f.severity) for f in explained.findings] == [("X-CR-002", "error")]
    ids = {entry.rule for entry in explained.explain}
    assert {"X-CR-002", "X-CR-003"} <= ids
    assert "X-CR-001" not in ids


def test_checker_names_mistakes(tmp_path: Path) -> None:
    bad = FAMILY.replace("X-CR-003", "Y-CR-003").replace("lookup f.path", "lookup f.line")
    found = problems(tmp_path, validate_rules(bad))
    assert any("'lookup' must be one text, but this is a number" in p for p in found), found
    assert any("rule Y-CR-003 of family X-CR must be named X-CR-…" in p for p in found), found
    duplicate = validate_rules(FAMILY + '  rule X-CR-001 error "again"\n    assert number exists\n')
    assert any("duplicate rule id X-CR-001" in p for p in problems(tmp_path, duplicate))


def test_formatter_keeps_the_family(tmp_path: Path) -> None:
    text = validate_rules(FAMILY)
    assert format_source(text, "t.rules") == format_source(format_source(text, "t.rules"), "t.rules")
    assert "    lookup f.path members\n" in format_source(text, "t.rules")
    assert '      X-CR-002 "cac:InvoiceLine/cbc:Note", "cac:CreditNoteLine/cbc:Note"\n' in format_source(text, "t.rules")


def test_each_member_explains_every_fact_with_its_own_verdict(tmp_path: Path) -> None:
    """Explain mode walks the facts once for the whole family; what each member says is what its
    own rule would: every fact, applicable or not, the values that decided, its own pass or fail."""
    inv = invoice(syntax_facts=[
        {"kind": "unused_element", "path": "cbc:UUID", "line": 3},
        {"kind": "attribute", "path": "cbc:Amount", "line": 4},
        {"kind": "unused_element", "path": "a/b/ram:DurationMeasure", "line": 5},
    ])
    explained = evaluate(inv, compile_ruleset(program(tmp_path, validate_rules(FAMILY), "t.rules")), explain=True)
    entries = {e.rule: e for e in explained.explain if e.rule.startswith("X-CR-")}
    assert sorted(entries) == ["X-CR-001", "X-CR-002", "X-CR-003"]
    verdicts = {
        rule: [(o.occurrence, o.applicable, o.passed, o.values) for o in entry.occurrences]
        for rule, entry in entries.items()
    }
    uuid = {"f.kind": "unused_element", "f.path": "cbc:UUID"}
    amount = {"f.kind": "attribute"}
    duration = {"f.kind": "unused_element", "f.path": "a/b/ram:DurationMeasure"}
    assert verdicts["X-CR-001"] == [
        ("syntax fact 1 (source line 3)", True, False, uuid),
        ("syntax fact 2 (source line 4)", False, None, amount),
        ("syntax fact 3 (source line 5)", True, True, duration),
    ]
    assert [v[2] for v in verdicts["X-CR-002"]] == [True, None, True]
    assert [v[2] for v in verdicts["X-CR-003"]] == [True, None, False]
    assert {rule: entry.fired for rule, entry in entries.items()} == {"X-CR-001": True, "X-CR-002": False, "X-CR-003": True}
    assert sorted(fired(explained)) == ["X-CR-001", "X-CR-003"]
