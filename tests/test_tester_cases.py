"""Reading case files: the forms a file may take, strict keys, exact numbers, official test sets."""

from __future__ import annotations

import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from aiguillage.engine.tester import Runner, collect
from aiguillage.engine.tester.cases import load_cases
from aiguillage.engine.tester.discovery import find_case_files, ruleset_for
from aiguillage.engine.tester.yamlio import CaseFileError

TINY = Path(__file__).parent / "tester_data" / "tiny"
REPO = Path(__file__).resolve().parents[1]


def case_file(tmp_path: Path, text: str) -> Path:
    """A copy of the tiny ruleset with this case file in its tests/ folder."""
    home = tmp_path / "tiny"
    if not home.exists():
        shutil.copytree(TINY, home)
    path = home / "tests" / "more.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_three_forms_of_a_case_file(tmp_path: Path) -> None:
    single = load_cases(case_file(tmp_path, "name: one\nbase: ../invoice.json\nexpect: {valid: true}\n"))
    assert [c.name for c in single] == ["one"]
    listed = load_cases(case_file(tmp_path, "- {name: a, base: ../invoice.json, expect: {valid: true}}\n- {name: b, invoice: ../invoice.json, expect: {valid: false}}\n"))
    assert [(c.name, c.expect.valid) for c in listed] == [("a", True), ("b", False)]
    shared = load_cases(
        case_file(
            tmp_path,
            """
            base: ../invoice.json
            today: 2026-02-01
            patch: {number: X-1}
            cases:
              - name: inherits
                expect: {valid: true}
              - name: adds to the patch
                patch: {order_reference: null}
                expect: {valid: true}
            """,
        )
    )
    assert [c.today.isoformat() for c in shared] == ["2026-02-01", "2026-02-01"]
    assert shared[1].patch == {"number": "X-1", "order_reference": None}
    assert all(c.ruleset == str((tmp_path / "tiny" / "tiny.rules").resolve()) for c in shared)


def test_numbers_stay_exact(tmp_path: Path) -> None:
    [case] = load_cases(case_file(tmp_path, "name: n\nbase: ../invoice.json\npatch: {totals.amount_with_vat: 12000.00}\nexpect: {valid: true}\n"))
    value = case.patch["totals.amount_with_vat"]
    assert isinstance(value, Decimal) and str(value) == "12000.00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nbase: ../invoice.json\nexpect: {findngs: [T-01]}\n", "expect: has no key 'findngs'; did you mean findings?"),
        ("name: x\nexpect: {valid: true}\n", "has no invoice"),
        ("name: x\ninvoice: ../invoice.json\npatch: {number: 1}\nexpect: {valid: true}\n", "patch: needs base:"),
        ("- {name: x, base: ../invoice.json, expect: {valid: true}}\n- {name: x, base: ../invoice.json, expect: {valid: true}}\n", "two cases are named 'x'"),
        ("name: x\nbase: ../invoice.json\nexpect: {findings: [{rule: T-01, severity: fatl}]}\n", "severity 'fatl' is not one of"),
        ("name: x\nbase: ../invoice.json\nexpect: {holds: [approve finance]}\n", "a hold is 'approval by ROLE'"),
        ("name: [x\n", "not valid YAML"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = case_file(tmp_path, text)
    with pytest.raises(CaseFileError) as caught:
        load_cases(path)
    assert str(caught.value).startswith(str(path) + ":")
    assert message in str(caught.value)


def test_where_case_files_are_and_which_ruleset_they_test() -> None:
    files = find_case_files([REPO / "rulesets"])
    names = {f.relative_to(REPO).as_posix() for f in files}
    assert "rulesets/customers/maison-dufresne/tests/orders.yaml" in names
    assert all("/tests/" in n for n in names)
    assert ruleset_for(REPO / "rulesets/customers/distrilux/tests/edi.yaml") == (REPO / "rulesets/customers/distrilux/distrilux.rules").resolve()
    assert ruleset_for(REPO / "rulesets/standard/en16931/tests/x.xml") == (REPO / "rulesets/standard/en16931.rules").resolve()


VEFA = """<?xml version="1.0" encoding="UTF-8"?>
<testSet xmlns="http://difi.no/xsd/vefa/validator/1.0" configuration="tiny-ubl">
  <assert><description>Tiny's rules on two fragments</description><scope>T-01</scope></assert>
  <test>
    <assert><description>no number</description><error>T-01</error><warning>T-05</warning><success>T-03</success></assert>
    <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <cbc:IssueDate>2026-01-15</cbc:IssueDate>
    </Invoice>
  </test>
  <test>
    <assert><description>a number, wrongly said to fail</description><error>T-01</error></assert>
    <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <cbc:ID>T-2</cbc:ID>
    </Invoice>
  </test>
</testSet>
"""


def test_official_test_sets_are_cases_too(tmp_path: Path) -> None:
    case_file(tmp_path, "name: x\nbase: ../invoice.json\nexpect: {valid: true}\n").unlink()
    (tmp_path / "tiny" / "tests" / "official.xml").write_text(VEFA, encoding="utf-8")
    found = collect([tmp_path / "tiny" / "tests" / "official.xml"])
    assert [c.name for c in found.cases] == ["test 1: no number", "test 2: a number, wrongly said to fail"]
    with Runner() as runner:
        first, second = runner.run_all(found.cases)
    assert first.passed, first.problems
    assert not second.passed
    [problem] = second.problems
    assert (problem.subject, problem.expected, problem.actual) == ("finding T-01", ["fires as fatal or error"], ["does not fire"])


def test_the_api_words_fires_and_silent_work_too(tmp_path: Path) -> None:
    [case] = load_cases(case_file(tmp_path, "name: x\nbase: ../invoice.json\nexpect: {fires: [T-05], silent: [T-01], holds: [], routes: [print]}\n"))
    assert [f.rule for f in case.expect.findings] == ["T-05"]
    assert [f.rule for f in case.expect.no_findings] == ["T-01"]
    with Runner() as runner:
        assert runner.run(case).passed
    with pytest.raises(CaseFileError, match="give findings: or fires:"):
        load_cases(case_file(tmp_path, "name: x\nbase: ../invoice.json\nexpect: {fires: [T-05], findings: [T-01]}\n"))
