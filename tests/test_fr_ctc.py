"""The fr-ctc ruleset against the official FNFE-MPE BR-FR artefacts 1.4.0.

* every French sample (samples/fr/) passes the official BR-FR XSLT with nothing fired, the
  official EN 16931 XSLT with no fatal (a Factur-X PDF also the Factur-X EN16931 XSLT with
  nothing fired), and fr-ctc with no error;
* differential: generated variants of the samples (tests/fr_mutator.py), written in UBL and
  in CII, make exactly the same BR-FR ids fire in fr-ctc as in the official fatal XSLT, with
  fatal severity, and fr-ctc-transition gives the flags of the official _WARNING XSLT;
* every assertion id of the artefacts is either a rule of fr-ctc or listed below (sub-lines of
  the multi-vendor frameworks, which the model does not carry, or ids no valid invoice can fire);
* fr-ctc-transition overrides exactly the rules the _WARNING artefacts make warnings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fr_mutator import MUTATIONS, mutate
from fr_oracle import br_fr_xslt, en16931_xslt, failed_asserts, xml_of
from lxml import etree

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import load, rulesets_root
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice, read_invoice_file, write_invoice

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "samples" / "fr").glob("fr-*.*"))
#: The bases of the differential test: an Invoice and a CreditNote in UBL, an exempt invoice in CII.
BASES = ["fr-goods-B1-ubl.xml", "fr-credit-note-381-ubl.xml", "fr-exempt-VATEX-cii.xml"]
SYNTAXES = ("ubl", "cii")

#: Official ids no schema-valid invoice can fire, with why (checked against the .sch sources).
NOT_JUDGED = {
    "BR-FR-16_BT-103": "UBL: same context as BR-FR-16_BT-96 in the same pattern, so Schematron never reaches it",
    "BR-FR-DEC-01_BT-111": "same context as BR-FR-DEC-01_BT-110 in the same pattern (UBL and CII): BT-110 judges both",
    "BR-FR-30_BT-128": "UBL: a line DocumentReference has one cbc:ID; CII: looks for ram:AdditionalReferencedDocument directly under the line item, where CII has none",
    "BR-FR-01_EXT-FR-FE-136-1": "UBL only: looks for cac:DocumentReference inside a line's cac:BillingReference, which UBL does not have",
    "BR-FR-01_BT-EXT-FR-FE-136-2": "UBL only: the same context as BR-FR-01_EXT-FR-FE-136-1",
}


def official_ids(conformance: Path) -> set[str]:
    ids: set[str] = set()
    for syntax in SYNTAXES:
        sch = etree.parse(str(conformance / "fr" / syntax / f"BR-FR-Flux2-Schematron-{syntax.upper()}.sch"))
        ids |= {a.get("id") for a in sch.iter("{http://purl.oclc.org/dsdl/schematron}assert")}
    return ids


def our_ids(name: str = "fr-ctc") -> set[str]:
    folder = rulesets_root() / "standard"
    text = (folder / f"{name}.rules").read_text(encoding="utf-8")
    for include in re.findall(r'^include "([^"]+)"', text, re.MULTILINE):
        text += (folder / include).read_text(encoding="utf-8")
    return set(re.findall(r"^\s*rule (BR-FR\S+) ", text, re.MULTILINE))


def warning_flags(conformance: Path) -> dict[str, str]:
    """Rule id -> flag in the official _WARNING artefacts (UBL and CII)."""
    flags: dict[str, str] = {}
    for syntax in SYNTAXES:
        text = br_fr_xslt(conformance, syntax, warning=True).read_text(encoding="utf-8")
        for rule, flag in re.findall(r'<xsl:attribute name="id">([^<]+)</xsl:attribute>\s*<xsl:attribute name="flag">(\w+)</xsl:attribute>', text):
            flags[rule] = flag
    return flags


# --------------------------------------------------------------------------- the rule inventory


@pytest.mark.conformance
def test_every_official_id_is_a_rule_or_accounted_for(conformance: Path) -> None:
    official = official_ids(conformance)
    ours = our_ids()
    assert ours <= official, f"ids that are not official: {sorted(ours - official)}"
    assert len(official) == 199  # 198 by a regex that misses BR-FR-MV-11_BT-128 (a ">" in its test)
    unaccounted = official - ours - set(NOT_JUDGED)
    assert not unaccounted, f"official ids neither implemented nor accounted for: {sorted(unaccounted)}"
    assert not (ours & set(NOT_JUDGED)), sorted(ours & set(NOT_JUDGED))


@pytest.mark.conformance
def test_transition_overrides_exactly_the_warning_rules(conformance: Path) -> None:
    flags = warning_flags(conformance)
    text = (rulesets_root() / "standard" / "fr-ctc-transition.rules").read_text(encoding="utf-8")
    overridden = set(re.findall(r"^\s*override (\S+) severity warning", text, re.MULTILINE))
    assert overridden == {r for r in our_ids() if flags.get(r) == "warning"}
    assert all(flags.get(r) == "fatal" for r in our_ids() - overridden)


# --------------------------------------------------------------------------- the samples


def test_there_are_enough_french_samples_of_every_syntax() -> None:
    assert len(SAMPLES) >= 12
    suffixes = {p.name.rsplit("-", 1)[1] for p in SAMPLES}
    assert {"ubl.xml", "cii.xml", "facturx.pdf"} <= suffixes


@pytest.mark.conformance
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_passes_the_official_artefacts_and_fr_ctc(conformance: Path, path: Path) -> None:
    xml, syntax = xml_of(path)
    assert failed_asserts(xml, br_fr_xslt(conformance, syntax)) == {}
    # an EXTENDED-CTC-FR sample (BT-24) is judged by the profile's artefact in place of EN 16931's
    extended = b"urn.cpro.gouv.fr:1p0:extended-ctc-fr" in xml
    profile = br_fr_xslt(conformance, syntax, extended=True) if extended else en16931_xslt(conformance, syntax)
    en = {r: f for r, f in failed_asserts(xml, profile).items() if f in {"fatal", "error"}}
    assert en == {}
    if path.suffix == ".pdf":  # a Factur-X PDF: the Factur-X 1.09 EN16931 profile's own rules, warnings included
        assert failed_asserts(xml, conformance / "fr" / "factur-x" / "en16931" / "FACTUR-X_EN16931.xslt") == {}
    decision = evaluate(read_invoice_file(path), load("fr-ctc"))
    assert [f.rule for f in decision.findings if f.severity in {"fatal", "error"}] == []


# --------------------------------------------------------------------------- differential


def variants() -> list[tuple[str, str]]:
    return [(base, name) for base in BASES for name in MUTATIONS]


@pytest.fixture(scope="module")
def bases() -> dict[str, dict]:
    return {
        base: read_invoice_file(REPO / "samples" / "fr" / base).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
        for base in BASES
    }


@pytest.mark.conformance
@pytest.mark.parametrize(("base", "mutation"), variants())
def test_variant_fires_what_the_official_artefact_fires(conformance: Path, bases: dict[str, dict], base: str, mutation: str) -> None:
    doc = mutate(bases[base], mutation)
    if doc is None:
        pytest.fail(f"mutation {mutation!r} does not apply to {base}: remove it from BASES or fix it")
    invoice = Invoice.model_validate(doc)
    fatal, transition = load("fr-ctc"), load("fr-ctc-transition")
    for syntax in SYNTAXES:
        xml = write_invoice(invoice, syntax)
        read = read_invoice(xml)
        official = {r: f for r, f in failed_asserts(xml, br_fr_xslt(conformance, syntax)).items() if r.startswith("BR-FR")}
        ours = {f.rule: f.severity for f in evaluate(read, fatal).findings if f.rule.startswith("BR-FR")}
        assert ours == official, f"{syntax}: official {sorted(official)}, fr-ctc {sorted(ours)}"
        warned = {r: f for r, f in failed_asserts(xml, br_fr_xslt(conformance, syntax, warning=True)).items() if r.startswith("BR-FR")}
        ours_warned = {f.rule: f.severity for f in evaluate(read, transition).findings if f.rule.startswith("BR-FR")}
        assert ours_warned == warned, f"{syntax}, transition: official {warned}, fr-ctc-transition {ours_warned}"


@pytest.mark.conformance
def test_the_variants_exercise_most_rules(conformance: Path, bases: dict[str, dict]) -> None:
    """The mutator is only worth something if the official artefact fires on its variants.

    The rules on EXTENDED-CTC-FR terms (fr-ctc/extended.rules) are left to the variants of the
    extended samples (tests/test_fr_ctc_extended_terms.py): the EN 16931 writers do not write them.
    """
    judged = our_ids() - set(re.findall(r"^\s*rule (BR-FR\S+) ", (rulesets_root() / "standard" / "fr-ctc" / "extended.rules").read_text(encoding="utf-8"), re.MULTILINE))
    fired: set[str] = set()
    doc = bases[BASES[0]]
    for name in MUTATIONS:
        mutated = mutate(doc, name)
        if mutated is None:
            continue
        for syntax in SYNTAXES:
            fired |= set(failed_asserts(write_invoice(Invoice.model_validate(mutated), syntax), br_fr_xslt(conformance, syntax)))
    assert len(fired & judged) >= 0.85 * len(judged), sorted(judged - fired)
