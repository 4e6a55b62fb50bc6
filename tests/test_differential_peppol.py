"""Differential tests: peppol-bis-3's PEPPOL-* rules against Peppol's own Schematron, on mutated invoices.

Peppol publishes its BIS 3.0 rules as Schematron sources (`peppol/sch/`); they
are compiled with the ISO skeleton (aiguillage.testing.schematron) and run in
Saxon-HE like the official EN 16931 XSLTs. The documents are, in UBL, the
Peppol and EN 16931 examples (the 3 MB one left out) and the documents of the
Peppol UBL unit files; in CII, the EN 16931 CII examples and the Peppol
examples written in CII by our writer.
Each is mutated deterministically (aiguillage.testing.mutations, and one variant in
four by aiguillage.testing.peppol_mutations: identifier schemes, attachments); on every
variant the PEPPOL-EN16931-* and PEPPOL-COMMON-* rules that fire, with their
flag, must be the same on both sides. Peppol's national rules (DK-R-*,
NL-R-*, …) are not part of peppol-bis-3 and not compared; the EN 16931 rules
are the business of tests/test_differential.py.

The only accepted differences are listed, with their reasons, in
tests/differential_known_peppol.yaml; an entry nothing needs any more fails
too. The artefact's verdicts are cached per session like test_differential's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, agreement, conformance_dir
from lxml import etree

from aiguillage.cli.main import main
from aiguillage.engine.conformance import load_test_set
from aiguillage.engine.loader import library
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.syntaxes import read_invoice, write_invoice
from aiguillage.testing import known_differences
from aiguillage.testing.differential import Comparison, compare
from aiguillage.testing.mutations import Variant
from aiguillage.testing.oracle import Oracle
from aiguillage.testing.peppol_mutations import PeppolMutator

VARIANTS = int(os.environ.get("AIGUILLAGE_PEPPOL_DIFF_VARIANTS", "2000"))
SEED = int(os.environ.get("AIGUILLAGE_DIFF_SEED", "0"))
KNOWN = REPO / "tests" / "differential_known_peppol.yaml"
SCHEMATRON = {"ubl": "PEPPOL-EN16931-UBL.sch", "cii": "PEPPOL-EN16931-CII.sch"}
#: The EN 16931 artefacts name the elements EN 16931 does not use (the mutator's "unused" kind).
EN16931 = {"ubl": "EN16931-UBL-validation.xslt", "cii": "EN16931-CII-validation.xslt"}


@cache
def documents(syntax: str) -> tuple[tuple[str, bytes], ...]:
    """The documents variants are made from: whole examples first, then the unit files' documents."""
    base = conformance_dir()
    examples = [
        (p.name, p.read_bytes()) for p in sorted((base / "peppol" / "examples").glob("*.xml"))
    ]
    if syntax == "ubl":
        ubl = sorted((base / "en16931" / "ubl-examples").iterdir())
        found = examples + [(p.name, p.read_bytes()) for p in ubl if p.stat().st_size < 500_000]
        for path in sorted((base / "peppol" / "ubl-unit").glob("*.xml")):
            for test in load_test_set(path):
                if len(test.document) == 0:  # a bare root: nothing to mutate
                    continue
                found.append(
                    (f"{path.stem}-{test.number}", etree.tostring(test.document, encoding="UTF-8"))
                )
        return tuple(found)
    found = [
        (p.name, p.read_bytes()) for p in sorted((base / "en16931" / "cii-examples").glob("*.xml"))
    ]
    for name, xml in examples:
        try:
            found.append(
                (f"{Path(name).stem}-as-cii.xml", write_invoice(read_invoice(xml, name), "cii"))
            )
        except InvoiceReadError:  # pragma: no cover - every Peppol example reads today
            continue
    return tuple(found)


def peppol_ids(oracle: Oracle) -> frozenset[str]:
    return frozenset(
        rule for rule in oracle.rule_ids if rule.startswith(("PEPPOL-EN16931-", "PEPPOL-COMMON-"))
    )


@cache
def compared_ids() -> frozenset[str]:
    """The PEPPOL-* ids of both bindings: a rule one binding does not have (R008 in CII, the
    P01xx in CII, …) must not fire on that syntax either."""
    ids = set()
    for source in SCHEMATRON.values():
        tree = etree.parse(str(conformance_dir() / "peppol" / "sch" / source))
        ids |= {a.get("id") for a in tree.iter("{http://purl.oclc.org/dsdl/schematron}assert")}
    return frozenset(rule for rule in ids if rule.startswith(("PEPPOL-EN16931-", "PEPPOL-COMMON-")))


def run(
    syntax: str, cache_folder: Path, count: int = VARIANTS
) -> Iterator[tuple[Variant, Comparison]]:
    base = conformance_dir()
    oracle = Oracle(base / "peppol" / "sch" / SCHEMATRON[syntax], cache=cache_folder)
    scope = compared_ids()
    compiled = library().compiled("peppol-bis-3")
    mutator = PeppolMutator(syntax, base / "en16931" / "xslt" / EN16931[syntax])
    for variant in mutator.variants(documents(syntax), count, SEED):
        yield (
            variant,
            compare(variant.name, variant.xml, oracle, compiled, scope, official_scope=scope),
        )


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_mutated_invoices_get_peppols_verdict(syntax: str, oracle_cache: Path, record_property: Any) -> None:
    entries = known_differences.load(KNOWN).get(syntax, [])
    used: set[int] = set()
    failures: list[str] = []
    total = agree = stopped = 0
    for variant, comparison in run(syntax, oracle_cache):
        total += 1
        agree += comparison.agrees
        stopped += comparison.official.error is not None
        left = known_differences.unexplained(comparison, entries, used)
        if left:
            failures.append(f"{variant.name} [{variant.description}]: " + "; ".join(left))
    assert total >= VARIANTS * 0.99, f"only {total} variants were made"
    summary = agreement(f"peppol-bis-3 {syntax}", total, agree, stopped)
    record_property("agreement", summary)
    assert not failures, summary + f", {len(failures)} unexplained:\n" + "\n".join(failures[:40])
    if VARIANTS >= 2000 and SEED == 0:
        stale = known_differences.stale(entries, used)
        assert not stale, f"{summary}; entries of {KNOWN.name} nothing needs any more: {stale}"


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_the_compiled_schematron_knows_the_peppol_rules(syntax: str, tmp_path: Path) -> None:
    """The compiled .sch reports every PEPPOL-* assert of its source, with the source's flags."""
    source = conformance_dir() / "peppol" / "sch" / SCHEMATRON[syntax]
    oracle = Oracle(source, cache=tmp_path)
    tree = etree.parse(str(source))
    asserted = {
        (a.get("id"), a.get("flag"))
        for a in tree.iter("{http://purl.oclc.org/dsdl/schematron}assert")
        if a.get("id", "").startswith("PEPPOL-")
    }
    assert {rule for rule, _ in asserted} == set(peppol_ids(oracle))
    compiled = set()
    for failed in etree.parse(str(oracle.compiled)).iter(
        "{http://purl.oclc.org/dsdl/svrl}failed-assert"
    ):
        attributes = {
            a.get("name"): a.text
            for a in failed.iter("{http://www.w3.org/1999/XSL/Transform}attribute")
        }
        if (attributes.get("id") or "").startswith("PEPPOL-"):
            compiled.add((attributes["id"], attributes.get("flag")))
    assert compiled == asserted
    assert oracle.compiled.parent == tmp_path / "schematron"
    again = Oracle(source, cache=tmp_path)  # compiled once, then read from the cache
    assert again.compiled == oracle.compiled


@pytest.mark.conformance
def test_the_compiled_schematron_passes_the_peppol_unit_files(tmp_path: Path) -> None:
    """The oracle itself is right: it gives every Peppol UBL unit test its stated outcome."""
    oracle = Oracle(conformance_dir() / "peppol" / "sch" / SCHEMATRON["ubl"], cache=tmp_path)
    wrong = []
    tests = 0
    for path in sorted((conformance_dir() / "peppol" / "ubl-unit").glob("*.xml")):
        for test in load_test_set(path):
            tests += 1
            result = oracle.judge(etree.tostring(test.document))
            for rule, expected in test.expectations.items():
                flags = {flag for fired, flag in result.fired if fired == rule}
                ok = (
                    not flags
                    if expected == "success"
                    else ("fatal" if expected == "error" else "warning") in flags
                )
                if not ok or result.error:
                    wrong.append(
                        f"{path.name} test {test.number}: {rule} expected {expected}, got {sorted(flags)} {result.error or ''}"
                    )
    assert tests > 200
    assert not wrong, "\n".join(wrong)


@pytest.mark.conformance
def test_cli_oracle_takes_a_schematron(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = conformance_dir()
    good = base / "peppol" / "examples" / "base-example.xml"
    broken = tmp_path / "no-buyer-reference.xml"
    # PEPPOL-EN16931-R003: neither a buyer reference nor an order reference.
    root = etree.parse(str(good)).getroot()
    for tag in ("BuyerReference", "OrderReference"):
        for element in root.findall(f"{{*}}{tag}"):
            root.remove(element)
    broken.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    sch = base / "peppol" / "sch" / SCHEMATRON["ubl"]
    # A Norwegian invoice: Peppol's national NO-R-* rules, which peppol-bis-3 does not carry.
    norwegian = base / "en16931" / "ubl-examples" / "ubl-tc434-example2.xml"
    arguments = ["conformance", "--ruleset", "peppol-bis-3", "--oracle", str(sch)]
    code = main([*arguments, "--only", "PEPPOL-*", str(good), str(broken), str(norwegian)])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[-1].startswith("differential: 3 documents, ")
    agreeing = int(lines[-1].split(", ")[1].split()[0])
    assert code == (0 if agreeing == 3 else 1)
    assert len(lines) - 1 == 3 - agreeing
    assert "matching PEPPOL-*" in captured.err
    # Without --only, every rule id of the stylesheet is compared: the national rules differ.
    assert main([*arguments, str(norwegian)]) == 1
    assert "official only: NO-R-" in capsys.readouterr().out


def _ram(element: etree._Element, path: str) -> list[etree._Element]:
    return element.findall(path, {"ram": RAM, "udt": UDT})


def _identify(element: etree._Element, scheme: str, value: str) -> None:
    element.set("schemeID", scheme)
    element.text = value


def _add_reference(root: etree._Element, type_code: str) -> None:
    agreement = _ram(root, ".//ram:ApplicableHeaderTradeAgreement")[0]
    for number in (1, 2):
        document = etree.SubElement(agreement, f"{{{RAM}}}AdditionalReferencedDocument")
        etree.SubElement(document, f"{{{RAM}}}IssuerAssignedID").text = f"REF-{number}"
        etree.SubElement(document, f"{{{RAM}}}TypeCode").text = type_code


def _seller_address(root: etree._Element) -> etree._Element:
    return _ram(root, ".//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID")[0]


def _note_with_subject(root: etree._Element) -> None:
    document = _ram(root, ".//{*}ExchangedDocument")[0]
    note = etree.SubElement(document, f"{{{RAM}}}IncludedNote")
    etree.SubElement(note, f"{{{RAM}}}Content").text = "Note"
    etree.SubElement(note, f"{{{RAM}}}SubjectCode").text = "AAI"


def _attachment(root: etree._Element) -> None:
    agreement = _ram(root, ".//ram:ApplicableHeaderTradeAgreement")[0]
    document = etree.SubElement(agreement, f"{{{RAM}}}AdditionalReferencedDocument")
    etree.SubElement(document, f"{{{RAM}}}IssuerAssignedID").text = "ATT-1"
    etree.SubElement(document, f"{{{RAM}}}TypeCode").text = "916"
    binary = etree.SubElement(
        document, f"{{{RAM}}}AttachmentBinaryObject", mimeCode="text/plain", filename="a.txt"
    )
    binary.text = "aGVsbG8="


RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"

#: Where Peppol's CII binding has rules of its own, one document that makes each fire.
CII_BINDING_CASES = {
    "PEPPOL-COMMON-R048": lambda root: _identify(_seller_address(root), "9906", "IT12345678901"),
    "PEPPOL-EN16931-CL001": _attachment,
    "PEPPOL-EN16931-F001": lambda root: _ram(root, ".//{*}IssueDateTime/udt:DateTimeString")[0].set(
        "format", "610"
    ),
    "PEPPOL-EN16931-R002": _note_with_subject,
    # The delivery location (BT-71): checked in CII, not in UBL.
    "PEPPOL-COMMON-R040": lambda root: _identify(
        etree.SubElement(_ram(root, ".//ram:ShipToTradeParty")[0], f"{{{RAM}}}GlobalID"),
        "0088",
        "5790000436058",
    ),
    "PEPPOL-EN16931-R053": lambda root: _ram(root, ".//ram:TaxTotalAmount")[0].set(
        "currencyID", "USD"
    ),
    "PEPPOL-EN16931-CL008": lambda root: _seller_address(root).attrib.pop("schemeID"),
    "PEPPOL-EN16931-R080": lambda root: _add_reference(root, "50"),
    "PEPPOL-EN16931-R006": lambda root: _add_reference(root, "130"),
}


@pytest.mark.conformance
@pytest.mark.parametrize("rule", sorted(CII_BINDING_CASES))
def test_the_cii_binding_rules_of_its_own(rule: str, oracle_cache: Path) -> None:
    """Each fires, for Peppol's CII Schematron and for us, with nothing else differing."""
    base = conformance_dir()
    source = dict(documents("cii"))["base-example-as-cii.xml"]
    root = etree.fromstring(source)
    CII_BINDING_CASES[rule](root)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    oracle = Oracle(base / "peppol" / "sch" / SCHEMATRON["cii"], cache=oracle_cache)
    comparison = compare(
        rule,
        xml,
        oracle,
        library().compiled("peppol-bis-3"),
        compared_ids(),
        official_scope=compared_ids(),
    )
    assert rule in {fired for fired, _ in comparison.official.fired}, comparison.official
    assert comparison.agrees, comparison.describe()
