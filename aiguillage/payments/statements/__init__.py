"""Bank statement readers: camt.053 / camt.054 (ISO 20022), MT940 (SWIFT), CFONB 120 (French banks).

Each reader turns a file into `StatementLine`s (credits and debits, exact
amounts) or raises `StatementError` naming the line (and column or field)
that is wrong. `read_statement` tells the format from the content.
"""

from __future__ import annotations

from aiguillage.payments.statements.base import Statement, StatementError, StatementLine
from aiguillage.payments.statements.detect import read_statement

__all__ = ["Statement", "StatementError", "StatementLine", "read_statement"]
