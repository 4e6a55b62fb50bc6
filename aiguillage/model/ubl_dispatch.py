"""Context tables for the one-pass UBL reader, and the compiler that turns them into Python.

A context (the seller's party, an address, a line, …) is a `Spec`: child tag
-> `Entry` (what kind of child, which model key, its element path and model
field for syntax facts). Tables are written once, position-independent, as
`T` templates; `make` places them at a path. `compile_spec` then generates one
function per context, like Jinja2 compiles templates: a loop over the
children, one dict lookup per child, and the leaf handling written out inline.
A call per element and attribute lookups on entries would cost about as much
as lxml's own work (the reader's target is 3x lxml parsing). Siblings are
reached with `getnext()`, a third cheaper than `for child in el`.

Generated code only calls back here (value parsing, rare facts) and into the
handlers of `ubl_reader` (kinds "scratch" and "call", finishing hooks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aiguillage.model import generated_code
from aiguillage.model.facts import FactKind, has_text_child
from aiguillage.model.ubl_common import clark, prefixed

ATTRIBUTE = FactKind.ATTRIBUTE
UNUSED = FactKind.UNUSED_ELEMENT
REPEATED = FactKind.REPEATED
INVALID = FactKind.INVALID_VALUE
EMPTY = FactKind.EMPTY_ELEMENT
MISSING = FactKind.MISSING_ATTRIBUTE
OTHER = FactKind.OTHER

#: REPEATED: more occurrences than the EN 16931 binding allows at that place.
DETAIL_ONE = "more than one where EN 16931 allows one"
NOT_A_DATE = "not a date (YYYY-MM-DD)"
NOT_A_NUMBER = "not an xs:decimal"

#: OTHER facts for elements the official rules judge wherever they stand, EN 16931 using them
#: there or not (`judged_wherever`): BR-49 asks each cac:PaymentMeans for its code, BR-52 each
#: cac:AdditionalDocumentReference for a cbc:ID that is not blank, BR-55 and UBL-SR-07 each
#: cac:BillingReference for cac:InvoiceDocumentReference/cbc:ID.
DETAIL_NO_MEANS_CODE = "missing cbc:PaymentMeansCode"
DETAIL_NO_DOCUMENT_ID = "cac:AdditionalDocumentReference without cbc:ID"
DETAIL_NO_INVOICE_REFERENCE = "cac:BillingReference without cac:InvoiceDocumentReference/cbc:ID"
_PAYMENT_MEANS = clark("cac:PaymentMeans")
_MEANS_CODE = clark("cbc:PaymentMeansCode")
_ADDITIONAL_DOCUMENT = clark("cac:AdditionalDocumentReference")
_BILLING_REFERENCE = clark("cac:BillingReference")
_INVOICE_DOCUMENT = clark("cac:InvoiceDocumentReference")
_ID = clark("cbc:ID")
#: Amounts whose currencyID Peppol's R051 and CL007 judge wherever they stand (their context is
#: a bare name); a cbc:TaxAmount only in a cac:TaxSubtotal or a cac:TaxTotal with subtotals.
_AMOUNTS = frozenset(clark(f"cbc:{name}") for name in (
    "Amount", "BaseAmount", "PriceAmount", "TaxableAmount", "LineExtensionAmount", "TaxExclusiveAmount",
    "TaxInclusiveAmount", "AllowanceTotalAmount", "ChargeTotalAmount", "PrepaidAmount", "PayableRoundingAmount",
    "PayableAmount",
))
_TAX_AMOUNT = clark("cbc:TaxAmount")
#: OTHER (value = the identifier as written) beside the unused-element fact of its schemeID, same
#: path and line: an identifier Peppol's PEPPOL-COMMON-R040…R050 judge by its scheme wherever it
#: stands (cbc:EndpointID, cac:PartyIdentification/cbc:ID, cbc:CompanyID), here inside an
#: element EN 16931 does not use. (The CII reader says the same of a tax registration's ram:ID.)
DETAIL_SCHEMED_IDENTIFIER = "identifier with a schemeID, not in the model"
_SCHEMED = frozenset({clark("cbc:EndpointID"), clark("cbc:CompanyID")})
_PARTY_IDENTIFICATION = clark("cac:PartyIdentification")
_TAX_SUBTOTAL = clark("cac:TaxSubtotal")
_TAX_TOTAL = clark("cac:TaxTotal")

#: A fact as the reader records it: (kind, path, line, field, attribute, value, detail).
Fact = tuple[FactKind, str, "int | None", "str | None", "str | None", "str | None", "str | None"]
Handler = Callable[[Any, "Entry", dict, "Reader"], None]


class Reader:
    """What one read collects beside the model dict: facts and document-wide parts."""

    __slots__ = ("facts", "credit_note", "tax_totals", "payment", "period", "period_seen", "sepa", "due_date", "docref_line", "pts_party", "pts_count", "lines_validated")

    def __init__(self, credit_note: bool) -> None:
        self.facts: list[Fact] = []
        self.credit_note = credit_note
        self.tax_totals: list[dict] = []
        self.payment: dict | None = None
        self.period: dict | None = None
        self.period_seen = False
        self.sepa: list[str | None] = []
        self.due_date: list[date | None] = []
        self.docref_line = 0
        self.pts_party = 0
        self.pts_count = 0
        #: Lines at the front of the list already turned into models (large invoices).
        self.lines_validated = 0

    def fact(self, kind: FactKind, path: str, line: int | None, field: str | None = None, attribute: str | None = None, value: str | None = None, detail: str | None = None) -> None:
        self.facts.append((kind, path, line, field, attribute, value, detail))


# --------------------------------------------------------------------------- tables


class Spec(dict):
    """The children one UBL context allows: Clark tag -> `Entry`; `read` is its compiled reader."""

    __slots__ = ("path", "read")


class Entry:
    """How to read one child: kind, handler, model key, element path and model field."""

    __slots__ = ("kind", "fn", "key", "path", "field", "spec", "extra")

    def __init__(self, kind: str, fn: Handler | None, key: Any, path: str, field: str, spec: Spec | None, extra: Any) -> None:
        self.kind, self.fn, self.key, self.path, self.field, self.spec, self.extra = kind, fn, key, path, field, spec, extra


class T:
    """A position-independent entry template; `make` places it at an element path.

    Kinds: text, date, decimal, amount, quantity (extra = unit key), ident
    (an Identifier with schemeID), capture (keep the element for the parent's
    handler), group and list (extra = fn(el, sub, target, rd) to finish
    each one, or None), through (a wrapper whose children go to the
    parent's dict), scratch (children read into a scratch dict, then
    fn(el, entry, sub, target, rd) decides), call (fn(el, entry, target, rd)
    does everything).
    """

    __slots__ = ("kind", "fn", "key", "kids", "extra", "field")

    def __init__(self, kind: str, key: Any = None, kids: dict | None = None, *, fn: Handler | None = None, extra: Any = None, field: str | None = None) -> None:
        self.kind, self.fn, self.key, self.kids, self.extra, self.field = kind, fn, key, kids, extra, field


def make(path: str, field: str, kids: dict[str, T]) -> Spec:
    """Instantiate templates at `path` (element path) under model prefix `field`, then compile."""
    spec = Spec()
    spec.path = path
    spec.read = None
    for name, t in kids.items():
        epath = f"{path}/{name}" if path else name
        if t.field is not None:
            efield = t.field
        elif t.kind == "through" or t.key is None:
            efield = field.rstrip(".")
        elif t.kind == "list":
            efield = f"{field}{t.key}[]"
        else:
            efield = f"{field}{t.key}"
        sub_prefix = field if t.kind == "through" else efield + "."
        sub = make(epath, sub_prefix, t.kids) if t.kids is not None else None
        spec[clark(name)] = Entry(t.kind, t.fn, t.key, epath, efield, sub, t.extra)
    spec.read = compile_spec(spec)
    return spec


# --------------------------------------------------------------------------- values and rare facts


_NUMBER_CHARS = frozenset("0123456789.+-").issuperset


def parse_decimal(text: str) -> Decimal | None:
    """An xs:decimal as written (no exponent, NaN, underscore), or None."""
    if not _NUMBER_CHARS(text):
        stripped = text.strip()
        if stripped == text or not stripped or not _NUMBER_CHARS(stripped):
            return None
        text = stripped
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD calendar date, or None (2017-02-30 and 2017-01-01Z are None)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        stripped = text.strip()
        if stripped == text or len(stripped) != 10 or stripped[4] != "-" or stripped[7] != "-":
            return None
        text = stripped
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def blank(el: Any) -> bool:
    """No child element and no text but spaces (comments and processing instructions do not count)."""
    text = el.text
    if text is not None and not text.isspace():
        return False
    for child in el:
        if isinstance(child.tag, str):
            return False
        tail = child.tail
        if tail is not None and not tail.isspace():
            return False
    return True


def has_element(el: Any) -> bool:
    """At least one child element (not only comments or processing instructions)."""
    return any(isinstance(child.tag, str) for child in el)


def empty(el: Any, e: Entry, rd: Reader) -> None:
    """EMPTY_ELEMENT, unless the element has a child element or some text."""
    if blank(el):
        rd.fact(EMPTY, e.path, el.sourceline, e.field)


def repeated(el: Any, e: Entry, rd: Reader) -> None:
    rd.fact(REPEATED, e.path, el.sourceline, e.field, None, el.text if len(el) == 0 else None, DETAIL_ONE)


def invalid(el: Any, e: Entry, rd: Reader, text: str, detail: str) -> None:
    rd.fact(INVALID, e.path, el.sourceline, e.field, None, text, detail)


def attributes(el: Any, e: Entry, rd: Reader, allowed: tuple[str, ...] = ()) -> None:
    """UNUSED_ELEMENT for each attribute EN 16931 does not use here (UBL-CR-6xx, UBL-DT-08…28)."""
    for name, value in el.items():
        if name not in allowed and name[:1] != "{":
            rd.fact(UNUSED, e.path, el.sourceline, e.field, name, value)


def amount_attributes(el: Any, e: Entry, rd: Reader, items: list[tuple[str, str]]) -> str | None:
    """The uncommon case of an amount's attributes: none, or more than currencyID."""
    currency = None
    for name, value in items:
        if name == "currencyID":
            currency = value
            rd.fact(ATTRIBUTE, e.path, el.sourceline, e.field, "currencyID", value)
        elif name[:1] != "{":
            rd.fact(UNUSED, e.path, el.sourceline, e.field, name, value)
    if currency is None:
        rd.fact(MISSING, e.path, el.sourceline, e.field, "currencyID")
    return currency


def unknown(el: Any, spec: Spec, rd: Reader) -> None:
    """An element EN 16931 does not use here: a fact for it and its attributes, its subtree skipped."""
    tag = el.tag
    if not isinstance(tag, str):  # comment or processing instruction
        return
    name = prefixed(tag)
    path = f"{spec.path}/{name}" if spec.path else name
    rd.fact(UNUSED, path, el.sourceline)
    _judge_unused(el, path, rd)


def _judge_unused(el: Any, path: str, rd: Reader) -> None:
    """What rules that judge elements wherever they are see of an unused element and, below it,
    of each descendant (which gets no UNUSED_ELEMENT fact of its own): its attributes (UBL-DT-08…28),
    what the official rules judge anywhere (`judged_wherever`, Peppol's currencyID and scheme
    rules), and empty leaves and leaves named *Date that are not dates (PEPPOL-EN16931-R008, F001)."""
    line = el.sourceline
    for attribute, value in el.items():
        if attribute[:1] != "{":
            rd.fact(UNUSED, path, line, None, attribute, value)
    detail = judged_wherever(el)
    if detail is not None:
        rd.fact(OTHER, path, line, None, None, None, detail)
    if _is_amount(el) and el.get("currencyID") is None:
        rd.fact(MISSING, path, line, None, "currencyID")
    _schemed_identifier(el, path, rd)
    if len(el) and has_element(el):
        for child in el:
            if isinstance(child.tag, str):  # not a comment or processing instruction
                _judge_unused(child, f"{path}/{prefixed(child.tag)}", rd)
    elif blank(el):
        rd.fact(EMPTY, path, line)
    elif el.tag.endswith("Date") and parse_date(el.text or "") is None:
        rd.fact(INVALID, path, line, None, None, el.text, NOT_A_DATE)


def _is_amount(el: Any) -> bool:
    """An amount whose currencyID Peppol judges although EN 16931 does not use it there."""
    tag = el.tag
    if tag in _AMOUNTS:
        return True
    if tag != _TAX_AMOUNT:
        return False
    parent = el.getparent()
    return parent is not None and (parent.tag == _TAX_SUBTOTAL or parent.tag == _TAX_TOTAL and any(c.tag == _TAX_SUBTOTAL for c in parent))


def _schemed_identifier(el: Any, path: str, rd: Reader) -> None:
    """An unused identifier with a schemeID that Peppol's check-digit rules judge: its text."""
    if el.get("schemeID") is None:
        return
    tag = el.tag
    if tag in _SCHEMED or tag == _ID and (parent := el.getparent()) is not None and parent.tag == _PARTY_IDENTIFICATION:
        rd.fact(OTHER, path, el.sourceline, None, None, el.text or "", DETAIL_SCHEMED_IDENTIFIER)


def judged_wherever(el: Any) -> str | None:
    """The detail of the OTHER fact an element the official rules judge anywhere calls for, if any.

    The official contexts are bare names (`cac:PaymentMeans`), so they match an element where
    EN 16931 does not use it too (a cac:PaymentMeans in an allowance, a line's
    cac:BillingReference); the readers ask this there and where the element is read.
    """
    tag = el.tag
    if tag == _PAYMENT_MEANS:
        return None if any(child.tag == _MEANS_CODE for child in el) else DETAIL_NO_MEANS_CODE
    if tag == _ADDITIONAL_DOCUMENT:
        return None if has_text_child(el, _ID) else DETAIL_NO_DOCUMENT_ID
    if tag == _BILLING_REFERENCE:
        found = any(child.tag == _INVOICE_DOCUMENT and any(g.tag == _ID for g in child) for child in el)
        return None if found else DETAIL_NO_INVOICE_REFERENCE
    return None


def walk(el: Any, spec: Spec, target: dict, rd: Reader) -> bool:
    """Read the children of `el` through `spec` (for custom handlers); True if any."""
    return spec.read(el, target, rd)


# --------------------------------------------------------------------------- the compiler

_TEXT = """\
if child.values():
    attributes(child, e{i}, rd)
v = child.text
if v is None or v.isspace():
    empty(child, e{i}, rd)
    v = None"""

#: Number parsing written out: the common case is one set test and Decimal().
_NUMBER = """\
if number_chars(v):
    try:
        d = Decimal(v)
    except InvalidOperation:
        d = None
else:
    d = parse_decimal(v)
if d is None:
    invalid(child, e{i}, rd, v, NOT_A_NUMBER)
v = d"""

_DATE = """\
d = parse_date(v)
if d is None:
    invalid(child, e{i}, rd, v, NOT_A_DATE)
v = d"""

_AMOUNT_ATTRIBUTES = """\
items = child.items()
if len(items) == 1 and items[0][0] == "currencyID":
    rd.facts.append((ATTRIBUTE, {path!r}, child.sourceline, {field!r}, "currencyID", items[0][1], None))
else:
    amount_attributes(child, e{i}, rd, items)
v = child.text
if v is None or v.isspace():
    empty(child, e{i}, rd)
    v = None"""

_QUANTITY_ATTRIBUTES = """\
unit = None
for name, value in child.items():
    if name == "unitCode":
        unit = value
    elif name[:1] != "{{":
        rd.fact(UNUSED, {path!r}, child.sourceline, {field!r}, name, value)
if unit is not None and {extra!r} not in target:
    target[{extra!r}] = unit
v = child.text
if v is None or v.isspace():
    empty(child, e{i}, rd)
    v = None"""

_IDENT = """\
ident = {{}}
for name, value in child.items():
    if name == "schemeID":
        ident["scheme"] = value
    elif name[:1] != "{{":
        rd.fact(UNUSED, {path!r}, child.sourceline, {field!r}, name, value)
v = child.text
if v is None or v.isspace():
    empty(child, e{i}, rd)
ident["value"] = v or ""
v = ident"""

_STORE = """\
if {key!r} in target:
    repeated(child, e{i}, rd)
else:
    target[{key!r}] = v"""

_CAPTURE = """\
if {key!r} in target:
    repeated(child, e{i}, rd)
else:
    target[{key!r}] = child"""

_GROUP = """\
sub = {{}}
if not r{i}(child, sub, rd):
    empty(child, e{i}, rd)
if {key!r} in target:
    repeated(child, e{i}, rd)
else:
    target[{key!r}] = sub"""

_LIST = """\
sub = {{}}
items = target.get({key!r})
if items is None:
    target[{key!r}] = [sub]
else:
    items.append(sub)
if not r{i}(child, sub, rd):
    empty(child, e{i}, rd)"""

_THROUGH = """\
if not r{i}(child, target, rd):
    empty(child, e{i}, rd)"""

#: A wrapper with one text child (cac:PartyName/cbc:Name, cac:TaxScheme/cbc:ID, …), read
#: without a call: these are a sixth of all elements.
_THROUGH_TEXT = """\
g = child[0] if len(child) else None
if g is None or not isinstance(g.tag, str):
    empty(child, e{i}, rd)
while g is not None:
    if g.tag == {inner_tag!r}:
        if g.values():
            attributes(g, s{i}, rd)
        v = g.text
        if v is None or v.isspace():
            empty(g, s{i}, rd)
            v = v or ""
        if {inner_key!r} in target:
            repeated(g, s{i}, rd)
        else:
            target[{inner_key!r}] = v
    else:
        unknown(g, e{i}.spec, rd)
    g = g.getnext()"""

_SCRATCH = """\
sub = {{}}
if not r{i}(child, sub, rd):
    empty(child, e{i}, rd)
h{i}(child, e{i}, sub, target, rd)"""


def _parsed(attributes_code: str, parse_code: str) -> str:
    """Attribute handling, then parsing of the text when there is some."""
    indented = "\n".join("    " + line for line in parse_code.splitlines())
    return f"{attributes_code}\nelse:\n{indented}"


_BRANCHES = {
    # Text kept "" when the element is present but empty: Schematron's exists() is true for it.
    "text": _TEXT.replace("    v = None", '    v = v or ""') + "\n" + _STORE,
    "date": _parsed(_TEXT, _DATE) + "\n" + _STORE,
    "decimal": _parsed(_TEXT, _NUMBER) + "\n" + _STORE,
    "amount": _parsed(_AMOUNT_ATTRIBUTES, _NUMBER) + "\n" + _STORE,
    "quantity": _parsed(_QUANTITY_ATTRIBUTES, _NUMBER) + "\n" + _STORE,
    "ident": _IDENT + "\n" + _STORE,
    "capture": _CAPTURE,
    "group": _GROUP,
    "list": _LIST,
    "through": _THROUGH,
    "scratch": _SCRATCH,
    "call": "h{i}(child, e{i}, target, rd)",
}


def _single_text(e: Entry) -> tuple[str, Entry] | None:
    """(tag, entry) when `e` is a wrapper around exactly one text leaf."""
    if e.kind != "through" or len(e.spec) != 1:
        return None
    tag, inner = next(iter(e.spec.items()))
    return (tag, inner) if inner.kind == "text" else None


def _branch(i: int, e: Entry) -> str:
    """The inline code that reads child number `i` of a context."""
    single = _single_text(e)
    if single is not None:
        tag, inner = single
        return _THROUGH_TEXT.format(i=i, inner_tag=tag, inner_key=inner.key)
    code = _BRANCHES.get(e.kind)
    if code is None:
        raise ValueError(f"unknown entry kind {e.kind!r} at {e.path}")
    if e.kind == "group" and e.extra is not None:
        code += "\n    x{i}(child, sub, target, rd)"
    elif e.kind == "list" and e.extra is not None:
        code += "\nx{i}(child, sub, target, rd)"
    return code.format(i=i, key=e.key, path=e.path, field=e.field, extra=e.extra)


_HELPERS = {
    "attributes": attributes,
    "amount_attributes": amount_attributes,
    "empty": empty,
    "has_element": has_element,
    "repeated": repeated,
    "invalid": invalid,
    "unknown": unknown,
    "parse_date": parse_date,
    "parse_decimal": parse_decimal,
    "number_chars": _NUMBER_CHARS,
    "Decimal": Decimal,
    "InvalidOperation": InvalidOperation,
    "ATTRIBUTE": ATTRIBUTE,
    "UNUSED": UNUSED,
    "NOT_A_DATE": NOT_A_DATE,
    "NOT_A_NUMBER": NOT_A_NUMBER,
}


#: Branches chosen by a chain of `k == i` tests below this many; above, by halving the range.
_CHAIN = 4


def _choose(entries: list[Entry], lo: int, hi: int, indent: str) -> list[str]:
    """Code that runs the branch of entry `k` (lo <= k < hi): a binary search on k, not a chain of
    tests, so a child of a 40-entry context costs ~6 comparisons instead of up to 40."""
    out: list[str] = []
    if hi - lo <= _CHAIN:
        for i in range(lo, hi):
            test = f"if k == {i}:" if i == lo else ("else:" if i == hi - 1 else f"elif k == {i}:")
            out.append(indent + test)
            out.extend(indent + "    " + line for line in _branch(i, entries[i]).splitlines())
        return out
    mid = (lo + hi) // 2
    out.append(f"{indent}if k < {mid}:")
    out.extend(_choose(entries, lo, mid, indent + "    "))
    out.append(f"{indent}else:")
    out.extend(_choose(entries, mid, hi, indent + "    "))
    return out


def compile_spec(spec: Spec) -> Callable[[Any, dict, Reader], bool]:
    """Generate `read(el, target, rd) -> bool` for one context (its sub-contexts are compiled already)."""
    env: dict[str, Any] = dict(_HELPERS)
    env["spec"] = spec
    env["index"] = {tag: i for i, tag in enumerate(spec)}.get
    entries = list(spec.values())
    for i, entry in enumerate(entries):
        env[f"e{i}"] = entry
        if entry.spec is not None:
            env[f"r{i}"] = entry.spec.read
            single = _single_text(entry)
            if single is not None:
                env[f"s{i}"] = single[1]
        if entry.fn is not None:
            env[f"h{i}"] = entry.fn
        if entry.kind in ("group", "list") and entry.extra is not None:
            env[f"x{i}"] = entry.extra
    lines = [
        "def read(el, target, rd):",
        "    if not len(el):",
        "        return False",
        "    child = el[0]",
        "    while child is not None:",
        "        k = index(child.tag)",
        "        if k is None:",
        "            unknown(child, spec, rd)",
    ]
    if entries:
        lines.append("        else:")
        lines.extend(_choose(entries, 0, len(entries), "            "))
    lines.append("        child = child.getnext()")
    # False when the children were only comments or processing instructions (rare: tested last).
    lines.append("    return isinstance(el[0].tag, str) or has_element(el)")
    code = generated_code.compiled("\n".join(lines) + "\n", f"<ubl reader: {spec.path or '/'}>")
    exec(code, env)
    if not spec.path:  # a document's root: its whole table is compiled
        generated_code.save()
    return env["read"]

