"""The French code lists (rulesets/codelists/fr/) are exactly what the BR-FR artefacts spell out.

The BR-FR Schematron sources (UBL and CII, 1.4.0) write their lists inside `xsl:function`s;
each list file here must hold the same codes, in the same order, as the function of both
sources. Fix: `python rulesets/codelists/fr/build.py <the UBL .sch>`.
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


def codes_in(sch: Path, function: str) -> list[str]:
    """Every code the function's selects quote, split on spaces, without the tokenize pattern."""
    for fn in etree.parse(str(sch)).iter(f"{XSL}function"):
        if fn.get("name") == function:
            quoted = [q for el in fn.iter() for q in re.findall(r"'([^']*)'", el.get("select") or "")]
            return [code for q in quoted if q != r"\s+" for code in q.split()]
    raise AssertionError(f"{function} not in {sch}")


def test_every_list_file_is_known() -> None:
    assert {p.stem for p in FOLDER.glob("*.json")} == set(FUNCTIONS)


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_list_matches_the_artefact(conformance: Path, syntax: str, name: str) -> None:
    sch = conformance / "fr" / syntax / f"BR-FR-Flux2-Schematron-{syntax.upper()}.sch"
    content = json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    assert content["name"] == name
    assert content["values"] == codes_in(sch, FUNCTIONS[name]), f"fix: python rulesets/codelists/fr/build.py {sch}"
