"""Reading the official test sets and judging a verdict against them."""

from __future__ import annotations

from pathlib import Path

from conftest import conformance_dir

from aiguillage.engine.conformance import default_ruleset, find_test_sets, judge, load_test_set


def test_every_official_test_is_loaded() -> None:
    base = conformance_dir()
    en = [t for f in find_test_sets([base / "en16931" / "ubl-unit-invoice"]) for t in load_test_set(f)]
    peppol = [t for f in find_test_sets([base / "peppol" / "ubl-unit"]) for t in load_test_set(f)]
    assert len(en) == 915
    # The README counts 223: two of them sit inside an XML comment in PEPPOL-COMMON-R048.xml.
    assert len(peppol) == 221
    assert all(t.expectations for t in en + peppol)
    assert {default_ruleset(t.configuration) for t in en} == {"en16931"}
    assert {default_ruleset(t.configuration) for t in peppol} == {"peppol-bis-3"}


def test_a_test_names_rule_outcome_and_document() -> None:
    tests = load_test_set(conformance_dir() / "peppol" / "ubl-unit" / "PEPPOL-EN16931-R001.xml")
    assert [t.expectations for t in tests] == [{"PEPPOL-EN16931-R001": "success"}, {"PEPPOL-EN16931-R001": "error"}]
    assert tests[0].document.tag.endswith("}Invoice")
    assert tests[0].syntax == "ubl"
    assert tests[1].number == 2 and tests[1].line > tests[0].line


def test_judge() -> None:
    test = load_test_set(conformance_dir() / "peppol" / "ubl-unit" / "PEPPOL-EN16931-R001.xml")[1]
    assert judge(test, {"PEPPOL-EN16931-R001": ["fatal"]}) == []
    miss = judge(test, {"PEPPOL-EN16931-R001": ["warning"]})
    assert [(m.rule, m.expected, m.fired) for m in miss] == [("PEPPOL-EN16931-R001", "error", ["warning"])]
    ok = load_test_set(conformance_dir() / "peppol" / "ubl-unit" / "PEPPOL-EN16931-R001.xml")[0]
    assert [m.fired for m in judge(ok, {"PEPPOL-EN16931-R001": ["fatal"]})] == [["fatal"]]
    assert judge(ok, {"OTHER": ["fatal"]}) == []


def test_find_test_sets_accepts_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("<x/>")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.XML").write_text("<x/>")
    (tmp_path / "notes.txt").write_text("")
    assert [p.name for p in find_test_sets([tmp_path])] == ["a.xml", "b.XML"]
