"""The field catalogue: every business term and group, derived from the model.

The rules language checks names against this catalogue, lets a ruleset name
a term by path (`seller.vat_identifier`) or by id (`BT-31`), and uses the
data type to type-check expressions. Paths use `[]` for repeating groups:
`lines[].item.name`. Scheme attributes of identifiers are terms of their own
(`seller.legal_registration_identifier.scheme` is BT-30-1).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

from aiguillage.model.invoice import NON_BUSINESS_FIELDS, BinaryObject, Identifier, Invoice
from aiguillage.model.terms import is_extended


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One term or group of the semantic model."""

    #: Dotted path from the invoice, `[]` after each repeating group: `lines[].net_amount`.
    path: str
    #: "BT-31", "BT-30-1", "BG-25"; empty for the value part of an identifier.
    id: str
    #: EN 16931 data type ("amount", "date", "code", …) or "group".
    data_type: str
    #: Cardinality as in EN 16931-1: "0..1", "1..1", "0..n", "1..n".
    card: str
    #: One line in our own words.
    description: str
    #: True for a group (BG-n), whose value is an object or a list of them.
    is_group: bool
    #: True if this entry itself repeats (a list).
    repeats: bool
    #: True for a term or group only the French EXTENDED-CTC-FR profile carries (not written in EN 16931).
    extended: bool = False

    @property
    def is_term(self) -> bool:
        return not self.is_group


def unwrap(annotation: typing.Any) -> tuple[typing.Any, bool]:
    """Return (inner type, is_list) for `X | None` and `list[X]` annotations."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return typing.get_args(annotation)[0], True
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return unwrap(args[0])
    return annotation, False


_SCHEME_PARTS = {
    Identifier: (("scheme", "-1", "code", "Identification scheme"), ("scheme_version", "-2", "text", "Scheme version")),
    BinaryObject: (("mime_code", "-1", "code", "MIME type"), ("filename", "-2", "text", "File name")),
}


def _walk(model: type[BaseModel], prefix: str, out: list[CatalogueEntry], within_extended: bool = False) -> None:
    for name, field in model.model_fields.items():
        if model is Invoice and name in NON_BUSINESS_FIELDS:
            continue
        extra = field.json_schema_extra or {}
        assert isinstance(extra, dict)
        if extra.get("binding"):
            continue  # not a business term: a binding's tax scheme (terms.binding)
        inner, repeats = unwrap(field.annotation)
        path = f"{prefix}{name}{'[]' if repeats else ''}"
        ext = within_extended or is_extended(field)
        if "bg" in extra:
            out.append(CatalogueEntry(path, str(extra["bg"]), "group", str(extra["card"]), field.description or "", True, repeats, ext))
            _walk(inner, path + ".", out, ext)
            continue
        bt = str(extra["bt"])
        out.append(CatalogueEntry(path, bt, str(extra["data_type"]), str(extra["card"]), field.description or "", False, repeats, ext))
        for part, suffix, data_type, description in _SCHEME_PARTS.get(inner, ()):
            if part == "scheme_version" and bt != "BT-158":
                continue
            out.append(CatalogueEntry(f"{path}.{part}", bt + suffix, data_type, "0..1", f"{description} of {bt}", False, False, ext))


@cache
def catalogue() -> tuple[CatalogueEntry, ...]:
    """All terms and groups, in model order."""
    out: list[CatalogueEntry] = []
    _walk(Invoice, "", out)
    return tuple(out)


@cache
def by_path() -> dict[str, CatalogueEntry]:
    """Entries keyed by path (`lines[].net_amount`)."""
    return {e.path: e for e in catalogue()}


@cache
def by_id() -> dict[str, CatalogueEntry]:
    """Entries keyed by BT/BG id (`BT-131`, `BT-30-1`, `BG-25`)."""
    return {e.id: e for e in catalogue()}


def lookup(name: str) -> CatalogueEntry | None:
    """Find an entry by path (with or without `[]`) or by id (case-insensitive `bt-31`)."""
    upper = name.upper()
    if upper.startswith(("BT-", "BG-")):
        return by_id().get(upper)
    entry = by_path().get(name)
    if entry is not None:
        return entry
    return _by_bare_path().get(name)


@cache
def _by_bare_path() -> dict[str, CatalogueEntry]:
    return {e.path.replace("[]", ""): e for e in catalogue()}
