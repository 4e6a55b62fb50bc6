"""The model's own JSON: what ERPs that do not speak UBL or CII send.

Amounts stay strings in JSON ("100.00") so no digit is lost to floating
point; a JSON number is accepted on input and read exactly as written.
Errors name the JSON pointer of the offending value.
"""

from __future__ import annotations

import json
from decimal import Decimal

from pydantic import ValidationError

from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.facts import Provenance
from aiguillage.model.invoice import Invoice
from aiguillage.model.xmlsafe import check_size


def read_json(data: bytes, source: str | None = None, *, limit: int | None = None) -> Invoice:
    """Read the model's JSON; floats are parsed as `Decimal` so digits survive."""
    check_size(data, source, limit)
    try:
        raw = json.loads(data, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        raise InvoiceReadError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno, column=exc.colno, kind="invalid_json") from None
    except UnicodeDecodeError as exc:
        raise InvoiceReadError(f"invalid JSON: not UTF-8 text ({exc.reason} at byte {exc.start})", source=source, kind="invalid_json") from None
    if not isinstance(raw, dict):
        raise InvoiceReadError("invalid JSON: the invoice must be a JSON object", source=source, pointer="", kind="invalid_json")
    raw.pop("provenance", None)
    raw = _numbers_to_text(raw)
    try:
        invoice = Invoice.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        pointer = "/" + "/".join(str(p) for p in first["loc"])
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise InvoiceReadError(f"invalid invoice JSON: {first['msg']}{more}", source=source, pointer=pointer, kind="invalid_json") from None
    invoice.provenance = Provenance(syntax="json", root=None, source=source, size=len(data))
    return invoice


def _numbers_to_text(value: object) -> object:
    """Turn parsed numbers back into their text so text fields accept them and Decimals keep digits."""
    if isinstance(value, dict):
        return {k: _numbers_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_to_text(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_json(invoice: Invoice, *, indent: int | None = 2) -> bytes:
    """Write the invoice as JSON: Decimals as strings, dates as ISO dates, empty values left out."""
    text = invoice.model_dump_json(indent=indent, exclude_none=True, exclude_defaults=True)
    return text.encode("utf-8") + b"\n"
