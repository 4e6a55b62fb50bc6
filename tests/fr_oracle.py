"""The official French (BR-FR) and EN 16931 XSLTs as test oracles, run in Saxon-HE (saxonche).

Never part of how the product evaluates an invoice: tests compare the fr-ctc ruleset's
verdicts with these. Compiled stylesheets are cached per process (compiling the BR-FR XSLT
takes about a second; running it a few milliseconds per invoice).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from aiguillage.testing.oracle import BRACKETED_ID

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def br_fr_xslt(conformance: Path, syntax: str, *, warning: bool = False, extended: bool = False) -> Path:
    """The official stylesheet for `syntax` ("ubl" or "cii") in the conformance folder."""
    folder = conformance / "fr" / syntax
    if extended:
        return folder / f"EXTENDED-CTC-FR-{syntax.upper()}.xslt"
    return folder / f"BR-FR-Flux2-Schematron-{syntax.upper()}{'_WARNING' if warning else ''}.xslt"


def en16931_xslt(conformance: Path, syntax: str) -> Path:
    return conformance / "en16931" / "xslt" / f"EN16931-{syntax.upper()}-validation.xslt"


@cache
def _processor():  # noqa: ANN202  (a saxonche processor, untyped)
    import saxonche

    return saxonche.PySaxonProcessor(license=False)


@cache
def _executable(path: str):  # noqa: ANN202
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=path)


def failed_asserts(xml: bytes, stylesheet: Path) -> dict[str, str]:
    """Rule id -> flag of every assertion the stylesheet reports as failed (first flag wins). An
    assert without SVRL id (two in the EXTENDED-CTC-FR CII artefact) is named by the id in
    brackets opening its message, as aiguillage.testing.fr_extended_drops names it; one without
    flag (BR-CO-27 there) is fatal, as aiguillage.testing.oracle takes it."""
    node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    report = _executable(str(stylesheet)).transform_to_string(xdm_node=node)
    fired: dict[str, str] = {}
    for failed in etree.fromstring(report.encode("utf-8")).iter(f"{SVRL}failed-assert"):
        text = failed.find(f"{SVRL}text")
        bracketed = BRACKETED_ID.match("".join(text.itertext())) if text is not None else None
        fired.setdefault(failed.get("id") or (bracketed.group(1) if bracketed else ""), failed.get("flag") or "fatal")
    return fired


def xml_of(path: Path) -> tuple[bytes, str]:
    """The invoice XML of a sample (the CII inside a Factur-X PDF) and its syntax."""
    data = path.read_bytes()
    if data[:5] == b"%PDF-":
        from facturx import get_xml_from_pdf

        _name, xml = get_xml_from_pdf(data, check_xsd=False)
        return xml, "cii"
    return data, "cii" if b"CrossIndustryInvoice" in data[:2000] else "ubl"
