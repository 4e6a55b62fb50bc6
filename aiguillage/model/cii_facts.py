"""How the CII reader records syntax facts (`facts.py`): element paths, model paths, the recorder.

The CII-SR / CII-DT rule families and EN 16931's syntax rules judge these
facts, so where and how they are recorded lives apart from the walk itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from aiguillage.model.cii_common import PREFIXES, RSM_NS
from aiguillage.model.facts import FactKind, has_child, has_text_child

#: What a placeholder path stands for until a gathered element is placed in the model.
PENDING = "\x00"

_CACHE_LIMIT = 4096

#: Where the reader is in the model, as the catalogue spells it (`lines[].item`),
#: built cheaply while walking and spelled out only when a fact needs it: ""
#: or a placeholder at the top, then (parent, key) per group entered.
Path = str | tuple


def _flat(path: Path) -> str:
    """Spell a path out: `lines[].item`."""
    parts = []
    while path.__class__ is tuple:
        path, key = path
        parts.append(key)
    if path:
        parts.append(path)
    return ".".join(reversed(parts))


def _join(path: Path, key: str) -> str:
    """The model path of `key` inside `path`."""
    base = _flat(path)
    return f"{base}.{key}" if base else key


_QNAMES: dict[str, str] = {}


def qname(tag: str) -> str:
    """`{ns}Local` as the conventional `prefix:Local`, cached (facts are many on fragments)."""
    name = _QNAMES.get(tag)
    if name is None:
        namespace, _, local = tag.rpartition("}")
        prefix = PREFIXES.get(namespace[1:])
        name = f"{prefix}:{local}" if prefix else tag
        if len(_QNAMES) < _CACHE_LIMIT:
            _QNAMES[tag] = name
    return name


#: Attributes the reader's tables do not look at, found in one pass in C (about 15 µs on
#: the official examples; `//*/@*` with name tests only is the cheapest form): all but
#: those every invoice carries (format on dates, unitCode on quantities, an attachment's
#: mimeCode and filename) and those of other namespaces (xsi:schemaLocation). The format
#: of a percentage is recorded by the walk (its table entry names the attribute).
_ATTRIBUTES = etree.XPath(
    "//*/@*[not(local-name() = 'format' or local-name() = 'unitCode' or local-name() = 'mimeCode'"
    " or local-name() = 'filename' or namespace-uri() != '')]"
)
_RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
#: Identifiers that carry no schemeID in the CII binding (CII-DT-005…007), elsewhere it is used.
_NO_SCHEME = frozenset({f"{_RAM}LineID", f"{_RAM}SellerAssignedID"})
_NO_SCHEME_PARENTS = frozenset({f"{{{RSM_NS}}}ExchangedDocument", f"{_RAM}GuidelineSpecifiedDocumentContextParameter"})


#: OTHER facts' details for elements the official rules judge wherever they stand, EN 16931
#: using them there or not (the artefact's context is `//ram:…`): BR-52 asks each
#: ram:AdditionalReferencedDocument for a ram:IssuerAssignedID that is not blank, BR-49 each
#: payment means for its ram:TypeCode, BR-17 each ram:PayeeTradeParty for its ram:Name.
NO_DOCUMENT_ID = "ram:AdditionalReferencedDocument without ram:IssuerAssignedID"
NO_MEANS_TYPE_CODE = "ram:SpecifiedTradeSettlementPaymentMeans without ram:TypeCode"
NO_PAYEE_NAME = "ram:PayeeTradeParty without ram:Name"
_ADDITIONAL_DOCUMENT = f"{_RAM}AdditionalReferencedDocument"
_PAYMENT_MEANS = f"{_RAM}SpecifiedTradeSettlementPaymentMeans"
_PAYEE = f"{_RAM}PayeeTradeParty"


def judged_wherever(element: etree._Element) -> str | None:
    """The detail of the OTHER fact an element the official rules judge anywhere calls for, if any.

    (The official BR-17 also compares the name and identifiers of a payee whose grandparent
    holds the header agreement with the seller's; an unused payee never stands there in
    the examples' variants, so only the name is asked here.)
    """
    tag = element.tag
    if tag == _ADDITIONAL_DOCUMENT:
        return None if has_text_child(element, f"{_RAM}IssuerAssignedID") else NO_DOCUMENT_ID
    if tag == _PAYMENT_MEANS:
        return None if has_child(element, f"{_RAM}TypeCode") else NO_MEANS_TYPE_CODE
    if tag == _PAYEE:
        return None if has_child(element, f"{_RAM}Name") else NO_PAYEE_NAME
    return None


def _judged(name: str, element: etree._Element) -> bool:
    """Whether an attribute found is one the CII binding does not use at that place."""
    if name == "schemeID":
        tag = element.tag
        if tag in _NO_SCHEME:
            return True
        parent = element.getparent()
        return tag == f"{_RAM}ID" and parent is not None and parent.tag in _NO_SCHEME_PARENTS
    if name == "currencyID":  # CII-DT-031: on no amount but the VAT total
        tag = element.tag
        return tag.endswith("Amount") and tag != f"{_RAM}TaxTotalAmount"
    if name == "listID" or name == "listVersionID":  # BT-158's list and its version
        return element.tag != f"{_RAM}ClassCode"
    return True


#: Containers the binding allows once and the reader reads through into one target: when one
#: is given again, what it holds repeats the first one's terms, though each element is alone in
#: its own container (the artefacts count per container: CII-SR-439/441 per line agreement).
_SINGLE_CONTAINERS = frozenset(
    f"{_RAM}{name}"
    for name in (
        "SpecifiedLineTradeAgreement",
        "SpecifiedLineTradeDelivery",
        "SpecifiedLineTradeSettlement",
        "ApplicableHeaderTradeAgreement",
        "ApplicableHeaderTradeDelivery",
        "ApplicableHeaderTradeSettlement",
    )
)
#: The detail of a REPEATED fact: the element itself is given again …
REPEATED_HERE = "only one is allowed; the first is kept"
#: … or only its container is (the detail names the container).
REPEATED_CONTAINER = "its container is given again: "


def _repeat_detail(element: etree._Element) -> str:
    """REPEATED_HERE, or REPEATED_CONTAINER + the container when the repeat comes from a repeated
    single container above the element, the element being the first of its kind in its own."""
    if any(sibling.tag == element.tag for sibling in element.itersiblings(preceding=True)):
        return REPEATED_HERE
    ancestor = element.getparent()
    while ancestor is not None:
        if ancestor.tag in _SINGLE_CONTAINERS:
            if any(sibling.tag == ancestor.tag for sibling in ancestor.itersiblings(preceding=True)):
                return REPEATED_CONTAINER + qname(ancestor.tag)
            return REPEATED_HERE
        ancestor = ancestor.getparent()
    return REPEATED_HERE


def element_path(element: etree._Element) -> str:
    """The element's path below the root, prefixes as conventionally written
    (`rsm:SupplyChainTradeTransaction/ram:…`), as the UBL reader gives it."""
    parts = [qname(element.tag)]
    parts.extend(qname(ancestor.tag) for ancestor in element.iterancestors())
    parts.pop()
    return "/".join(reversed(parts))


class FactRecorder:
    """Recording of syntax facts; the reader's state holds `facts`."""

    __slots__ = ()
    facts: list[dict[str, Any]]

    def fact(self, kind: FactKind, element: etree._Element, field: str | None = None, **extra: str | None) -> None:
        self.facts.append(
            {"kind": kind, "path": element_path(element), "line": element.sourceline, "field": field, **extra}
        )

    def unused(self, element: etree._Element) -> None:
        """An element EN 16931 does not use here: recorded, its subtree skipped."""
        if isinstance(element.tag, str):  # comments and processing instructions are not elements
            self.fact(FactKind.UNUSED_ELEMENT, element, detail="not used by EN 16931 in this context")
            for inner in element.iter(_ADDITIONAL_DOCUMENT, _PAYMENT_MEANS, _PAYEE):
                detail = judged_wherever(inner)
                if detail is not None:
                    self.fact(FactKind.OTHER, inner, detail=detail)
            if not len(element):
                self.blank(element)

    def repeated(self, element: etree._Element, path: Path, key: str) -> None:
        self.fact(FactKind.REPEATED, element, _join(path, key), detail=_repeat_detail(element))

    def empty(self, element: etree._Element, path: Path, key: str) -> None:
        self.fact(FactKind.EMPTY_ELEMENT, element, _join(path, key))

    def blank(self, element: etree._Element) -> None:
        """EMPTY_ELEMENT for a group or container with no child element and no text but spaces
        (a line's ram:AssociatedDocumentLineDocument without its ram:LineID, a date container
        without its date string), which rules about empty elements (PEPPOL-EN16931-R008) see
        as the artefacts do; no model field: it holds no term."""
        text = element.text
        if (text is None or text.isspace()) and not any(isinstance(child.tag, str) for child in element):
            self.fact(FactKind.EMPTY_ELEMENT, element)

    def invalid(self, element: etree._Element, path: Path, key: str, value: str, expected: str) -> None:
        self.fact(FactKind.INVALID_VALUE, element, _join(path, key), value=value, detail=f"not {expected}")

    def attributes(self, root: etree._Element) -> None:
        """UNUSED_ELEMENT facts, with `attribute` and `value`, for the attributes EN 16931
        does not use (CII-DT-001…014, 031, 032, 034…036, 045…048, 101…104), anywhere in
        the document, unused subtrees too; one the walk recorded already is not repeated."""
        found = _ATTRIBUTES(root)
        if not found:
            return
        recorded = {(f["line"], f.get("attribute")) for f in self.facts if f.get("attribute")}
        for value in found:
            name = value.attrname
            element = value.getparent()
            if _judged(name, element) and (element.sourceline, name) not in recorded:
                self.fact(FactKind.UNUSED_ELEMENT, element, attribute=name, value=str(value))

    def rename_pending(self, start: int, renames: Callable[[], tuple[tuple[str, str], ...]]) -> None:
        """Give facts recorded under a placeholder path their real model path.

        `renames` is only called when there is such a fact: spelling paths out
        costs more than the rest of handling a typical element.
        """
        if len(self.facts) == start:
            return
        renames_now = renames()
        for fact in self.facts[start:]:
            field = fact["field"]
            if field and field.startswith(PENDING):
                for old, new in renames_now:
                    if field.startswith(old):
                        fact["field"] = new + field[len(old) :]
                        break
