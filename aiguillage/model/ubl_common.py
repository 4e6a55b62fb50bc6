"""Names shared by the UBL 2.1 reader and writer: namespaces, prefixes, code lists.

Kept apart so that `ubl_reader` and `ubl_writer` do not import each other.
"""

from __future__ import annotations

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"

INVOICE_TAG = f"{{{INVOICE_NS}}}Invoice"
CREDIT_NOTE_TAG = f"{{{CREDIT_NOTE_NS}}}CreditNote"

#: Conventional prefixes, used to write element paths in syntax facts the way
#: the EN 16931 rules spell them (`cac:Party/cbc:Name`).
PREFIXES = {
    CBC_NS: "cbc",
    CAC_NS: "cac",
    EXT_NS: "ext",
    INVOICE_NS: "ubl",
    CREDIT_NOTE_NS: "cn",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonSignatureComponents-2": "sig",
    "urn:oasis:names:specification:ubl:schema:xsd:SignatureAggregateComponents-2": "sac",
    "urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2": "sbc",
    "http://www.w3.org/2000/09/xmldsig#": "ds",
}

_NAMESPACES = {"cbc": CBC_NS, "cac": CAC_NS, "ext": EXT_NS}

#: UNTDID 1001 document type codes of credit notes (EN 16931 code list, BR-CL-01).
#: 81 is in both the invoice and the credit-note list; it is written as a CreditNote.
CREDIT_NOTE_TYPE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532"}
)


def clark(name: str) -> str:
    """`cbc:ID` -> `{urn:…CommonBasicComponents-2}ID`, the form lxml uses for tags."""
    prefix, _, local = name.partition(":")
    return f"{{{_NAMESPACES[prefix]}}}{local}"


def prefixed(tag: str) -> str:
    """`{urn:…CommonBasicComponents-2}ID` -> `cbc:ID`; unknown namespaces stay in Clark form."""
    if tag[:1] != "{":
        return tag
    namespace, _, local = tag[1:].partition("}")
    prefix = PREFIXES.get(namespace)
    return f"{prefix}:{local}" if prefix else tag
