"""What every statement reader produces, and the error it raises on bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class StatementError(ValueError):
    """Bad statement input, with where it is: file line (and column) or the XML field."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 field: str | None = None) -> None:
        where = ", ".join(p for p in (f"line {line}" if line else "", f"column {column}" if column else "",
                                      f"field {field}" if field else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.message, self.line, self.column, self.field = message, line, column, field


@dataclass(frozen=True)
class StatementLine:
    """One booked movement; `amount` is positive for money in (credits), negative for money out."""

    number: int
    amount: Decimal
    currency: str
    booked_on: date
    #: The bank's reference for the movement (AcctSvcrRef, end-to-end id, MT940 bank reference).
    reference: str | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    remittance: str | None = None
    #: Where the line starts in the file (for messages).
    source_line: int | None = None


@dataclass
class Statement:
    format: str
    account: str | None
    lines: list[StatementLine] = field(default_factory=list)
