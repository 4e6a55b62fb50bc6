"""Downloads: the invoice as a readable PDF (the rendition), UBL, CII or Factur-X, and query attachments.

The same writers as `GET /v1/invoices/{id}/document`; served as attachments
with a safe file name and the type the bytes are.
"""

from __future__ import annotations

from flask import Response

from aiguillage.model.invoice import Invoice
from aiguillage.model.rendition import render_pdf
from aiguillage.model.syntaxes import write_invoice

#: Download formats: media type and file suffix.
FORMATS = {
    "pdf": ("application/pdf", ".pdf"),
    "ubl": ("application/xml", "-ubl.xml"),
    "cii": ("application/xml", "-cii.xml"),
    "facturx": ("application/pdf", "-facturx.pdf"),
}

#: What a customer may attach to a query, by media type.
ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "text/plain": ".txt"}
MAX_ATTACHMENT = 5 * 1024 * 1024


def invoice_bytes(invoice: Invoice, fmt: str, lang: str) -> bytes:
    return render_pdf(invoice, lang=lang) if fmt == "pdf" else write_invoice(invoice, fmt)


def download(data: bytes, media: str, filename: str, *, inline: bool = False) -> Response:
    response = Response(data, mimetype=media)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)[:120]
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{safe}"'
    return response


def sniff(data: bytes) -> str | None:
    """The attachment's type from its bytes (what the browser declared is not trusted)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"
