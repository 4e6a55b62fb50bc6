"""Turn an invoice into the files channels carry: a syntax (UBL, CII, Factur-X, JSON) or the PDF rendition.

Adapters never write syntaxes or draw PDFs themselves: they go through here
to `model.syntaxes.write_invoice` and `model.rendition.render_pdf`, so there
is one writer per syntax and one renderer in the project. Both are injectable
so a test (or a deployment) can supply its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aiguillage.adapters.base import (
    PermanentDeliveryError,
    RenderedDocument,
    TemporaryDeliveryError,
)
from aiguillage.model.invoice import Invoice

#: (invoice, format) -> bytes, like `model.syntaxes.write_invoice`.
SyntaxWriter = Callable[[Invoice, str], bytes]
#: (invoice, lang) -> PDF bytes, like `model.rendition.render_pdf`.
PdfRenderer = Callable[[Invoice, str], bytes]

#: format -> (media type, file name suffix)
_FILES: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", ".pdf"),
    "facturx": ("application/pdf", "-facturx.pdf"),
    "ubl": ("application/xml", "-ubl.xml"),
    "cii": ("application/xml", "-cii.xml"),
    "json": ("application/json", ".json"),
}


def write_syntax(invoice: Invoice, fmt: str) -> bytes:
    """The project's writer for `fmt` (imported on use: some writers pull in heavy libraries)."""
    from aiguillage.model.syntaxes import write_invoice

    return write_invoice(invoice, fmt)


def render_rendition(invoice: Invoice, lang: str) -> bytes:
    """The project's human-readable PDF of the invoice (`model.rendition.render_pdf`)."""
    try:
        from aiguillage.model.rendition import render_pdf
    except ImportError as exc:  # a deployment without the renderer: fixable without touching the delivery
        raise TemporaryDeliveryError(f"the PDF rendition is not available: {exc}") from exc
    return render_pdf(invoice, lang=lang)


def document_stem(invoice: Invoice) -> str:
    """A file-name-safe stem from the invoice number, so a customer sees `F2026-0042.pdf`."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", invoice.number or "invoice").strip("._") or "invoice"
    return stem[:80]


class DocumentRenderer:
    """Renders documents by format name, turning writer failures into permanent delivery errors."""

    def __init__(self, writer: SyntaxWriter | None = None, pdf_renderer: PdfRenderer | None = None) -> None:
        self.writer = writer or write_syntax
        self.pdf_renderer = pdf_renderer or render_rendition

    def pdf(self, invoice: Invoice, lang: str = "en") -> bytes:
        """The readable PDF in `lang`; failures to draw this invoice are permanent."""
        try:
            return self.pdf_renderer(invoice, lang)
        except TemporaryDeliveryError:
            raise
        except Exception as exc:
            raise PermanentDeliveryError(f"cannot render invoice {invoice.number} as PDF: {exc}") from exc

    def syntax(self, invoice: Invoice, fmt: str) -> bytes:
        """The invoice in `fmt` (ubl, cii, facturx, json); an invoice the writer refuses is permanent."""
        try:
            return self.writer(invoice, fmt)
        except ImportError as exc:
            raise TemporaryDeliveryError(f"the {fmt} writer is not available: {exc}") from exc
        except Exception as exc:
            raise PermanentDeliveryError(f"cannot write invoice {invoice.number} as {fmt}: {exc}") from exc

    def document(self, invoice: Invoice, fmt: str, lang: str = "en") -> RenderedDocument:
        """One attachment-ready document: bytes with a file name and media type."""
        if fmt not in _FILES:
            raise PermanentDeliveryError(f"unknown document format {fmt!r}; expected one of {', '.join(_FILES)}")
        media_type, suffix = _FILES[fmt]
        content = self.pdf(invoice, lang) if fmt == "pdf" else self.syntax(invoice, fmt)
        return RenderedDocument(filename=document_stem(invoice) + suffix, media_type=media_type,
                                content=content, kind=fmt)
