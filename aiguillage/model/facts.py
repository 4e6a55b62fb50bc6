"""What a document's syntax said that the semantic model cannot hold.

Syntax rules (UBL-SR-*, UBL-DT-*, UBL-CR-*, PEPPOL-EN16931-R008, …) judge the
XML, not the business terms: an element repeated where the syntax allows one,
a date that is not a date, an amount with too many decimals, an element that
EN 16931 does not use, a missing `currencyID`. Readers record each as a
`SyntaxFact` with its element path and source line, and carry on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class FactKind(StrEnum):
    """The kinds of syntax fact a reader records."""

    #: An element that the syntax allows once occurs again (`field` names the term).
    REPEATED = "repeated"
    #: A value that is not of its type: a date that is not a date, a number that is not one.
    INVALID_VALUE = "invalid_value"
    #: An element or attribute that EN 16931 does not use in this syntax.
    UNUSED_ELEMENT = "unused_element"
    #: An attribute the syntax requires is missing (e.g. `currencyID` on an amount).
    MISSING_ATTRIBUTE = "missing_attribute"
    #: An element the syntax requires is missing, so the official rules about it (and
    #: about what it holds) are not judged (e.g. CII `rsm:SupplyChainTradeTransaction`).
    MISSING_ELEMENT = "missing_element"
    #: An attribute carries a value worth judging (e.g. every `currencyID`, `unitCode`).
    ATTRIBUTE = "attribute"
    #: An element is present but empty (no text, no children).
    EMPTY_ELEMENT = "empty_element"
    #: Anything else a syntax rule needs; `detail` says what.
    OTHER = "other"


class SyntaxFact(BaseModel):
    """One observation about the syntax, with where it was made."""

    model_config = ConfigDict(extra="forbid")

    kind: FactKind
    #: Element path in the source, prefixes as conventionally written (`cac:Party/cbc:Name`).
    path: str
    #: 1-based source line of the element, when known.
    line: int | None = None
    #: The semantic field involved (`seller.vat_identifier`), when there is one.
    field: str | None = None
    #: The attribute name for attribute facts (`currencyID`, `unitCode`, `schemeID`).
    attribute: str | None = None
    #: The raw text or attribute value as written.
    value: str | None = None
    #: A short explanation, e.g. the expected type.
    detail: str | None = None


class Provenance(BaseModel):
    """Where an invoice came from: syntax, root element, size, source name."""

    model_config = ConfigDict(extra="forbid")

    #: "ubl", "cii", "facturx" or "json".
    syntax: str
    #: Root element local name, e.g. "Invoice", "CreditNote", "CrossIndustryInvoice".
    root: str | None = None
    #: Where it was read from (file path), when known.
    source: str | None = None
    #: Size of the input in bytes.
    size: int | None = None


def has_child(element: Any, tag: str) -> bool:
    """A child `tag` (the official rules' `exists(tag)`), for the facts both readers record."""
    return any(child.tag == tag for child in element)


def has_text_child(element: Any, tag: str) -> bool:
    """A child `tag` whose text is not blank (the official rules' `normalize-space(tag) != ''`)."""
    return any(child.tag == tag and child.text and not child.text.isspace() for child in element)
