"""Read any supported document into the model, and write the model in any syntax.

The syntax is detected from the content, never from a file name: a PDF is
Factur-X, a JSON object is the model's own JSON, and XML is told apart by its
root element's namespace.
"""

from __future__ import annotations

from pathlib import Path

from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.invoice import Invoice
from aiguillage.model.xmlsafe import check_size, parse_xml, root_tag

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

#: UBL documents larger than this are read as a stream (lines dropped once read):
#: the same invoice, with a peak memory well below the whole tree's.
STREAM_ABOVE_BYTES = 1024 * 1024
_UBL_ROOTS = frozenset({f"{{{UBL_INVOICE_NS}}}Invoice", f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote"})

#: Output formats accepted by `write_invoice` and `aiguillage convert --to`.
WRITE_FORMATS = ("ubl", "cii", "facturx", "json")


def detect_syntax(data: bytes) -> str:
    """Name the syntax of `data` from its first bytes: "pdf", "json" or "xml"."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"{", b"[")):
        return "json"
    if head.startswith(b"<"):
        return "xml"
    return "unknown"


def read_invoice(data: bytes, source: str | None = None, *, limit: int | None = None) -> Invoice:
    """Read UBL, CII, Factur-X PDF or JSON bytes into an `Invoice`.

    Raises `InvoiceReadError` (with source, line and column where known) when
    the bytes are not a readable invoice.
    """
    check_size(data, source, limit)
    kind = detect_syntax(data)
    if kind == "pdf":
        from aiguillage.model.facturx import read_facturx

        return read_facturx(data, source)
    if kind == "json":
        from aiguillage.model.jsonio import read_json

        return read_json(data, source)
    if kind != "xml":
        raise InvoiceReadError(
            "not an invoice: expected XML (UBL or CII), a Factur-X PDF or JSON",
            source=source,
            line=1,
            column=1,
            kind="unknown_syntax",
        )
    if len(data) > STREAM_ABOVE_BYTES and root_tag(data, source) in _UBL_ROOTS:
        from aiguillage.model.ubl import read_ubl_bytes

        return read_ubl_bytes(data, source, limit=limit)
    root = parse_xml(data, source, limit=limit)
    return read_xml_root(root, source, size=len(data))


def read_xml_root(root, source: str | None = None, *, size: int | None = None) -> Invoice:  # noqa: ANN001
    """Dispatch an already parsed (and trusted) XML root to the UBL or CII reader."""
    namespace, _, local = root.tag.rpartition("}")
    namespace = namespace.lstrip("{")
    if (namespace, local) in ((UBL_INVOICE_NS, "Invoice"), (UBL_CREDIT_NOTE_NS, "CreditNote")):
        from aiguillage.model.ubl import read_ubl

        return read_ubl(root, source, size=size)
    if (namespace, local) == (CII_NS, "CrossIndustryInvoice"):
        from aiguillage.model.cii import read_cii

        return read_cii(root, source, size=size)
    shown = f"{{{namespace}}}{local}" if namespace else local
    raise InvoiceReadError(
        f"unknown root element <{shown}>: expected UBL Invoice or CreditNote, or CII CrossIndustryInvoice",
        source=source,
        line=root.sourceline,
        kind="unknown_root",
    )


def read_invoice_file(path: str | Path, *, limit: int | None = None) -> Invoice:
    """Read a file; the error names the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvoiceReadError(f"cannot read file: {exc.strerror}", source=str(path)) from None
    return read_invoice(data, str(path), limit=limit)


def write_invoice(invoice: Invoice, fmt: str) -> bytes:
    """Write the invoice as "ubl", "cii", "facturx" (PDF/A-3 with CII inside) or "json"."""
    if fmt == "ubl":
        from aiguillage.model.ubl import write_ubl

        return write_ubl(invoice)
    if fmt == "cii":
        from aiguillage.model.cii import write_cii

        return write_cii(invoice)
    if fmt == "facturx":
        from aiguillage.model.facturx import write_facturx

        return write_facturx(invoice)
    if fmt == "json":
        from aiguillage.model.jsonio import write_json

        return write_json(invoice)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(WRITE_FORMATS)}")
