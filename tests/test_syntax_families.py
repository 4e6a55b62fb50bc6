"""The syntax families of EN 16931 beyond "element not used": attributes, counts, values.

The generated rule files must be what the generator makes of the official artefacts
today; the readers must record the facts the families look up (an attribute anywhere,
an element a TypeCode does not allow, a second TaxPointDate); and on documents changed
in exactly those ways our verdict and the official XSLT's (Saxon-HE) must name the same
syntax rules, including where the artefact's template precedence silences a rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, conformance_dir

from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice
from aiguillage.testing.family_rules import collect, render
from aiguillage.testing.oracle import Oracle

RULES = REPO / "rulesets" / "standard" / "en16931"
STYLESHEETS = {"ubl": "EN16931-UBL-validation.xslt", "cii": "EN16931-CII-validation.xslt"}
GENERATED = {"ubl": "ubl-not-used.rules", "cii": "cii-syntax.rules"}
FAMILIES = re.compile(r"^(UBL-CR|CII-SR|CII-DT)-")


def stylesheet(syntax: str) -> Path:
    return conformance_dir() / "en16931" / "xslt" / STYLESHEETS[syntax]


def family_rules_fired(oracle: Oracle, compiled: CompiledRuleset, xml: bytes) -> tuple[set[str] | None, set[str]]:
    """The UBL-CR / CII-SR / CII-DT rules the artefact fires on a document (None when it
    stopped with an error), and those our en16931 ruleset fires."""
    official = oracle.judge(xml)
    if official.error is not None:
        return None, set()
    theirs = {rule for rule, _ in official.fired if FAMILIES.match(rule)}
    findings = evaluate(read_invoice(xml), compiled).findings
    return theirs, {f.rule for f in findings if FAMILIES.match(f.rule)}


@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_generated_family_files_are_up_to_date(syntax: str) -> None:
    written = (RULES / GENERATED[syntax]).read_text(encoding="utf-8")
    assert written == render(str(stylesheet(syntax)), syntax), (
        f"regenerate: python3 -m aiguillage.testing.family_rules {stylesheet(syntax)} {syntax} > {RULES / GENERATED[syntax]}"
    )


def test_every_family_assert_is_written_somewhere() -> None:
    """Generated, hand-written, or one the artefact never reaches (named in the file)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in RULES.glob("*.rules"))
    written = set(re.findall(r"\b((?:UBL-CR|CII-SR|CII-DT)-\d+)\b", text))
    for syntax in ("ubl", "cii"):
        families, left, unreached = collect(str(stylesheet(syntax)))
        assert all(a.rule in written for a in left), [a.rule for a in left if a.rule not in written]
        assert all(rule in written for members in families.values() for rule in members)
    assert {"CII-DT-010", "CII-DT-011", "CII-DT-012"} <= set(collect(str(stylesheet("cii")))[2])


def test_the_cii_reader_records_unused_attributes_anywhere() -> None:
    xml = (conformance_dir() / "en16931" / "cii-examples" / "CII_example1.xml").read_bytes()
    assert [
        f for f in read_invoice(xml).syntax_facts if f.attribute and f.kind == "unused_element"
    ] == []
    changed = xml.replace(b"<ram:TypeCode>380", b'<ram:TypeCode listID="X" name="n">380', 1)
    changed = re.sub(rb"<ram:ID>", b'<ram:ID schemeName="S">', changed, count=1)
    facts = {(f.path, f.attribute) for f in read_invoice(changed).syntax_facts if f.attribute}
    assert ("rsm:ExchangedDocument/ram:TypeCode", "listID") in facts
    assert ("rsm:ExchangedDocument/ram:TypeCode", "name") in facts
    assert any(attribute == "schemeName" for _, attribute in facts)


#: (what is changed, regular expression, replacement): each must give the official verdict
#: on the syntax families, and make at least one of them fire.
CII_CHANGES = [
    (
        "schemeName on the invoice number (CII-DT-001, not CII-DT-101)",
        rb"(<rsm:ExchangedDocument>\s*<ram:ID)>",
        rb'\1 schemeName="S">',
    ),
    (
        "schemeID on the invoice number (CII-DT-005)",
        rb"(<rsm:ExchangedDocument>\s*<ram:ID)>",
        rb'\1 schemeID="S">',
    ),
    (
        "listID on the type code (CII-DT-008's template wins: no CII-DT-010)",
        rb"<ram:TypeCode>380",
        rb'<ram:TypeCode listID="1001" name="n">380',
    ),
    (
        "currencyID on an amount (CII-DT-031)",
        rb"<ram:LineTotalAmount>",
        rb'<ram:LineTotalAmount currencyID="EUR">',
    ),
    (
        "a second TaxPointDate in the header (CII-SR-461)",
        rb"(<ram:ApplicableTradeTax>)",
        rb'\1<ram:TaxPointDate><udt:DateString format="102">20170101</udt:DateString></ram:TaxPointDate>',
    ),
    (
        "an unknown type of additional document (CII-DT-018)",
        rb"(<ram:AdditionalReferencedDocument>\s*<ram:IssuerAssignedID>[^<]*</ram:IssuerAssignedID>)",
        rb"\1<ram:TypeCode>384</ram:TypeCode>",
    ),
    (
        "an element a VAT breakdown does not use (CII-DT-038)",
        rb"(<ram:ApplicableTradeTax>)",
        rb"\1<ram:CalculatedRate>1</ram:CalculatedRate>",
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize(
    ("what", "pattern", "replacement"), CII_CHANGES, ids=[c[0] for c in CII_CHANGES]
)
def test_cii_changes_get_the_official_syntax_verdict(
    what: str, pattern: bytes, replacement: bytes, tmp_path: Path
) -> None:
    oracle = Oracle(stylesheet("cii"), cache=tmp_path)
    compiled = library().compiled("en16931")
    checked = 0
    for path in sorted((conformance_dir() / "en16931" / "cii-examples").glob("*.xml")):
        xml = path.read_bytes()
        changed, count = re.subn(pattern, replacement, xml, count=1)
        if not count:
            continue
        theirs, ours = family_rules_fired(oracle, compiled, changed)
        if theirs is None:
            continue
        assert ours == theirs, f"{path.name}: {what}"
        assert theirs, f"{path.name}: {what} fires nothing"
        checked += 1
    assert checked >= 1


UBL_CHANGES = [
    (
        "schemeID on the customization id (UBL-CR-648)",
        rb"<cbc:CustomizationID>",
        rb'<cbc:CustomizationID schemeID="X">',
    ),
    (
        "listID on the invoice type code (UBL-CR-656)",
        rb"<cbc:InvoiceTypeCode>",
        rb'<cbc:InvoiceTypeCode listID="UNCL1001">',
    ),
    (
        "another UBL version (UBL-CR-002)",
        rb"<cbc:CustomizationID",
        rb"<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:CustomizationID",
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize(
    ("what", "pattern", "replacement"), UBL_CHANGES, ids=[c[0] for c in UBL_CHANGES]
)
def test_ubl_changes_get_the_official_syntax_verdict(
    what: str, pattern: bytes, replacement: bytes, tmp_path: Path
) -> None:
    oracle = Oracle(stylesheet("ubl"), cache=tmp_path)
    compiled = library().compiled("en16931")
    path = conformance_dir() / "en16931" / "ubl-examples" / "ubl-tc434-example1.xml"
    changed, count = re.subn(pattern, replacement, path.read_bytes(), count=1)
    assert count == 1
    theirs, ours = family_rules_fired(oracle, compiled, changed)
    assert theirs and ours == theirs, what
