"""`aiguillage test`: exit status, the summary line, --run, --coverage/--threshold, JSON and JUnit."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aiguillage.cli.main import main

TINY = Path(__file__).parent / "tester_data" / "tiny"
REPO = Path(__file__).resolve().parents[1]

BROKEN = """
- name: a passing case
  base: ../invoice.json
  expect: {findings: [T-05]}
- name: a broken expectation
  base: ../invoice.json
  expect:
    enriched: {buyer_reference: PO-9}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A copy of the tiny ruleset with one more case file, holding a broken expectation."""
    home = tmp_path / "tiny"
    shutil.copytree(TINY, home)
    (home / "tests" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return home


def test_passing_cases_exit_zero_with_the_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(TINY)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "3 passed, 0 failed"


def test_a_failure_exits_one_and_shows_the_diff(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tiny)]) == 1
    out = capsys.readouterr().out
    assert "broken.yaml::a broken expectation" in out
    assert "  enriched buyer_reference\n    - expected: PO-9\n    + actual:   PO-1" in out
    assert out.strip().splitlines()[-1] == "4 passed, 1 failed"


def test_run_selects_cases_by_regex(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tiny), "--run", "passing|good", "-v"]) == 0
    out = capsys.readouterr().out
    assert "PASS " in out and "a good invoice" in out and "broken expectation" not in out
    assert out.strip().endswith("2 passed, 0 failed")


def test_coverage_and_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(TINY), "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "  tiny: 66.7%  (4 of 6 rules both ways, 1 fired only, 0 never fired, 1 never applied; 3 cases)" in out
    assert "never applied T-04" in out and "fired only    T-05" in out
    assert main(["test", str(TINY), "--threshold", "60"]) == 0
    capsys.readouterr()
    assert main(["test", str(TINY), "--threshold", "70"]) == 1
    assert "coverage 66.7% is below the threshold of 70%" in capsys.readouterr().err


def test_json_report(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tiny), "--format", "json", "--coverage"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["passed"], report["failed"]) == (4, 1)
    [failed] = [c for c in report["cases"] if not c["passed"]]
    assert failed["name"] == "a broken expectation"
    assert failed["problems"] == [{"subject": "enriched buyer_reference", "expected": ["PO-9"], "actual": ["PO-1  (written by rule 'Buyer reference from the order')"], "as_expected": [], "hint": None}]
    assert report["coverage"]["rulesets"][0]["name"] == "tiny"


def test_junit_report_parses(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "junit.xml"
    assert main(["test", str(tiny), "--format", "junit", "-o", str(output)]) == 1
    assert capsys.readouterr().out.strip() == "4 passed, 1 failed"
    root = ET.parse(output).getroot()
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "0")
    suites = {s.get("name").rsplit("/", 1)[-1]: s for s in root.iter("testsuite")}
    assert set(suites) == {"broken.yaml", "cases.yaml"}
    broken = {c.get("name"): c for c in suites["broken.yaml"].iter("testcase")}
    assert broken["a passing case"].find("failure") is None
    failure = broken["a broken expectation"].find("failure")
    assert failure is not None and failure.get("message") == "enriched buyer_reference"
    assert "- expected: PO-9" in failure.text


def test_unreadable_case_file_is_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "tiny"
    shutil.copytree(TINY, home)
    (home / "tests" / "typo.yaml").write_text("- name: x\n  base: ../invoice.json\n  expct: {valid: true}\n", encoding="utf-8")
    assert main(["test", str(home)]) == 1
    out = capsys.readouterr().out
    assert "typo.yaml:1: a case has no key 'expct'; did you mean expect?" in out


def test_no_cases_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tmp_path)]) == 1
    assert "no test cases found" in capsys.readouterr().err


def test_the_shipped_rulesets_pass() -> None:
    assert main(["test", str(REPO / "rulesets" / "customers"), "--threshold", "100"]) == 0


def test_the_shipped_customer_rulesets_check_clean_and_are_formatted() -> None:
    files = sorted(str(p) for p in (REPO / "rulesets" / "customers").glob("*/*.rules"))
    assert len(files) >= 5
    assert main(["check", *files]) == 0
    assert main(["fmt", "--check", *files]) == 0
