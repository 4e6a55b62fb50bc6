"""What a Factur-X PDF says about itself: its XMP and its embedded invoice file, as syntax facts.

The Factur-X rules (`rulesets/standard/factur-x.rules`, FX-PDF-*) judge that the
PDF declares PDF/A-3 (`pdfaid:part`, `pdfaid:conformance`), that its Factur-X XMP
names the profile BT-24 declares (`fx:ConformanceLevel`) and the embedded file
(`fx:DocumentFileName`, `fx:DocumentType`, `fx:Version`), and that the file is
embedded under that name with an allowed AFRelationship. The reader only records
what it finds (pypdf reads the PDF), one `other` fact per property under the path
`pdf/…`; a property the PDF lacks gives no fact, and the rules say what is missing.
"""

from __future__ import annotations

import io
import logging

from aiguillage.model.facts import FactKind, SyntaxFact

#: The Factur-X XMP extension schema's namespace (Factur-X 1.0x, also ZUGFeRD 2.x).
FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
_FX_PROPERTIES = ("ConformanceLevel", "DocumentFileName", "DocumentType", "Version")
_INVOICE_FILES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")

logging.getLogger("pypdf").setLevel(logging.ERROR)


def _fact(path: str, value: str | None, detail: str | None = None) -> SyntaxFact:
    return SyntaxFact(kind=FactKind.OTHER, path=path, value=value, detail=detail)


def pdf_facts(data: bytes) -> list[SyntaxFact]:
    """The PDF/A and Factur-X declarations of a PDF; unreadable parts give no fact."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - the caller has already read the invoice from it
        return []
    facts = _xmp_facts(reader)
    facts += _attachment_facts(reader)
    return facts


def _xmp_facts(reader) -> list[SyntaxFact]:  # noqa: ANN001 - a pypdf reader
    try:
        xmp = reader.xmp_metadata
    except Exception:  # noqa: BLE001 - a broken metadata stream is as good as none
        return []
    if xmp is None:
        return []
    facts = [_fact("pdf/xmp", "present")]
    for name, value in (("pdfaid:part", xmp.pdfaid_part), ("pdfaid:conformance", xmp.pdfaid_conformance)):
        if value is not None:
            facts.append(_fact(f"pdf/xmp/{name}", str(value).strip()))
    for node in xmp.get_nodes_in_namespace("", FX_NS):
        if node.localName in _FX_PROPERTIES:
            text = "".join(child.data for child in node.childNodes if child.nodeType == child.TEXT_NODE)
            facts.append(_fact(f"pdf/xmp/fx:{node.localName}", text.strip()))
    return facts


def _attachment_facts(reader) -> list[SyntaxFact]:  # noqa: ANN001 - a pypdf reader
    facts = []
    try:
        attachments = list(reader.attachment_list)
    except Exception:  # noqa: BLE001
        return []
    associated = _associated_names(reader)
    for attachment in attachments:
        if attachment.name.lower() not in _INVOICE_FILES:
            continue
        try:
            relationship = attachment.associated_file_relationship
        except Exception:  # noqa: BLE001
            relationship = None
        relationship = str(relationship).lstrip("/") if relationship else None
        facts.append(_fact("pdf/embedded", attachment.name, relationship))
        if attachment.name in associated:
            facts.append(_fact("pdf/associated", attachment.name))
    return facts


def _associated_names(reader) -> set[str]:  # noqa: ANN001 - a pypdf reader
    """The file names the document catalog's /AF array lists (PDF/A-3 associated files)."""
    try:
        files = reader.trailer["/Root"].get("/AF")
        files = files.get_object() if files is not None else []
        return {str(f.get_object().get("/UF") or f.get_object().get("/F")) for f in files}
    except Exception:  # noqa: BLE001
        return set()
