"""Factur-X: the profile chosen from BT-24, the profile rulesets' disables, and the FX-PDF checks of a PDF.

PDFs are made here with the `factur-x` package (which writes the PDF/A-3 XMP) and pypdf
(which embeds a file without it), from the project's own Factur-X sample.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import REPO, conformance_dir
from facturx import generate_from_binary
from pypdf import PdfReader, PdfWriter

from aiguillage.cli.main import main
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library, load, rulesets_root
from aiguillage.model.facturx import embedded_xml
from aiguillage.model.rendition import render_pdf
from aiguillage.model.syntaxes import read_invoice
from aiguillage.testing.facturx_oracle import GUIDELINES, RULESETS, FacturXOracle, stylesheet
from aiguillage.testing.facturx_profiles import disabled, inherited_rules
from aiguillage.testing.facturx_variants import as_profile

SAMPLE_PDF = REPO / "samples" / "fr" / "fr-mixed-M1-facturx.pdf"
SAMPLE_CII = REPO / "samples" / "fr" / "fr-goods-B1-cii.xml"


def findings(data: bytes, source: str = "invoice") -> dict[str, str]:
    return {f.rule: f.severity for f in evaluate(read_invoice(data, source), load("factur-x")).findings}


def fx_findings(data: bytes, source: str = "invoice.pdf") -> dict[str, str]:
    return {rule: severity for rule, severity in findings(data, source).items() if rule.startswith("FX-")}


# ----------------------------------------------------------------------------- the profile


@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_bt24_chooses_the_profile_ruleset(profile: str) -> None:
    invoice = read_invoice(as_profile(SAMPLE_CII.read_bytes(), profile))
    decision = evaluate(invoice, load("factur-x"))
    assert [r.name for r in decision.rulesets][-1] == RULESETS[profile]
    assert "FX-01" not in {f.rule for f in decision.findings}


@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_a_profile_invoice_made_from_a_valid_one_has_no_fatal_finding(profile: str) -> None:
    fatal = {r for r, s in findings(as_profile(SAMPLE_CII.read_bytes(), profile)).items() if s in ("fatal", "error")}
    assert fatal == set()


def test_minimum_drops_the_rules_about_lines() -> None:
    minimum = as_profile(SAMPLE_CII.read_bytes(), "minimum")
    assert b"IncludedSupplyChainTradeLineItem" not in minimum
    assert not {"BR-16", "BR-10"} & set(findings(minimum))  # no lines, no buyer address: fine in MINIMUM
    basic = minimum.replace(GUIDELINES["minimum"].encode(), GUIDELINES["basic"].encode())
    assert {"BR-16", "BR-10"} <= set(findings(basic))  # the same invoice declared BASIC is judged as EN 16931


def test_an_unknown_profile_is_judged_by_factur_x_itself() -> None:
    xml = SAMPLE_CII.read_bytes()
    guideline = re.search(rb"<ram:GuidelineSpecifiedDocumentContextParameter>\s*<ram:ID>([^<]*)</ram:ID>", xml).group(1)
    unknown = xml.replace(guideline, b"urn:factur-x.eu:1p0:comfort")
    decision = evaluate(read_invoice(unknown), load("factur-x"))
    assert [r.name for r in decision.rulesets][-1] == "factur-x"
    assert "FX-01" in {f.rule for f in decision.findings}


def test_a_profile_ruleset_on_its_own_chooses_no_other_profile() -> None:
    assert library().compiled("factur-x-basic").profiles == {}
    minimum = as_profile(SAMPLE_CII.read_bytes(), "minimum")
    decision = evaluate(read_invoice(minimum), load("factur-x-basic"))
    assert [r.name for r in decision.rulesets][-1] == "factur-x-basic"
    assert "BR-16" in {f.rule for f in decision.findings}


@pytest.mark.conformance
@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_the_disables_are_those_the_artefact_calls_for(profile: str) -> None:
    text = (rulesets_root() / "standard" / f"{RULESETS[profile]}.rules").read_text(encoding="utf-8")
    written = [r.strip() for line in re.findall(r"^\s*disable (.*)$", text, re.MULTILINE) for r in line.split(",")]
    ids = FacturXOracle(stylesheet(profile, conformance_dir())).rule_ids
    assert written == disabled(profile, inherited_rules(), ids), (
        f"regenerate: python3 -m aiguillage.testing.facturx_profiles {profile}"
    )


# ----------------------------------------------------------------------------- the PDF


def test_the_sample_pdf_declares_itself_as_factur_x_asks() -> None:
    assert fx_findings(SAMPLE_PDF.read_bytes()) == {}


def test_an_xml_invoice_gets_no_pdf_finding() -> None:
    assert fx_findings(embedded_xml(SAMPLE_PDF.read_bytes()), "invoice.xml") == {}


def _plain_pdf() -> tuple[bytes, bytes]:
    data = SAMPLE_PDF.read_bytes()
    return render_pdf(read_invoice(data, "sample.pdf"), "en"), embedded_xml(data)


def test_an_xmp_level_other_than_bt24_is_a_finding() -> None:
    pdf, xml = _plain_pdf()
    basic_xmp = generate_from_binary(pdf, xml, flavor="factur-x", level="basic", check_xsd=False)
    assert fx_findings(basic_xmp) == {"FX-PDF-05": "fatal"}
    decision = evaluate(read_invoice(basic_xmp, "b.pdf"), load("factur-x"))
    assert "BASIC" in next(f.message for f in decision.findings if f.rule == "FX-PDF-05")


def test_the_level_agrees_with_bt24_for_every_profile() -> None:
    pdf, xml = _plain_pdf()
    for profile in GUIDELINES:
        made = generate_from_binary(pdf, as_profile(xml, profile), flavor="factur-x", level=profile, check_xsd=False)
        assert "FX-PDF-05" not in fx_findings(made), profile


def test_a_pdf_without_xmp_and_with_an_ill_named_file_is_reported() -> None:
    pdf, xml = _plain_pdf()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_attachment("zugferd-invoice.xml", xml)
    out = io.BytesIO()
    writer.write(out)
    found = fx_findings(out.getvalue())
    # no XMP (so no PDF/A-3 identification), not named factur-x.xml, no AFRelationship, not an associated file
    assert found == {"FX-PDF-01": "fatal", "FX-PDF-06": "fatal", "FX-PDF-11": "fatal", "FX-PDF-12": "fatal"}


def test_a_pdf_that_does_not_declare_pdfa3_is_reported() -> None:
    pdf, xml = _plain_pdf()
    made = generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=False)
    downgraded = made.replace(b"<pdfaid:part>3</pdfaid:part>", b"<pdfaid:part>2</pdfaid:part>")
    if downgraded == made:  # the XMP stream is compressed: write it uncompressed and change it there
        made = generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, xmp_compression=False)
        downgraded = made.replace(b"<pdfaid:part>3</pdfaid:part>", b"<pdfaid:part>2</pdfaid:part>")
    assert downgraded != made
    assert fx_findings(downgraded) == {"FX-PDF-02": "fatal"}


# ----------------------------------------------------------------------------- the CLI


@pytest.mark.conformance
def test_conformance_oracle_judges_a_profile_with_its_artefact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    invoice = tmp_path / "basic.xml"
    invoice.write_bytes(as_profile(SAMPLE_CII.read_bytes(), "basic"))
    code = main(["conformance", "--ruleset", "factur-x-basic", "--oracle", str(stylesheet("basic", conformance_dir())), str(invoice), str(SAMPLE_PDF)])
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == "differential: 2 documents, 2 agree, 0 differ (100.0%)"
    assert code == 0
    assert "Factur-X_1.09_BASIC.xsl" in out.err


@pytest.mark.conformance
def test_conformance_oracle_sends_each_invoice_to_the_artefact_of_its_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for profile in GUIDELINES:
        (tmp_path / f"{profile}.xml").write_bytes(as_profile(SAMPLE_CII.read_bytes(), profile))
    oracles = [arg for profile in GUIDELINES for arg in ("--oracle", str(stylesheet(profile, conformance_dir())))]
    code = main(["conformance", "--ruleset", "factur-x", *oracles, str(tmp_path)])
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == "differential: 5 documents, 5 agree, 0 differ (100.0%)"
    assert code == 0
    # a MINIMUM invoice judged by the EN 16931 artefact would not agree: the routing is what makes this pass
    code = main(["conformance", "--ruleset", "factur-x", "--oracle", str(stylesheet("en16931", conformance_dir())), str(tmp_path / "minimum.xml")])
    assert capsys.readouterr().out.strip().splitlines()[-1] == "differential: 1 documents, 0 agree, 1 differ (0.0%)"
    assert code == 1


@pytest.mark.conformance
def test_the_artefacts_verdicts_are_named_by_their_bracketed_ids() -> None:
    oracle = FacturXOracle(stylesheet("en16931", conformance_dir()))
    assert {"BR-52", "BR-FX-EN-04", "PEPPOL-EN16931-R008"} <= oracle.rule_ids
    assert "FX-SCH-A-000280" not in oracle.rule_ids  # BR-52's serial in this artefact: named by its bracket
    xml = as_profile(SAMPLE_CII.read_bytes(), "en16931")
    no_currency = re.sub(rb"<ram:InvoiceCurrencyCode>[^<]*</ram:InvoiceCurrencyCode>", b"", xml)
    assert ("BR-05", "fatal") in oracle.judge(no_currency).fired
    assert oracle.judge(xml).fired == frozenset()


def test_the_cii_inside_a_pdf_is_judged_by_the_cii_binding() -> None:
    """A date without format="102" is no date in CII (BR-03, CII-DT-037): inside a PDF as in the XML."""
    pdf, xml = _plain_pdf()
    broken = re.sub(rb'(<ram:IssueDateTime>\s*<udt:DateTimeString) format="102"', rb"\1", xml, count=1)
    assert broken != xml
    in_xml = findings(broken, "invoice.xml")
    in_pdf = findings(generate_from_binary(pdf, broken, flavor="factur-x", level="en16931", check_xsd=False), "invoice.pdf")
    assert "BR-03" in in_xml
    assert {r: s for r, s in in_pdf.items() if not r.startswith("FX-")} == in_xml
