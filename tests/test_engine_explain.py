"""Explain mode: per rule, whether it fired, per occurrence, and the values that decided it."""

from __future__ import annotations

from pathlib import Path

from test_engine_support import decide, invoice

TEXT = """ruleset "t"
enrich
  rule E-1
    when buyer_reference = "REF-1"
    then fill project_reference = "P-1"
validate
  rule BR-CO-10 fatal "m"
    assert totals.line_net_amount = sum(lines.net_amount)
  rule L-1 error "m"
    for each line in lines where line.vat.rate = 20
    when line.quantity > 1
    assert line.net_amount > 100
  rule D-1 warning "m"
    assert due_date > issue_date
  disable D-1
route
  when has errors -> hold "errors"
  otherwise -> print
"""


def entries(decision):  # noqa: ANN001, ANN202
    return {e.rule: e for e in decision.explain or []}


def test_explain_records_each_rule_and_the_deciding_values(tmp_path: Path) -> None:
    decision = decide(tmp_path, TEXT, explain=True)
    got = entries(decision)
    assert "D-1" not in got  # disabled rules are not run
    brco10 = got["BR-CO-10"]
    assert (brco10.kind, brco10.fired) == ("validate", False)
    assert brco10.occurrences[0].values == {"totals.line_net_amount": 300, "sum(lines.net_amount)": 300}
    line_rule = got["L-1"]
    assert line_rule.fired is True
    assert [(o.occurrence, o.applicable, o.passed) for o in line_rule.occurrences] == [
        ("line 1", True, False),  # 100 is not > 100
        ("line 2", False, None),  # rate 13.5: filtered out by `where`
        ("line 3", True, False),
    ]
    assert line_rule.occurrences[0].values == {"line.vat.rate": 20, "line.quantity": 2, "line.net_amount": 100}
    enrich = got["E-1"]
    assert (enrich.kind, enrich.fired, enrich.occurrences[0].passed) == ("enrich", True, True)
    routes = [e for e in decision.explain or [] if e.kind == "route"]
    assert [(r.rule, r.fired) for r in routes] == [("t.rules:17", True), ("t.rules:18", False)]


def test_explain_gives_the_same_findings_as_the_fast_path(tmp_path: Path) -> None:
    fast = decide(tmp_path, TEXT, invoice())
    slow = decide(tmp_path, TEXT, invoice(), explain=True)
    assert fast.model_dump(exclude={"timings", "explain"}) == slow.model_dump(exclude={"timings", "explain"})
    assert fast.explain is None


def test_explain_is_json_serialisable(tmp_path: Path) -> None:
    data = decide(tmp_path, TEXT, explain=True).model_dump(mode="json")
    assert data["explain"][0]["rule"] == "E-1"


def test_explain_only_explains_the_rulesets_named_and_changes_no_verdict() -> None:
    """What `aiguillage test` asks for its coverage: the ruleset's own rules explained, what it
    extends (en16931) run uninstrumented, every finding, route and enrichment the same."""
    from aiguillage.engine.evaluate import evaluate
    from aiguillage.engine.loader import library
    from aiguillage.model.syntaxes import read_invoice_file

    repo = Path(__file__).resolve().parents[1]
    compiled = library().compiled(str(repo / "rulesets" / "customers" / "distrilux" / "distrilux.rules"))
    inv = read_invoice_file(repo / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml")
    full = evaluate(inv, compiled, explain=True).model_dump(mode="json", exclude={"timings"})
    own = evaluate(inv, compiled, explain=True, explain_only=(compiled.name,)).model_dump(mode="json", exclude={"timings"})
    assert {e["ruleset"] for e in full["explain"]} == {"en16931", compiled.name}
    assert own["explain"] == [e for e in full["explain"] if e["ruleset"] == compiled.name]
    assert own["explain"] and {k: v for k, v in own.items() if k != "explain"} == {k: v for k, v in full.items() if k != "explain"}
