"""The fields a rule can name: the field catalogue as a tree.

The catalogue (`aiguillage.model.catalogue`) lists every business term by path
and BT id. The checker needs more than a list: which step of a path repeats,
which Python attribute holds the value, which small object wraps it (an
identifier's value and scheme), what class to create when an enrichment
writes below a missing group. This module derives that tree once from the
catalogue and the pydantic model, and adds the two non-business parts rules
may read: `syntax_facts` (what the XML said beyond the model) and
`provenance`.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass, field
from functools import cache

from pydantic import BaseModel

from aiguillage.model.catalogue import by_id, by_path, unwrap
from aiguillage.model.facts import Provenance, SyntaxFact
from aiguillage.model.invoice import BinaryObject, Identifier, Invoice

#: EN 16931 data types → the kind of value the language computes with.
KIND_OF = {
    "amount": "number",
    "unit_price": "number",
    "quantity": "number",
    "percentage": "number",
    "number": "number",
    "date": "date",
    "code": "text",
    "identifier": "text",
    "document_reference": "text",
    "text": "text",
    "binary": "text",
}

#: How one occurrence of a repeating group is named in findings, per language.
OCCURRENCE_LABELS: dict[str, dict[str, str]] = {
    "notes[]": {"en": "note", "fr": "note"},
    "preceding_invoices[]": {"en": "preceding invoice", "fr": "facture antérieure"},
    "seller.identifiers[]": {"en": "seller identifier", "fr": "identifiant du vendeur"},
    "payment_instructions.credit_transfers[]": {"en": "credit transfer", "fr": "virement"},
    "allowances[]": {"en": "document allowance", "fr": "remise sur le document"},
    "charges[]": {"en": "document charge", "fr": "frais sur le document"},
    "vat_breakdown[]": {"en": "VAT breakdown", "fr": "ventilation de TVA"},
    "supporting_documents[]": {"en": "supporting document", "fr": "pièce justificative"},
    "lines[]": {"en": "line", "fr": "ligne"},
    "lines[].allowances[]": {"en": "allowance", "fr": "remise"},
    "lines[].charges[]": {"en": "charge", "fr": "frais"},
    "lines[].item.classification_identifiers[]": {"en": "classification", "fr": "classification"},
    "lines[].item.attributes[]": {"en": "item attribute", "fr": "attribut d'article"},
    "syntax_facts[]": {"en": "syntax fact", "fr": "fait de syntaxe"},
}

_WRAPPERS = {Identifier: "value", BinaryObject: "content"}


@dataclass(eq=False)
class FieldNode:
    """One named step of a path: a group, a term, or a part of a term (its scheme)."""

    #: Python attribute name ("" for the invoice itself).
    name: str
    #: Catalogue-style path with `[]` after each repeating step: `lines[].item.name`.
    path: str
    #: BT/BG id ("BT-153"), "" when there is none.
    bt: str
    #: EN 16931 data type, or "group".
    data_type: str
    repeats: bool = False
    #: For a term held in a small object (Identifier, BinaryObject): the attribute with the value.
    wrapper: str | None = None
    #: The pydantic class of a group or wrapper (created when an enrichment writes below it).
    cls: type[BaseModel] | None = None
    description: str = ""
    children: dict[str, FieldNode] = field(default_factory=dict)
    parent: FieldNode | None = field(default=None, repr=False)

    @property
    def is_group(self) -> bool:
        return self.data_type == "group"

    @property
    def kind(self) -> str:
        """number, text, date or group."""
        return "group" if self.is_group else KIND_OF.get(self.data_type, "text")

    @property
    def bare_path(self) -> str:
        return self.path.replace("[]", "")

    def chain(self) -> list[FieldNode]:
        """From the invoice (excluded) down to this node."""
        out: list[FieldNode] = []
        node: FieldNode | None = self
        while node is not None and node.parent is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def __reduce__(self) -> tuple[typing.Any, tuple[str]]:
        """Pickled as its path: a compiled ruleset kept on disk points into this process's one catalogue."""
        if node_at(self.path) is not self:
            raise TypeError(f"field node {self.path!r} is not the catalogue's own")
        return node_at, (self.path,)

    def label(self, lang: str = "en") -> str:
        labels = OCCURRENCE_LABELS.get(self.path)
        if labels:
            return labels.get(lang) or labels["en"]
        return self.name.replace("_", " ")


def _add(parent: FieldNode, name: str, node: FieldNode) -> FieldNode:
    node.parent = parent
    parent.children[name] = node
    return node


def _walk(model: type[BaseModel], parent: FieldNode) -> None:
    paths = by_path()
    for name, info in model.model_fields.items():
        inner, repeats = unwrap(info.annotation)
        path = f"{parent.path + '.' if parent.path else ''}{name}{'[]' if repeats else ''}"
        entry = paths.get(path)
        if entry is None:
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get("group") and extra.get("binding"):
                # How a syntax grouped what the model holds otherwise (terms.binding_group).
                node = _add(parent, name, FieldNode(name, path, "", "group", repeats, None, inner, info.description or ""))
                _walk(inner, node)
            elif isinstance(extra, dict) and extra.get("binding"):
                # Not a business term but readable: what a syntax binding said (terms.binding).
                _add(parent, name, FieldNode(name, path, "", str(extra["data_type"]), False, None, None, info.description or ""))
            continue  # not a business term (provenance, syntax_facts: added below)
        if entry.is_group:
            node = _add(parent, name, FieldNode(name, path, entry.id, "group", repeats, None, inner, entry.description))
            _walk(inner, node)
            continue
        wrapper = _WRAPPERS.get(inner)
        node = _add(parent, name, FieldNode(name, path, entry.id, entry.data_type, repeats, wrapper, inner if wrapper else None, entry.description))
        if wrapper:
            for part in inner.model_fields:
                sub = paths.get(f"{path}.{part}")
                if sub is not None:
                    _add(node, part, FieldNode(part, sub.path, sub.id, sub.data_type, False, None, None, sub.description))


def _synthetic(root: FieldNode) -> None:
    """`syntax_facts[]` and `provenance`: readable by rules, not business terms."""
    facts = _add(root, "syntax_facts", FieldNode("syntax_facts", "syntax_facts[]", "", "group", True, None, SyntaxFact, "What the syntax said beyond the semantic model"))
    for name, data_type, text in (
        ("kind", "code", "repeated, invalid_value, unused_element, missing_attribute, missing_element, attribute, empty_element or other"),
        ("path", "text", "Element path in the source (cac:Party/cbc:Name)"),
        ("line", "number", "Source line of the element"),
        ("field", "text", "The semantic field involved (seller.vat_identifier)"),
        ("attribute", "text", "The attribute name (currencyID, unitCode, schemeID)"),
        ("value", "text", "The raw text or attribute value as written"),
        ("detail", "text", "A short explanation"),
    ):
        _add(facts, name, FieldNode(name, f"syntax_facts[].{name}", "", data_type, False, None, None, text))
    prov = _add(root, "provenance", FieldNode("provenance", "provenance", "", "group", False, None, Provenance, "Where and how the invoice was read"))
    for name, data_type, text in (
        ("syntax", "code", "ubl, cii, facturx or json"),
        ("root", "code", "Root element: Invoice, CreditNote, CrossIndustryInvoice"),
        ("source", "text", "File the invoice was read from"),
        ("size", "number", "Size of the input in bytes"),
    ):
        _add(prov, name, FieldNode(name, f"provenance.{name}", "", data_type, False, None, None, text))


@cache
def root() -> FieldNode:
    """The invoice: every field a rule can name hangs below it."""
    top = FieldNode("", "", "BG-0", "group", False, None, Invoice, "The invoice")
    _walk(Invoice, top)
    _synthetic(top)
    return top


@cache
def nodes_by_path() -> dict[str, FieldNode]:
    """Every node by catalogue path (`lines[].net_amount`) and by bare path (`lines.net_amount`)."""
    out: dict[str, FieldNode] = {}

    def visit(node: FieldNode) -> None:
        for child in node.children.values():
            out[child.path] = child
            out.setdefault(child.bare_path, child)
            visit(child)

    visit(root())
    return out


def node_at(path: str) -> FieldNode | None:
    """The catalogue's node at a catalogue path, the invoice itself for ""."""
    return root() if path == "" else nodes_by_path().get(path)


def by_bt(bt: str) -> FieldNode | None:
    """The node of a BT/BG id (`BT-31`, `BT-30-1`, `BG-25`)."""
    entry = by_id().get(bt.upper())
    return nodes_by_path().get(entry.path) if entry else None


def suggest(name: str, candidates: typing.Iterable[str], n: int = 3) -> list[str]:
    """Close spellings of `name` among `candidates`, best first."""
    return difflib.get_close_matches(name, sorted(set(candidates)), n=n, cutoff=0.6)


def suggest_path(segment: str, where: FieldNode) -> list[str]:
    """Did-you-mean for an unknown segment: siblings first, then any field whose last name is close."""
    near = suggest(segment, where.children)
    if near:
        return [((where.bare_path + ".") if where.bare_path else "") + n for n in near]
    by_last: dict[str, list[str]] = {}
    for node in nodes_by_path().values():
        by_last.setdefault(node.name, []).append(node.bare_path)
    out: list[str] = []
    for last in suggest(segment, by_last, n=3):
        # Of the fields sharing that last name, those whose whole path is closest to what was
        # written first ("total_with_vat": totals.amount_with_vat before lines.amount_with_vat).
        paths = sorted(set(by_last[last]), key=lambda p: (-difflib.SequenceMatcher(None, segment, p).ratio(), p))
        out.extend(paths[:2])
    return out[:3]
