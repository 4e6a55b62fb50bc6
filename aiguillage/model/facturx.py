"""Factur-X / ZUGFeRD 2: a PDF/A-3 invoice with its CII XML embedded.

Reading takes the embedded XML out with the `factur-x` library, then parses it
through our hardened parser (the library's own parse is only used to find the
file) and reads it as CII; what the PDF declares (XMP, embedded file) is kept
as syntax facts (`facturx_pdf.py`). Writing renders the readable PDF (`rendition.py`),
writes the CII (`cii.py`) and lets the library embed it with the XMP metadata
of the EN 16931 profile.
"""

from __future__ import annotations

import logging

from facturx import generate_from_binary, get_xml_from_pdf

from aiguillage.model.cii import ROOT_TAG, read_cii, write_cii
from aiguillage.model.errors import InvoiceReadError, InvoiceWriteError
from aiguillage.model.facts import Provenance
from aiguillage.model.facturx_pdf import pdf_facts
from aiguillage.model.invoice import Invoice
from aiguillage.model.rendition import TITLES, render_pdf
from aiguillage.model.xmlsafe import check_size, parse_xml

#: The library logs every step at INFO and a miss at WARNING; our errors say it instead.
logging.getLogger("factur-x").setLevel(logging.ERROR)

_ZUGFERD_1_ROOT = "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument"


def read_facturx(data: bytes, source: str | None = None, *, limit: int | None = None) -> Invoice:
    """Read the CII invoice embedded in a Factur-X or ZUGFeRD 2 PDF.

    `limit` (bytes, default the configured one) bounds the PDF and the embedded XML.
    """
    check_size(data, source, limit)
    filename, xml = _embedded_xml(data, source)
    try:
        root = parse_xml(xml, source, limit=limit)
    except InvoiceReadError as exc:
        exc.message = f"in the embedded {filename}: {exc.message}"
        exc.args = (exc.message,)
        raise
    if root.tag != ROOT_TAG:
        what = "ZUGFeRD 1.0, which is not supported" if root.tag == _ZUGFERD_1_ROOT else f"<{root.tag}>"
        raise InvoiceReadError(
            f"the embedded {filename} is {what}; expected a CII CrossIndustryInvoice",
            source=source,
            kind="unknown_root",
        )
    invoice = read_cii(root, source, size=len(data))
    invoice.provenance = Provenance(syntax="facturx", root="CrossIndustryInvoice", source=source, size=len(data))
    invoice.syntax_facts.extend(pdf_facts(data))  # the PDF/A-3 and XMP declarations, for FX-PDF-*
    return invoice


def embedded_xml(data: bytes, source: str | None = None) -> bytes:
    """The CII invoice XML inside a Factur-X PDF (for tools that judge the XML itself)."""
    return _embedded_xml(data, source)[1]


def _embedded_xml(data: bytes, source: str | None) -> tuple[str, bytes]:
    """The embedded invoice file's name and bytes, or an error saying there is none."""
    try:
        filename, xml = get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:  # the PDF parser raises many kinds; all mean "not readable"
        raise InvoiceReadError(f"not a readable PDF: {exc}", source=source, kind="unreadable") from None
    if not filename or not xml:
        raise InvoiceReadError(
            "the PDF holds no Factur-X or ZUGFeRD invoice XML (no embedded factur-x.xml, zugferd-invoice.xml or xrechnung.xml)",
            source=source,
            kind="unknown_syntax",
        )
    return filename, xml


def write_facturx(invoice: Invoice, *, lang: str = "en") -> bytes:
    """A readable PDF of the invoice with its CII embedded, Factur-X profile EN 16931.

    The CII is not re-checked against the XSD here: the writer is tested to be
    schema-valid for complete invoices, and judging incomplete ones is the
    rulesets' job, not the sender's.
    """
    xml = write_cii(invoice)
    pdf = render_pdf(invoice, lang)
    try:
        return generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,
            pdf_metadata=_metadata(invoice, lang),
            lang="fr-FR" if lang == "fr" else "en-GB",
        )
    except Exception as exc:  # the library raises plain exceptions
        raise InvoiceWriteError(f"cannot build the Factur-X PDF: {exc}") from exc


def _metadata(invoice: Invoice, lang: str) -> dict[str, str]:
    """PDF metadata from the model, so the library need not read our XML back."""
    seller = invoice.seller.name if invoice.seller is not None and invoice.seller.name else ""
    titles = TITLES.get(lang, TITLES["en"])
    title = titles.get(invoice.type_code or "380", titles["380"])
    number = invoice.number or ""
    dated = f" dated {invoice.issue_date.isoformat()}" if invoice.issue_date else ""
    issued = f" issued by {seller}" if seller else ""
    return {
        "author": seller,
        "keywords": f"Factur-X, {title}",
        "title": f"{seller}: {title} {number}".strip(": "),
        "subject": f"Factur-X {title.lower()} {number}{dated}{issued}".strip(),
    }
