"""Helpers that attach EN 16931 metadata (BT/BG id, data type, cardinality) to model fields.

The semantic model names every term in plain words; the standard's ids travel
as field metadata so that the field catalogue, the rules language and error
messages can name a term either way.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

#: EN 16931-1 semantic data types (clause 6.5), as used in the catalogue.
DATA_TYPES = (
    "amount",
    "unit_price",
    "quantity",
    "percentage",
    "date",
    "code",
    "identifier",
    "document_reference",
    "text",
    "binary",
)


def term(bt: str, data_type: str, card: str, description: str) -> Any:
    """A business term (BT-n): optional in the model whatever the standard's cardinality.

    The model never rejects missing business data: rulesets judge that, so the
    standard's cardinality is kept as metadata, not enforced.
    """
    assert data_type in DATA_TYPES, data_type
    extra = {"bt": bt, "data_type": data_type, "card": card}
    if card.endswith("n"):
        return Field(default_factory=list, description=description, json_schema_extra=extra)
    return Field(default=None, description=description, json_schema_extra=extra)


def group(bg: str, card: str, description: str) -> Any:
    """A business group (BG-n): a nested model, or a list of them when it repeats."""
    extra = {"bg": bg, "card": card}
    if card.endswith("n"):
        return Field(default_factory=list, description=description, json_schema_extra=extra)
    return Field(default=None, description=description, json_schema_extra=extra)


def binding(data_type: str, description: str) -> Any:
    """Not a business term: what a syntax binding said that some official rules read.

    EN 16931 has no term for the tax scheme of a VAT category (UBL
    `cac:TaxScheme/cbc:ID`, CII `ram:TypeCode`), yet the official bindings test
    it. Such a field is readable by rules but stays out of the field catalogue;
    it is None when the document said what the binding expects.
    """
    assert data_type in DATA_TYPES, data_type
    return Field(default=None, description=description, json_schema_extra={"binding": True, "data_type": data_type})


def binding_group(description: str) -> Any:
    """Not a business group: how a syntax groups terms the model holds otherwise (a list).

    The model has one VAT total (BT-110) and one VAT breakdown (BG-23), yet a
    UBL invoice may give several cac:TaxTotal, each with its own subtotals, and
    the official rules judge each one as written. Every field of the group's
    model is itself a `binding` field; the group stays out of the field
    catalogue, as those do.
    """
    return Field(default_factory=list, description=description, json_schema_extra={"binding": True, "group": True})


#: The `profile` metadata of terms only the French EXTENDED-CTC-FR profile carries.
EXTENDED_CTC_FR = "EXTENDED-CTC-FR"


def extended(field: Any) -> Any:
    """Mark a term or group as one of the EXTENDED-CTC-FR profile (read and judged, not written in EN 16931)."""
    from pydantic.fields import FieldInfo

    return FieldInfo.merge_field_infos(
        field, json_schema_extra={**(field.json_schema_extra or {}), "profile": EXTENDED_CTC_FR}
    )


def is_extended(field: Any) -> bool:
    """True for a field `extended()` marked."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get("profile") == EXTENDED_CTC_FR
