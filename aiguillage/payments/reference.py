"""ISO 11649 structured creditor references ("RF" + 2 check digits + up to 21 letters or digits).

One reference per invoice, made from its number, so the customer's bank
carries it back on the transfer and the statement line names the invoice
with a check that catches every single typo and transposition (mod 97).
The check digits come from python-stdnum.
"""

from __future__ import annotations

import re

from stdnum import iso11649

from aiguillage.engine import checkdigits

#: Where an RF reference starts in free text: "RF18 5390 0754 7034", "rf18539007547034".
_RF_START = re.compile(r"\bRF\s?\d\d", re.IGNORECASE)

#: The characters a reference body may hold.
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def creditor_reference(invoice_number: str) -> str | None:
    """The RF reference for an invoice number (its letters and digits, last 21 kept); None when it has none.

    The same function rulesets call (`creditor_reference(number)`) to write it into BT-83.
    """
    return checkdigits.creditor_reference(invoice_number)


def valid_reference(text: str) -> str | None:
    """The reference in compact form when `text` is a valid RF reference, else None."""
    try:
        return iso11649.validate(text)
    except iso11649.ValidationError:
        return None


def references_in(text: str | None) -> tuple[list[str], bool]:
    """Valid RF references found in free text, and whether something that looked like one failed its check."""
    if not text:
        return [], False
    found: list[str] = []
    broken = False
    for match in _RF_START.finditer(text):
        compact = _reference_at(match.group(0), text[match.end():])
        if compact is None:
            broken = True
        elif compact not in found:
            found.append(compact)
    return found, broken


def _reference_at(start: str, rest: str) -> str | None:
    """The valid reference beginning with `start` ("RF18"), its body written in one or more groups.

    Banks print references in groups of four, so the body may run over
    several space-separated groups; groups are added one by one (at most 21
    characters) until the check digits agree.
    """
    body = ""
    for group in re.findall(r"\S+", rest)[:8]:
        chunk = re.match(r"[0-9A-Za-z]+", group)
        if chunk is None:
            break
        body += chunk.group(0)
        if len(body) > 21:
            break
        compact = valid_reference(start + body)
        if compact is not None:
            return compact
        if chunk.group(0) != group:  # punctuation ends the reference
            break
    return None


def normalise_number(text: str) -> str:
    """An invoice number reduced to its letters and digits, upper case: how it is looked up in free text."""
    return _NOT_ALNUM.sub("", text.upper())


def tokens(text: str | None) -> list[str]:
    """Candidate invoice numbers in free text: runs of letters, digits and separators, normalised.

    "Fact. F-2026-0042 et F-2026-0043" gives "FACT", "F20260042", "F20260043".
    """
    if not text:
        return []
    out: list[str] = []
    for raw in re.findall(r"[0-9A-Za-z][0-9A-Za-z/_.\-]*[0-9A-Za-z]|[0-9A-Za-z]", text):
        token = normalise_number(raw)
        if token and token not in out:
            out.append(token)
    return out
