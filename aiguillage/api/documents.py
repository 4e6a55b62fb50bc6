"""Invoice documents in and out of the API: reading a request body, writing a stored invoice.

An ERP sends whatever its output module produces, so the body is read by
content: the declared Content-Type must be one we read (else 415), and it
must agree with what the bytes are (a PDF sent as `application/xml` is a
client bug worth naming: 400). A missing Content-Type or
`application/octet-stream` means "look at the bytes". Reading problems
(malformed or hostile XML, bad JSON, too large) are `InvoiceReadError`s,
which the app already answers as problem documents with line and column.
"""

from __future__ import annotations

from flask import Response, request

from aiguillage.api.problems import Problem
from aiguillage.model.invoice import Invoice
from aiguillage.model.rendition import render_pdf
from aiguillage.model.syntaxes import detect_syntax, read_invoice, write_invoice

#: Media types `POST /v1/evaluate` and `POST /v1/invoices` accept, as documented in OpenAPI.
DOCUMENT_TYPES = ("application/xml", "text/xml", "application/pdf", "application/json", "application/octet-stream")

#: Declared media type → the syntax family it promises ("any": look at the bytes).
_FAMILIES = {
    "application/xml": "xml",
    "text/xml": "xml",
    "application/pdf": "pdf",
    "application/json": "json",
    "application/octet-stream": "any",
    "": "any",
}

#: Output formats of `GET /v1/invoices/{id}/document`, with their media types.
OUTPUT_TYPES = {
    "ubl": "application/xml",
    "cii": "application/xml",
    "facturx": "application/pdf",
    "pdf": "application/pdf",
    "json": "application/json",
}


def _family(mimetype: str) -> str | None:
    if mimetype in _FAMILIES:
        return _FAMILIES[mimetype]
    if mimetype.endswith("+xml"):
        return "xml"
    if mimetype.endswith("+json"):
        return "json"
    return None


def read_body() -> tuple[Invoice, bytes]:
    """The request body read as an invoice, and the bytes as received (kept as the original)."""
    declared = request.mimetype or ""
    family = _family(declared)
    if family is None:
        raise Problem(
            415,
            f"cannot read an invoice sent as {declared}: send UBL or CII as application/xml, "
            "Factur-X as application/pdf, or JSON as application/json",
            type="unsupported-media-type",
            title="Unsupported Media Type",
        )
    data = request.get_data(cache=True)
    if not data:
        raise Problem(400, "the body is empty: send the invoice document", type="invalid-request", title="Invalid request")
    detected = detect_syntax(data)
    if family != "any" and detected in ("xml", "pdf", "json") and detected != family:
        raise Problem(
            400,
            f"the Content-Type says {declared} but the body is {detected.upper()}",
            type="unreadable-document:content_type_mismatch",
            title="Unreadable document",
            kind="content_type_mismatch",
        )
    return read_invoice(data, "body"), data


def document_response(invoice: Invoice, fmt: str, *, original: bytes, lang: str = "en",
                      filename: str = "invoice") -> Response:
    """The invoice as `fmt`: a syntax, a human-readable PDF, or the original bytes as received.

    The original's media type is told from its bytes, not from what the client declared when
    sending it (an ERP may have sent XML as application/octet-stream).
    """
    if fmt == "original":
        media = _media_for(original)
        return _download(original, media, f"{filename}{_extension(media)}")
    if fmt == "pdf":
        return _download(render_pdf(invoice, lang=lang), "application/pdf", f"{filename}.pdf")
    media = OUTPUT_TYPES[fmt]
    return _download(write_invoice(invoice, fmt), media, f"{filename}-{fmt}{_extension(media)}")


def _media_for(data: bytes) -> str:
    kind = detect_syntax(data)
    return {"xml": "application/xml", "pdf": "application/pdf", "json": "application/json"}.get(
        kind, "application/octet-stream"
    )


def _extension(media: str) -> str:
    return {"application/xml": ".xml", "text/xml": ".xml", "application/pdf": ".pdf", "application/json": ".json"}.get(
        media, ""
    )


def _download(data: bytes, media: str, filename: str) -> Response:
    response = Response(data, mimetype=media)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)[:120]
    response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    return response
