"""Tell a statement's format from its content and read it."""

from __future__ import annotations

from aiguillage.payments.statements.base import Statement, StatementError
from aiguillage.payments.statements.camt import read_camt
from aiguillage.payments.statements.cfonb import read_cfonb
from aiguillage.payments.statements.mt940 import read_mt940

FORMATS = ("camt", "mt940", "cfonb120")


def sniff(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "camt"
    if b":20:" in head or b":61:" in data[:65536] or head.startswith(b"{1:"):
        return "mt940"
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first[:2] == b"01" and len(first) >= 118:
        return "cfonb120"
    raise StatementError("unknown statement format: expected camt.053/054 XML, MT940 or CFONB 120", line=1)


def read_statement(data: bytes, source: str | None = None, *, format: str | None = None) -> Statement:
    """The statement in `data`; `format` ("camt", "mt940", "cfonb120") when known, else told from the content."""
    kind = format or sniff(data)
    if kind == "camt" or kind.startswith("camt."):
        return read_camt(data, source)
    if kind == "mt940":
        return read_mt940(data, source)
    if kind in ("cfonb120", "cfonb"):
        return read_cfonb(data, source)
    raise StatementError(f"unknown statement format {format!r} (use {', '.join(FORMATS)})")
