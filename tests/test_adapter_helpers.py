"""Shared pieces of the adapter tests: the sample invoice and stand-ins for writers still being built.

The UBL writer (`model/ubl.py`) and the PDF rendition (`model/rendition.py`)
are written concurrently with the adapters. Until they are importable, the
tests use these stand-ins so every adapter is still exercised against its
real counterpart; once they land the real ones are used automatically.
"""

from __future__ import annotations

import importlib.util
import io
import os
from decimal import Decimal
from pathlib import Path

from lxml import etree

from aiguillage.adapters.documents import DocumentRenderer, render_rendition, write_syntax
from aiguillage.model.invoice import Invoice
from aiguillage.model.jsonio import read_json

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0042.json"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def has_module(name: str) -> bool:
    """True when a module exists (checked without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


UBL_WRITER = has_module("aiguillage.model.ubl")
RENDITION = has_module("aiguillage.model.rendition")
FACTURX_WRITER = has_module("aiguillage.model.facturx")


def sample_invoice() -> Invoice:
    """The French sample invoice: three lines, a charge, two VAT rates, GLNs for seller, buyer and delivery."""
    return read_json(SAMPLE.read_bytes(), str(SAMPLE))


def long_invoice(lines: int = 90) -> Invoice:
    """The sample with many lines, so every rendition spans several pages."""
    invoice = sample_invoice()
    template = invoice.lines[1]
    invoice.lines = [template.model_copy(update={"identifier": str(n)}, deep=True) for n in range(1, lines + 1)]
    return invoice


def _example_ubl(invoice: Invoice) -> bytes:
    """Stand-in UBL: the official Peppol base example, its number set to the invoice's, its CustomizationID
    and ProfileID removed so the adapter has to put them back."""
    base = Path(os.environ.get("AIGUILLAGE_CONFORMANCE") or REPO.parent / "shared" / "conformance")
    root = etree.fromstring((base / "peppol" / "examples" / "base-example.xml").read_bytes())
    for name in ("CustomizationID", "ProfileID"):
        root.remove(root.find(f"{{{CBC}}}{name}"))
    root.find(f"{{{CBC}}}ID").text = invoice.number
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def stand_in_writer(invoice: Invoice, fmt: str) -> bytes:
    """The project's writer for every format it has; the stand-ins above for those still missing."""
    if fmt == "ubl" and not UBL_WRITER:
        return _example_ubl(invoice)
    if fmt == "facturx" and not FACTURX_WRITER:
        return stand_in_pdf(invoice, "en")
    return write_syntax(invoice, fmt)


def stand_in_pdf(invoice: Invoice, lang: str) -> bytes:
    """Stand-in for `render_pdf` until it lands: plain text lines, 40 invoice lines a page."""
    if RENDITION:
        return render_rendition(invoice, lang)
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    title = "Facture" if lang == "fr" else "Invoice"
    rows = [f"{title} {invoice.number}", invoice.seller.name or "", invoice.buyer.name or ""]
    rows += [f"{line.identifier} {line.item.name} {line.net_amount}" for line in invoice.lines]
    rows.append(f"Total {invoice.totals.amount_with_vat} {invoice.currency_code}")
    for start in range(0, len(rows), 40):
        y = 800
        for row in rows[start:start + 40]:
            pdf.drawString(50, y, row)
            y -= 18
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_renderer() -> DocumentRenderer:
    """A renderer with the real writers where they exist and the stand-ins elsewhere."""
    return DocumentRenderer(writer=stand_in_writer, pdf_renderer=stand_in_pdf)


TOTAL = Decimal("652.75")
