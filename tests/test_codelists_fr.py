"""The French code lists (rulesets/codelists/fr/) are exactly what the BR-FR artefacts spell out.

The BR-FR Schematron sources (UBL and CII, 1.4.0) write their lists inside `xsl:function`s;
each list file here must hold the same codes, in the same order, as the function of both
sources. Fix: `python rulesets/codelists/fr/build.py <the UBL .sch>`.
The EXTENDED-CTC-FR lists (FR-EXT-*) are those its XSLTs spell out in an assert's test, and the
EN 16931 lists its rules reuse with a few codes more must still be those of the assert.
Fix: `python rulesets/codelists/fr/extended.py <the UBL XSLT>`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

FOLDER = Path(__file__).resolve().parents[1] / "rulesets" / "codelists" / "fr"
XSL = "{http://www.w3.org/1999/XSL/Transform}"
FUNCTIONS = {
    "FR-DOCUMENT-TYPES": "custom:is-valid-document-type-code",
    "FR-BILLING-FRAMEWORKS": "custom:is-valid-billing-mode",
    "FR-BAR-TREATMENTS": "custom:is-valid-bar-treatment",
    "FR-EAS": "custom:is-valid-eas-code",
    "FR-VAT-CATEGORIES": "custom:is-valid-vat-category-code",
    "FR-VAT-RATES": "custom:is-valid-vat-rate",
    "FR-ATTACHMENT-CODES": "custom:is-valid-attachment-code",
}
#: EXTENDED-CTC-FR list -> the assert of the profile's XSLTs that spells it out
EXTENDED = {
    "FR-EXT-INCOTERMS": "BR-FREXT-CL-27",
    "FR-EXT-ITEM-ATTRIBUTE": "BR-FREXT-04",
    "FR-EXT-UNTDID-5153": "BR-FREXT-CL-20-TAX",
}
#: Extended lists whose assert only one syntax's artefact has (the CII one has no BR-FREXT-04).
ONLY_IN = {"BR-FREXT-04": "ubl"}
#: assert -> (the EN 16931 list its rule reuses, the codes it names beside it)
REUSED = {
    "BR-FREXT-CL-10": ("ISO-6523-ICD", ["BY", "SE"]),
    "BR-FREXT-CL-24": ("MIME-attachment", ["application/xml", "text/xml"]),
    "BR-FREXT-CL-20": ("UNTDID-7161", []),
}


def assert_test(xslt: Path, rule_id: str) -> str:
    """The test of the failed-assert with this id (the svrl:failed-assert repeats it)."""
    text = xslt.read_text(encoding="utf-8")
    at = text.index(f'<xsl:attribute name="id">{rule_id}</xsl:attribute>')
    start = text.rindex(' test="', 0, at) + len(' test="')
    return text[start : text.index('"', start)]


def listed(test: str) -> list[str]:
    """The codes of a test: of its first contains(' A B ', ...) or of its @mimeCode = '...' terms."""
    found = re.search(r"contains\('([^']*)'", test)
    return found.group(1).split() if found else re.findall(r"@mimeCode\s*=\s*'([^']*)'", test)


def codes_in(sch: Path, function: str) -> list[str]:
    """Every code the function's selects quote, split on spaces, without the tokenize pattern."""
    for fn in etree.parse(str(sch)).iter(f"{XSL}function"):
        if fn.get("name") == function:
            quoted = [
                q for el in fn.iter() for q in re.findall(r"'([^']*)'", el.get("select") or "")
            ]
            return [code for q in quoted if q != r"\s+" for code in q.split()]
    raise AssertionError(f"{function} not in {sch}")


def test_every_list_file_is_known() -> None:
    assert {p.stem for p in FOLDER.glob("*.json")} == set(FUNCTIONS) | set(EXTENDED)


def _extended_xslt(conformance: Path, syntax: str) -> Path:
    return conformance / "fr" / syntax / f"EXTENDED-CTC-FR-{syntax.upper()}.xslt"


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("name", sorted(EXTENDED))
def test_extended_list_matches_the_artefact(conformance: Path, syntax: str, name: str) -> None:
    xslt = _extended_xslt(conformance, syntax)
    content = json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    assert content["name"] == name and content["used_by"] == [EXTENDED[name]]
    if ONLY_IN.get(EXTENDED[name], syntax) != syntax:
        assert f'"id">{EXTENDED[name]}<' not in xslt.read_text(encoding="utf-8")
        return
    assert content["values"] == listed(assert_test(xslt, EXTENDED[name])), (
        f"fix: python rulesets/codelists/fr/extended.py {xslt}"
    )


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("rule_id", sorted(REUSED))
def test_a_reused_list_plus_its_codes_is_the_artefacts(
    conformance: Path, syntax: str, rule_id: str
) -> None:
    name, extra = REUSED[rule_id]
    en = json.loads((FOLDER.parent / f"{name}.json").read_text(encoding="utf-8"))["values"]
    assert sorted(listed(assert_test(_extended_xslt(conformance, syntax), rule_id))) == sorted(
        en + extra
    )


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_list_matches_the_artefact(conformance: Path, syntax: str, name: str) -> None:
    sch = conformance / "fr" / syntax / f"BR-FR-Flux2-Schematron-{syntax.upper()}.sch"
    content = json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    assert content["name"] == name
    assert content["values"] == codes_in(sch, FUNCTIONS[name]), (
        f"fix: python rulesets/codelists/fr/build.py {sch}"
    )
