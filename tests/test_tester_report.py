"""A broken expectation fails with a readable diff and the explain that decided it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aiguillage.engine.tester import Runner, collect
from aiguillage.engine.tester.report import failure_text, summary, text_report

TINY = Path(__file__).parent / "tester_data" / "tiny"


def write_cases(tmp_path: Path, text: str) -> Path:
    """A case file testing the tiny ruleset by path, from a folder of its own."""
    folder = tmp_path / "tests"
    folder.mkdir(exist_ok=True)
    path = folder / "cases.yaml"
    head = f"ruleset: {TINY / 'tiny.rules'}\nbase: {TINY / 'invoice.json'}\ncases:\n"
    path.write_text(head + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ") + "\n", encoding="utf-8")
    return path


def run(path: Path):  # noqa: ANN201
    found = collect([path])
    with Runner() as runner:
        return found.broken_results() + runner.run_all(found.cases)


def test_wrong_enriched_value_shows_expected_actual_and_explain(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        """
        - name: broken on purpose
          expect:
            enriched: {buyer_reference: PO-2}
        """,
    )
    [result] = run(path)
    assert not result.passed
    text = failure_text(result, tmp_path)
    assert text.splitlines()[0] == "FAILED tests/cases.yaml::broken on purpose  (cases.yaml:4)"
    assert "  enriched buyer_reference\n    - expected: PO-2\n    + actual:   PO-1  (written by rule 'Buyer reference from the order')" in text
    assert "  why (explain):\n    Buyer reference from the order (tiny): fired\n      wrote  (order_reference = PO-1" in text


def test_missing_finding_shows_what_fired_instead(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        """
        - name: expects an error that is a warning
          patch:
            totals.amount_with_vat: "1500.00"
          expect:
            findings: [{rule: T-02, severity: error}]
        """,
    )
    [result] = run(path)
    text = failure_text(result)
    assert "  finding T-02\n    - expected: T-02 error\n    + actual:   T-02 warning at totals.amount_with_vat: Total 1500.00 is over the budget of 1000.00" in text
    assert "T-02 (tiny): fired\n      FAILED  (buyer_reference = PO-1; budgets[buyer_reference] = " in text
    assert "totals.amount_with_vat = 1500.00" in text


def test_unexpected_finding_and_routes_diff(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        """
        - name: no number
          patch: {number: null}
          expect:
            no_findings: [T-01]
            routes: [print]
            holds: []
        """,
    )
    [result] = run(path)
    text = failure_text(result)
    assert "  no finding T-01\n    - expected: T-01 does not fire\n    + actual:   T-01 error at number: The invoice has no number" in text
    assert "  routes\n    - expected: print\n    + actual:   no route" in text
    assert "  holds\n    - expected: no hold\n    + actual:   hold 'errors'" in text
    assert "tiny.rules:36 (tiny): matched\n      has errors: yes" in text
    assert "fatal and error findings (what `has errors` sees):\n      T-01 error at number: The invoice has no number" in text


def test_unknown_rule_gets_a_suggestion(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "- name: typo\n  expect:\n    findings: [T-5]\n")
    [result] = run(path)
    assert "(there is no rule T-5 in this ruleset or what it extends; did you mean T-05?)" in failure_text(result)


def test_summary_line_counts(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        """
        - name: passes
          expect: {findings: [T-05]}
        - name: fails
          expect: {no_findings: [T-05]}
        """,
    )
    results = run(path)
    assert summary(results) == "1 passed, 1 failed"
    report = text_report(results)
    assert report.endswith("\n1 passed, 1 failed")
    assert "FAILED" in report and "passes" not in report


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: x\n  expct: {valid: true}\n", "a case has no key 'expct'; did you mean expect?"),
        ("- name: x\n  expect: {}\n", "expect: checks nothing"),
        ("- name: x\n  patch:\n    lines[0].quantity: 3\n  expect: {valid: true}\n", "occurrences are counted from 1"),
        ("- name: x\n  patch:\n    totals.amount_with_vta: 3\n  expect: {valid: true}\n", "has no field 'amount_with_vta'; did you mean amount_with_vat?"),
        ("- name: x\n  tables: {budget: []}\n  expect: {valid: true}\n", "tiny declares no table 'budget' (its tables: budgets)"),
        ("- name: x\n  tables: {budgets: [{limit: 3}]}\n  expect: {valid: true}\n", "buyer_reference"),
    ],
)
def test_mistakes_in_cases_fail_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    results = run(write_cases(tmp_path, text))
    assert len(results) == 1 and not results[0].passed
    assert message in (results[0].error or "")


def test_a_failure_explains_the_rules_of_what_the_ruleset_extends_too(tmp_path: Path) -> None:
    """Passing cases explain only the ruleset's own rules (its coverage); a failing one is
    evaluated again with every rule explained, so an inherited rule can be the why."""
    repo = Path(__file__).resolve().parents[1]
    folder = tmp_path / "tests"
    folder.mkdir()
    path = folder / "cases.yaml"
    path.write_text(
        f"ruleset: {repo / 'rulesets' / 'customers' / 'distrilux' / 'distrilux.rules'}\n"
        f"base: {repo / 'samples' / 'atelier-lumiere-F2026-0120-distrilux.xml'}\n"
        "cases:\n"
        "  - name: expects a rule of en16931 to fire\n"
        "    expect:\n"
        "      findings: [{rule: BR-02}]\n",
        encoding="utf-8",
    )
    [result] = run(path)
    assert not result.passed
    assert "  why (explain):\n    BR-02 (en16931): passed\n      ok  (number = F2026-0120)" in failure_text(result)
    assert any(e.ruleset == "en16931" for e in result.decision.explain)
