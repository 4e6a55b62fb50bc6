"""CFONB 120: the French banks' fixed-width statement ("relevé de compte 120 caractères").

No maintained Python parser exists, so this is ours. Records are 120
characters: 01 old balance, 04 movement, 05 complement of the movement
before it (qualifier NPY: payer name; the others: more remittance text),
07 new balance. An amount is 14 characters whose last one carries both the
last digit and the sign ("{" and "A"–"I" positive, "}" and "J"–"R" negative),
with the number of decimals in column 20.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aiguillage.payments.statements.base import Statement, StatementError, StatementLine

RECORD = 120
_POSITIVE = {"{": 0, **{chr(ord("A") + i): i + 1 for i in range(9)}}
_NEGATIVE = {"}": 0, **{chr(ord("J") + i): i + 1 for i in range(9)}}
#: ISO 4217 currency codes as CFONB writes them (alphabetic; old files may hold the numeric code).
_NUMERIC_CURRENCIES = {"978": "EUR", "840": "USD", "826": "GBP", "756": "CHF"}


def _cut(record: str, start: int, end: int) -> str:
    """Columns start..end, counted from 1 as the CFONB layout documents them."""
    return record[start - 1:end]


def _amount(record: str, line: int) -> Decimal:
    field = _cut(record, 91, 104)
    digits, last = field[:-1], field[-1:]
    if not digits.isdigit() or (last not in _POSITIVE and last not in _NEGATIVE):
        raise StatementError(f"amount {field!r} is not a CFONB signed amount", line=line, column=91, field="montant")
    decimals_text = _cut(record, 20, 20)
    if not decimals_text.isdigit():
        raise StatementError(f"number of decimals {decimals_text!r} is not a digit", line=line, column=20,
                             field="nombre de décimales")
    value = Decimal(digits + str(_POSITIVE.get(last, _NEGATIVE.get(last)))).scaleb(-int(decimals_text))
    return value if last in _POSITIVE else -value


def _date(text: str, line: int, column: int, name: str) -> date:
    try:
        return date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        raise StatementError(f"{name} {text!r} is not a date DDMMYY", line=line, column=column, field=name) from None


def read_cfonb(data: bytes, source: str | None = None) -> Statement:
    """CFONB 120 bytes (records on lines, or one run of 120-character records) → a Statement."""
    text = data.decode("latin-1")
    rows = text.splitlines()
    if len(rows) == 1 and len(rows[0]) > RECORD:  # no line breaks: fixed records back to back
        rows = [rows[0][i:i + RECORD] for i in range(0, len(rows[0]), RECORD)]
    statement = Statement(format="cfonb120", account=None)
    current: dict[str, object] | None = None
    for line_number, raw in enumerate(rows, start=1):
        record = raw.rstrip("\r\n")
        if not record.strip():
            continue
        if len(record) < RECORD:
            record = record.ljust(RECORD)
        kind = record[:2]
        if kind not in ("01", "04", "05", "07"):
            raise StatementError(f"record code {kind!r} is not 01, 04, 05 or 07", line=line_number, column=1,
                                 field="code enregistrement")
        if kind == "01":
            statement.account = statement.account or _cut(record, 22, 32).strip() or None
        elif kind == "04":
            if current is not None:
                statement.lines.append(_finish(current))
            currency = _cut(record, 17, 19).strip()
            current = {
                "number": len(statement.lines) + 1,
                "amount": _amount(record, line_number),
                "currency": _NUMERIC_CURRENCIES.get(currency, currency),
                "booked_on": _date(_cut(record, 35, 40), line_number, 35, "date comptable"),
                "label": [_cut(record, 49, 79).strip()],
                "reference": _cut(record, 105, 120).strip() or None,
                "payer_name": None,
                "source_line": line_number,
            }
        elif kind == "05":
            if current is None:
                raise StatementError("a 05 complement record with no 04 movement before it", line=line_number,
                                     column=1, field="code enregistrement")
            qualifier, info = _cut(record, 46, 48), _cut(record, 49, 118).strip()
            if qualifier == "NPY" and info:
                current["payer_name"] = info
            elif info:
                current["label"].append(info)  # type: ignore[union-attr]
        elif current is not None:  # 07: the movements are over
            statement.lines.append(_finish(current))
            current = None
    if current is not None:
        statement.lines.append(_finish(current))
    return statement


def _finish(current: dict[str, object]) -> StatementLine:
    label = " ".join(p for p in current.pop("label") if p)  # type: ignore[union-attr]
    return StatementLine(remittance=label or None, **current)  # type: ignore[arg-type]
