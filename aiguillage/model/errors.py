"""Errors raised when a document cannot be read at all.

Wrong or missing business data is never an error here (rulesets judge it);
these are for input that is not a readable invoice: malformed or hostile XML,
an unknown root element, a document over the size limit, bad JSON.
"""

from __future__ import annotations


class InvoiceReadError(ValueError):
    """The input cannot be read as an invoice; says where (source, line, column)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
        kind: str = "unreadable",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        #: JSON pointer for JSON input (`/lines/0/net_amount`).
        self.pointer = pointer
        #: A short machine-readable category: "malformed", "hostile", "too_large",
        #: "unknown_root", "unknown_syntax", "invalid_json", "unreadable".
        self.kind = kind

    def __str__(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        elif self.pointer is not None:
            where += f" at {self.pointer}"
        return f"{where}: {self.message}"


class InvoiceWriteError(ValueError):
    """The invoice cannot be written in the requested syntax."""
