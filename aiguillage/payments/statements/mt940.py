"""SWIFT MT940 statements, read with the `mt-940` package.

Tag :61: gives the amount, sign and date, tag :86: the details in free text.
French and many other banks put the payer and the remittance there without
structure; German banks use ?-subfields, which the package splits. The
payer's IBAN is taken from the details when one is written there.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import mt940

from aiguillage.payments.statements.base import Statement, StatementError, StatementLine

_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[0-9A-Z]{4}){2,7}(?:\s?[0-9A-Z]{1,4})?)\b")
_NAME = re.compile(r"/NAME/([^/]+)")


def read_mt940(data: bytes, source: str | None = None) -> Statement:
    text = data.decode("utf-8", errors="replace") if b"\x00" not in data else ""
    if ":61:" not in text:
        raise StatementError("not an MT940 statement (no :61: statement line)", line=1)
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as exc:  # the package raises plain exceptions on malformed tags
        raise StatementError(f"unreadable MT940: {exc}", line=_line_of(text, str(exc))) from None
    statement = Statement(format="mt940", account=transactions.data.get("account_identification"))
    lines_61 = [i for i, line in enumerate(text.splitlines(), start=1) if line.startswith(":61:")]
    for number, transaction in enumerate(transactions, start=1):
        data_ = transaction.data
        amount = data_.get("amount")
        if amount is None or data_.get("date") is None:
            raise StatementError("statement line without amount or date",
                                 line=lines_61[number - 1] if number <= len(lines_61) else None, field=":61:")
        details = _details(str(data_.get("transaction_details") or ""))
        purpose = data_.get("purpose")
        remittance = " ".join(p for p in (str(purpose) if purpose else "", details) if p)
        name = data_.get("applicant_name") or _first(_NAME, details)
        iban = data_.get("applicant_iban") or _iban_in(details)
        reference = data_.get("bank_reference") or (data_.get("customer_reference")
                                                    if data_.get("customer_reference") != "NONREF" else None)
        statement.lines.append(StatementLine(
            number=number, amount=Decimal(amount.amount), currency=str(amount.currency or data_.get("currency")),
            booked_on=_plain_date(data_.get("entry_date") or data_.get("date")), reference=reference, payer_name=name,
            payer_iban=iban.replace(" ", "") if iban else None, remittance=remittance or None,
            source_line=lines_61[number - 1] if number <= len(lines_61) else None))
    return statement


def _details(raw: str) -> str:
    """Tag 86 as one text. Banks wrap it at 65 characters, mid-word or between words: the text is given
    both with the line breaks as spaces and glued, so an invoice number cut in two is still found whole."""
    rows = [r.strip() for r in raw.splitlines() if r.strip()]
    spaced, glued = " ".join(rows), "".join(rows)
    return spaced if len(rows) < 2 else f"{spaced} | {glued}"


def _iban_in(text: str) -> str | None:
    """The first valid IBAN written in the details (a creditor reference "RF.." is not one)."""
    from stdnum import iban as iban_number

    for match in _IBAN.finditer(text):
        candidate = match.group(1).replace(" ", "")
        if not candidate.startswith("RF") and iban_number.is_valid(candidate):
            return candidate
    return None


def _plain_date(value: object) -> date:
    return date(value.year, value.month, value.day)  # type: ignore[attr-defined]


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1).strip() if match else None


def _line_of(text: str, message: str) -> int | None:
    """The line of the tag a message from the package quotes, when it quotes one."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line and line[:20] in message:
            return number
    return None
