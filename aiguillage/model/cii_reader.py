"""UN/CEFACT CII D16B (EN 16931-3-3 binding): read into the model.

Reading is a hot path, so it makes one pass over the tree: every parent
context has a table from child tag to spec (a text term, a decimal term, a
wrapper, a model group or a handler), which fills plain dicts shaped like
the model, and pydantic builds the `Invoice` once at the end. No XPath and
no `find()`: the cost is one dict look-up per element. (Measured: building
the model with `model_validate` beats `model_construct` and hand-built
instances; pydantic takes about a third of the read.)

What the XML says that the model cannot hold is recorded as syntax facts
(`facts.py`) with the element path and source line: values that are not
dates or numbers, elements repeated where one is allowed, elements EN 16931
does not use. Reading never raises on business data. Binding terms
(`terms.binding`) keep what the official rules judge as the XML groups it:
the tax type of each VAT category (`tax_scheme`), and every ram:TaxTotalAmount
with the position of its settlement (`tax_totals`, BR-CO-15, PEPPOL-EN16931-R053/R054).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from aiguillage.model import extended_fr
from aiguillage.model.cii_common import (
    QDT_DATE_TIME,
    ROOT_TAG,
    UDT_DATE,
    UDT_DATE_TIME,
    UDT_INDICATOR,
    VAT_POINT_FROM_CII,
)
from aiguillage.model.cii_common import (
    ram as _ram,
)
from aiguillage.model.cii_common import (
    rsm as _rsm,
)
from aiguillage.model.cii_facts import (
    NO_DOCUMENT_ID,
    NO_MEANS_TYPE_CODE,
    PENDING,
    FactRecorder,
    Path,
    _flat,
    _join,
    qname,
)
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.facts import FactKind, has_child, has_text_child
from aiguillage.model.invoice import Invoice

# ============================================================================ values
# Parsed values are cached by their text: invoices repeat the same few amounts,
# rates and dates, and Decimal/date objects are immutable, so sharing is safe.

_DECIMALS: dict[str, Decimal] = {}
_DATES: dict[str, date] = {}
_CACHE_LIMIT = 4096


def _parse_decimal(text: str) -> Decimal | None:
    """An xs:decimal as written ("100.00" keeps two decimals), or None if it is not one."""
    value = _DECIMALS.get(text)
    if value is not None:
        return value
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or not text.isascii() or "e" in text or "E" in text or "_" in text:
        return None
    if len(_DECIMALS) >= _CACHE_LIMIT:
        _DECIMALS.clear()
    _DECIMALS[text] = value
    return value


def _parse_date(text: str) -> date | None:
    """A format-102 date (YYYYMMDD), or None if the text is not a real date."""
    value = _DATES.get(text)
    if value is not None:
        return value
    stripped = text.strip()
    if len(stripped) != 8 or not stripped.isdigit() or not stripped.isascii():
        return None
    try:
        value = date(int(stripped[:4]), int(stripped[4:6]), int(stripped[6:]))
    except ValueError:
        return None
    if len(_DATES) >= _CACHE_LIMIT:
        _DATES.clear()
    _DATES[text] = value
    return value


# ============================================================================ reader

Handler = Callable[["_Reader", etree._Element, dict, "Path"], None]
#: A spec: a text key (str), a decimal (key, currencyID unused) tuple, a wrapper table, or a handler.
Spec = Any  # str | tuple[str, str | None, str | None] | Table | _Group | _Expected | Handler
Table = dict[str, Spec]


class _Reader(FactRecorder):
    """State of one read: the invoice dict being filled and the facts recorded."""

    __slots__ = ("facts", "further_tax_totals", "invoice", "tax_totals")

    def __init__(self) -> None:
        self.invoice: dict[str, Any] = {}
        self.facts: list[dict[str, Any]] = []
        #: (amount, currencyID, element, totals path): BT-110 and BT-111 are told
        #: apart by currency only once BT-5 and BT-6 are known.
        self.tax_totals: list[tuple[Decimal | None, str | None, etree._Element, Path]] = []
        #: (amount, currencyID, element) of the ram:TaxTotalAmount of a repeated monetary summation.
        self.further_tax_totals: list[tuple[Decimal | None, str | None, etree._Element]] = []

    def walk(self, element: etree._Element, table: Table, target: dict, path: Path) -> None:
        """Dispatch every child by its tag; children the table lacks are not EN 16931.

        The commonest specs are handled inline, since a call per element is a
        large share of read time: a str is a text term, a tuple a decimal term
        (with the attribute it may carry), a dict a wrapper whose children fill
        the same object, a `_Group` a model group (as `group()` does).
        """
        lookup = table.get
        for child in element[:]:  # a C-built list: much faster than iterating the element
            spec = lookup(child.tag)
            kind = spec.__class__
            if kind is str:
                text = child.text
                if text and spec not in target and not text.isspace():
                    target[spec] = text
                else:
                    self.text(child, target, path, spec)
            elif kind is dict:
                if not len(child):
                    self.blank(child)
                self.walk(child, spec, target, path)
            elif kind is tuple:
                key, attribute, attribute_key = spec
                value = _DECIMALS.get(child.text)
                if value is None or key in target:
                    self.number(child, target, path, key)
                else:
                    target[key] = value
                if attribute is not None:
                    extra = child.get(attribute)
                    if extra is not None:
                        if attribute_key is None:
                            self.fact(FactKind.UNUSED_ELEMENT, child, _join(path, key), attribute=attribute, value=extra)
                        elif attribute_key not in target:
                            target[attribute_key] = extra
            elif kind is _Group:
                if not len(child):
                    self.blank(child)
                key = spec.key
                if spec.many:
                    entries = target.get(key)
                    if entries is None:
                        entries = target[key] = []
                    group: dict[str, Any] = {}
                    entries.append(group)
                    self.walk(child, spec.table, group, (path, spec.list_key))
                elif key not in target:
                    group = target[key] = {}
                    self.walk(child, spec.table, group, (path, key))
                else:
                    self.group(child, spec, target, path)
            elif kind is _Expected:
                text = child.text
                if text in spec.allowed:
                    target[spec.key] = None
                else:
                    self.fact(FactKind.INVALID_VALUE, child, value=text, detail=spec.detail)
                    target[spec.key] = text or ""
            elif spec is None:
                self.unused(child)
            elif len(child):
                spec(self, child, target, path)
            else:  # a leaf handler records an empty leaf; a container handler does not
                recorded = len(self.facts)
                spec(self, child, target, path)
                if not any(f["kind"] is FactKind.EMPTY_ELEMENT for f in self.facts[recorded:]):
                    self.blank(child)

    def group(self, element: etree._Element, spec: _Group, target: dict, path: Path) -> None:
        """Enter a model group: a new list entry, a new group, or a shared one."""
        key = spec.key
        if spec.many:
            entries = target.setdefault(key, [])
            group: dict[str, Any] = {}
            entries.append(group)
            self.walk(element, spec.table, group, (path, spec.list_key))
            return
        group = target.get(key)
        if group is None:
            group = target[key] = {}
        elif not spec.shared:
            self.repeated(element, path, key)
            return
        self.walk(element, spec.table, group, (path, key))

    def text(self, element: etree._Element, target: dict, path: Path, key: str) -> None:
        """Store a text term, or record why not (empty, repeated)."""
        value = element.text
        if not value or value.isspace():
            # Present but empty: kept as "" so presence rules see it; the fact records emptiness.
            self.empty(element, path, key)
            value = value or ""
        if key in target:
            self.repeated(element, path, key)
        else:
            target[key] = value

    def number(self, element: etree._Element, target: dict, path: Path, key: str) -> None:
        """Store a decimal term the cache did not know, or record why not."""
        if key in target:
            self.repeated(element, path, key)
            return
        value = self.decimal(element, path, key)
        if value is not None:
            target[key] = value

    # ---------------------------------------------------------------- values

    def decimal(self, element: etree._Element, path: Path, key: str) -> Decimal | None:
        text = element.text
        if not text:
            self.empty(element, path, key)
            return None
        value = _parse_decimal(text)
        if value is None:
            self.invalid(element, path, key, text, "a decimal number")
        return value

    def date(self, element: etree._Element, path: Path, key: str, accepted: str) -> date | None:
        """Read a date container (`ram:IssueDateTime`) holding one format-102 date string."""
        value = None
        for child in element:
            if child.tag != accepted:
                self.unused(child)
                continue
            text = child.text
            form = child.get("format")
            if form != "102":
                kind = FactKind.MISSING_ATTRIBUTE if form is None else FactKind.INVALID_VALUE
                self.fact(kind, child, _join(path, key), attribute="format", value=form, detail="expected format 102")
            if not text:
                self.empty(child, path, key)
                continue
            value = _parse_date(text)
            if value is None:
                self.invalid(child, path, key, text, "a date YYYYMMDD")
        return value


# ---------------------------------------------------------------- handler factories


def _text(key: str) -> str:
    """A text or code term (handled inline by `_Reader.walk`)."""
    return key


def _amount(key: str) -> tuple[str, str, None]:
    """An amount: CII carries no currencyID on it (only on TaxTotalAmount)."""
    return (key, "currencyID", None)


def _percent(key: str) -> tuple[str, str, None]:
    """A percentage: a `format` on it is not used (CII-SR-186, CII-DT-059)."""
    return (key, "format", None)


def _quantity(key: str, unit_key: str) -> tuple[str, str, str]:
    """A quantity with its unitCode (BT-129/130)."""
    return (key, "unitCode", unit_key)


def _base_quantity(*, overwrite: bool) -> Handler:
    """BT-149/150, which CII may carry on both the gross and the net price; the net one wins."""

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        present = "base_quantity" in target or "base_quantity_unit_code" in target
        if present and not overwrite:
            return
        value = reader.decimal(element, path, "base_quantity")
        if value is not None:
            target["base_quantity"] = value
        unit = element.get("unitCode")
        if unit is not None:
            target["base_quantity_unit_code"] = unit

    if overwrite:
        return handle

    def gross(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        unit = element.get("unitCode")
        if unit is not None:  # the binding field: the gross price's own unit, whichever wins BT-150
            target["gross_base_quantity_unit_code"] = unit
        handle(reader, element, target, path)

    return gross


def _date(key: str, accepted: str = UDT_DATE_TIME) -> Handler:
    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        if key in target:
            reader.repeated(element, path, key)
            return
        value = reader.date(element, path, key, accepted)
        if value is not None:
            target[key] = value

    return handle


def _identifier(key: str, *, many: bool = False, scheme_unused: bool = False, scheme_required: bool = False) -> Handler:
    """An identifier with its schemeID, stored once (`many=False`) or appended to a list."""

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        scheme = element.get("schemeID")
        if scheme is not None and scheme_unused:
            reader.fact(FactKind.UNUSED_ELEMENT, element, _join(path, key), attribute="schemeID", value=scheme)
        elif scheme is None and scheme_required:  # CII-SR-046
            reader.fact(FactKind.MISSING_ATTRIBUTE, element, _join(path, key), attribute="schemeID")
        value = element.text
        if not value or value.isspace():
            reader.empty(element, path, key)
            value = value or ""
        identifier = {"value": value, "scheme": scheme}
        if many:
            target.setdefault(key, []).append(identifier)
        elif key in target:
            reader.repeated(element, path, key)
        else:
            target[key] = identifier

    return handle


class _Group:
    """A spec for an element that is a model group (handled inline by `_Reader.walk`)."""

    __slots__ = ("key", "list_key", "many", "shared", "table")

    def __init__(self, key: str, table: Table, *, many: bool = False, shared: bool = False) -> None:
        self.key = key
        self.list_key = f"{key}[]"
        self.table = table
        #: Each element is one more entry of a repeating group.
        self.many = many
        #: Several elements fill the same group (so a second one is not a repetition).
        self.shared = shared


def _group(key: str, table: Table) -> _Group:
    """A group whose element maps one to one onto a model group (present = not None)."""
    return _Group(key, table)


def _list(key: str, table: Table) -> _Group:
    """One more entry of a repeating group."""
    return _Group(key, table, many=True)


def _shared(key: str, table: Table) -> _Group:
    """A group that several CII elements fill together, created by the first of them."""
    return _Group(key, table, shared=True)


def _through(table: Table) -> Table:
    """A syntax-only wrapper: its children fill the same model object."""
    return table


def _within(keys: tuple[str, ...], spec: Spec) -> Handler:
    """Fill a model group that several CII elements share, creating it on first use."""

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        for key in keys:
            group = target.get(key)
            if group is None:
                group = target[key] = {}
            target = group
            path = (path, key)
        if spec.__class__ is dict:
            reader.walk(element, spec, target, path)
        else:
            _apply(reader, spec, element, target, path)

    return handle


def _apply(reader: _Reader, spec: Spec, element: etree._Element, target: dict, path: Path) -> None:
    """Apply one spec to one element, outside the walk's inline fast path."""
    if spec.__class__ is str:
        reader.text(element, target, path, spec)
    elif spec.__class__ is _Group:
        reader.group(element, spec, target, path)
    else:
        spec(reader, element, target, path)


def _known(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """Used by the syntax but not a business term (e.g. the project name CII requires)."""


_TYPE_CODE = _ram("TypeCode")


class _Expected:
    """A code the binding fixes (handled inline by `_Reader.walk`): the ram:TypeCode of a tax
    must be VAT (CII-DT-037). Another text is an INVALID_VALUE fact and is kept in `key`, a
    binding field (`terms.binding`) for the rules that read a category only under VAT; the
    expected code is kept as None, so that `_untyped_taxes` can tell a tax without TypeCode."""

    __slots__ = ("allowed", "detail", "key")

    def __init__(self, allowed: frozenset[str], key: str) -> None:
        self.allowed = allowed
        self.key = key
        self.detail = f"expected {' or '.join(sorted(allowed))}"


def _tax_type(key: str) -> _Expected:
    return _Expected(frozenset({"VAT"}), key)


def _untyped_taxes(invoice: dict) -> None:
    """A tax without ram:TypeCode has no tax scheme: "" (not VAT), as the official rules read it."""
    for line in invoice.get("lines", ()):
        vat = line.get("vat")
        if vat is not None and "tax_scheme" not in vat:
            vat["tax_scheme"] = ""
    for breakdown in invoice.get("vat_breakdown", ()):
        if "tax_scheme" not in breakdown:
            breakdown["tax_scheme"] = ""
    for key in ("allowances", "charges"):
        for entry in invoice.get(key, ()):
            if "vat_tax_scheme" not in entry and ("vat_category_code" in entry or "vat_rate" in entry):
                entry["vat_tax_scheme"] = ""


# ---------------------------------------------------------------- special handlers


def _tax_registration(vat_key: str, local_key: str | None) -> Handler:
    """SpecifiedTaxRegistration: schemeID VA is the VAT number, FC the local tax number.

    An ID without schemeID is neither (the binding of BT-31/BT-32 is the schemeID; every
    official CII rule reads ram:ID[@schemeID='VA'] or 'FC'): a MISSING_ATTRIBUTE fact only.
    """

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        for child in element:
            if child.tag != _ram("ID"):
                reader.unused(child)
                continue
            scheme = child.get("schemeID")
            if scheme is None:
                reader.fact(FactKind.MISSING_ATTRIBUTE, child, _join(path, vat_key), attribute="schemeID")
            elif scheme == "VA":
                reader.text(child, target, path, vat_key)
            elif scheme == "FC" and local_key is not None:
                reader.text(child, target, path, local_key)
            else:
                reader.fact(FactKind.UNUSED_ELEMENT, child, attribute="schemeID", value=scheme, detail="tax registration scheme not used here")
                # Peppol's check-digit rules judge any ram:ID by its scheme: the identifier too.
                reader.fact(FactKind.OTHER, child, value=child.text or "", detail=SCHEMED_IDENTIFIER)

    return handle


#: OTHER (value = the identifier) beside the unused-element fact of its schemeID, same path and
#: line: a tax registration's ram:ID with a scheme other than VA or FC, which Peppol's
#: PEPPOL-COMMON-R040…R050 judge by its scheme (their CII context is any ram:ID).
SCHEMED_IDENTIFIER = "identifier with a schemeID, not in the model"
#: OTHER facts' details for what the CII binding asks of a group (syntax-values.rules).
BOTH_PERSON_AND_DEPARTMENT = "ram:PersonName and ram:DepartmentName both given"
NO_CHARGE_INDICATOR = "missing ram:ChargeIndicator (read as an allowance)"
NO_ORIGIN_COUNTRY_ID = "ram:OriginTradeCountry without ram:ID"
GROSS_ALLOWANCE_INCOMPLETE = "not both ram:ChargeIndicator false and ram:ActualAmount"
#: OTHER fact on the reason code of an allowance (indicator false) on the gross price, value = the
#: code as written: EN 16931 has no term for it, EXTENDED-CTC-FR's BR-FREXT-CL-19-GP judges it.
GROSS_ALLOWANCE_REASON = "reason code of an allowance on the gross price"
NO_CREDITOR_ACCOUNT = "credit transfer without ram:IBANID or ram:ProprietaryID"
#: OTHER fact on a credit transfer (payment means 30 or 58) whose accounts give both an IBAN and a
#: proprietary identifier (BT-84): the EXTENDED-CTC-FR CII artefact's BR-CO-27 asks for one.
BOTH_CREDITOR_ACCOUNTS = "credit transfer with both ram:IBANID and ram:ProprietaryID"


def _department(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-41/BT-56 may be a department rather than a person; the person wins if both
    (which the binding does not want: CII-SR-465, CII-SR-466)."""
    if "point" not in target:
        if element.text:
            target["point"] = element.text
    else:
        reader.fact(FactKind.OTHER, element, _join(path, "point"), detail=BOTH_PERSON_AND_DEPARTMENT)


BOTH_ID_AND_GLOBAL_ID = "ram:ID and ram:GlobalID both given"
_ID = _ram("ID")


def _party_global_id(key: str) -> Handler:
    """A buyer's, payee's or delivery party's GlobalID, which shares its term with ram:ID:
    the binding wants one or the other (CII-SR-449, 450, 451)."""
    read = _identifier(key)

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        if any(sibling.tag == _ID for sibling in element.itersiblings(preceding=True)):
            reader.fact(FactKind.OTHER, element, _join(path, key), detail=BOTH_ID_AND_GLOBAL_ID)
        read(reader, element, target, path)

    return handle


def _origin_country(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-159; the binding wants its ram:ID exactly once (CII-SR-090)."""
    given = "country_of_origin" in target
    reader.walk(element, _ORIGIN_COUNTRY, target, path)
    if not given and "country_of_origin" not in target:
        reader.fact(FactKind.OTHER, element, _join(path, "country_of_origin"), detail=NO_ORIGIN_COUNTRY_ID)


def _attachment(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-125: the base64 text is kept exactly as received; CII requires both attributes."""
    if "attachment" in target:
        reader.repeated(element, path, "attachment")
        return
    attachment = {"content": element.text, "mime_code": element.get("mimeCode"), "filename": element.get("filename")}
    for attribute, key in (("mimeCode", "mime_code"), ("filename", "filename")):
        if attachment[key] is None:
            reader.fact(FactKind.MISSING_ATTRIBUTE, element, _join(path, "attachment"), attribute=attribute)
    target["attachment"] = attachment


def _class_code(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-158 with its list id and list version."""
    if "value" in target or "scheme" in target:
        reader.repeated(element, path, "value")
        return
    target["value"] = element.text or ""
    target["scheme"] = element.get("listID")
    target["scheme_version"] = element.get("listVersionID")


def _charge_indicator(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    for child in element:
        if child.tag != UDT_INDICATOR:
            reader.unused(child)
            continue
        target.setdefault("_indicator_text", child.text or "")  # for the `charge_indicator` binding
        if child.text in ("true", "1"):
            target["_charge"] = True
        elif child.text in ("false", "0"):
            target["_charge"] = False
        else:
            reader.invalid(child, path, "charge_indicator", child.text or "", "true or false")


def _allowance_charge(table: Table) -> Handler:
    """An allowance or a charge: which one is known only after ChargeIndicator is read.

    The udt:Indicator as written is kept in `charge_indicator` when it is not exactly
    what the list says ("" when there is none, or no ram:ChargeIndicator): the rules
    say how each official rule reads it.
    """

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        start = len(reader.facts)
        entry: dict[str, Any] = {}
        reader.walk(element, table, entry, PENDING)
        if "_charge" not in entry and not any(child.tag == _CHARGE_INDICATOR for child in element):
            reader.fact(FactKind.OTHER, element, detail=NO_CHARGE_INDICATOR)  # CII-SR-463
        key = "charges" if entry.pop("_charge", False) else "allowances"
        if key == "charges":
            extended_fr.charge_reason_list_id(element, _REASON_CODE, entry)
        written = entry.pop("_indicator_text", "")
        if written != ("true" if key == "charges" else "false"):
            entry["charge_indicator"] = written
        target.setdefault(key, []).append(entry)
        reader.rename_pending(start, lambda: ((PENDING, f"{_join(path, key)}[]"),))

    return handle




def _tax_point_date(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-7 is written in every VAT breakdown in CII, but is one invoice-level term; the
    binding allows it once (CII-SR-461), so a second one is a fact even when equal."""
    value = reader.date(element, "", "vat_point_date", UDT_DATE)
    if value is not None and reader.invoice.get("vat_point_date") == value:
        reader.fact(FactKind.REPEATED, element, "vat_point_date", value=str(value), detail="again in another VAT breakdown")
    _invoice_level(reader, element, "vat_point_date", value)


def _vat_point_date_code(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-8: CII's UNTDID 2475 code, kept in the model as the UNTDID 2005 code."""
    text = element.text
    if not text:
        reader.empty(element, "", "vat_point_date_code")
        return
    _invoice_level(reader, element, "vat_point_date_code", VAT_POINT_FROM_CII.get(text, text))


def _invoice_level(reader: _Reader, element: etree._Element, key: str, value: object) -> None:
    if value is None:
        return
    current = reader.invoice.get(key)
    if current is None:
        reader.invoice[key] = value
    elif current != value:
        reader.fact(FactKind.REPEATED, element, key, value=str(value), detail="differs between VAT breakdowns; the first is kept")


def _tax_total(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-110 or BT-111: decided by currencyID once the currencies are known."""
    value = reader.decimal(element, path, "vat_amount")
    reader.tax_totals.append((value, element.get("currencyID"), element, path))


#: An AdditionalReferencedDocument's children that only some TypeCodes allow (CII-DT-015,
#: 018, 021, 022, 024): for the TypeCode itself, the values it may have.
_BY_TYPE_CODE = {
    _ram("URIID"): ("916",),
    _ram("Name"): ("916",),
    _ram("AttachmentBinaryObject"): ("916",),
    _ram("ReferenceTypeCode"): ("130",),
    _ram("TypeCode"): ("50", "130", "916"),
}
_TYPE_CODE = _ram("TypeCode")
#: The same in a line, whose table leaves the others out (unused whatever the TypeCode).
_LINE_BY_TYPE_CODE = {tag: _BY_TYPE_CODE[tag] for tag in (_ram("ReferenceTypeCode"), _TYPE_CODE)}


def _judge_by_type_code(reader: _Reader, element: etree._Element, type_code: str | None, judged: dict = _BY_TYPE_CODE) -> None:
    """UNUSED_ELEMENT facts for the children the document's TypeCode does not allow."""
    for child in element:
        allowed = judged.get(child.tag)
        if allowed is not None and (child.text if child.tag == _TYPE_CODE else type_code) not in allowed:
            reader.unused(child)


_SUPPORTING_ONCE = (_ram("Name"), _ram("AttachmentBinaryObject"))


def _is_916(element: etree._Element) -> bool:
    return any(child.tag == _TYPE_CODE and " ".join((child.text or "").split()) == "916" for child in element)


def _again_in_supporting_documents(reader: _Reader, element: etree._Element) -> None:
    """The binding allows one ram:Name and one ram:AttachmentBinaryObject in all the
    supporting documents (TypeCode 916) together (CII-SR-475, CII-SR-476)."""
    earlier = [s for s in element.itersiblings(_ram("AdditionalReferencedDocument"), preceding=True) if _is_916(s)]
    if not earlier:
        return
    for child in element:
        if child.tag in _SUPPORTING_ONCE and any(c.tag == child.tag for s in earlier for c in s):
            reader.fact(FactKind.REPEATED, child, detail="again in another supporting document (TypeCode 916)")


def _additional_document(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """Header AdditionalReferencedDocument: TypeCode 130 is BT-18, 50 is BT-17, else BG-24."""
    start = len(reader.facts)
    document: dict[str, Any] = {}
    reader.walk(element, _ADDITIONAL_DOCUMENT, document, PENDING)
    _document_id(reader, element)
    type_code = document.pop("_type", None)
    scheme = document.pop("_scheme", None)
    if type_code != "916" or scheme is not None:
        _judge_by_type_code(reader, element, type_code)
    if type_code in ("130", "50"):
        key = "invoiced_object_identifier" if type_code == "130" else "tender_reference"
        reader.rename_pending(start, lambda: ((PENDING, key),))
        _place_reference(reader, element, target, key, document, scheme)
        return
    target.setdefault("supporting_documents", []).append(document)
    reader.rename_pending(start, lambda: ((PENDING, "supporting_documents[]"),))
    if _is_916(element):
        _again_in_supporting_documents(reader, element)


_ISSUER_ASSIGNED_ID = _ram("IssuerAssignedID")


def _document_id(reader: _Reader, element: etree._Element) -> None:
    """BR-52 asks every ram:AdditionalReferencedDocument (BT-18, BT-17, BG-24, BT-128 alike) for a
    ram:IssuerAssignedID that is not blank: an OTHER fact when it has none."""
    if not has_text_child(element, _ISSUER_ASSIGNED_ID):
        reader.fact(FactKind.OTHER, element, detail=NO_DOCUMENT_ID)


def _line_document(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """A line's AdditionalReferencedDocument (BT-128), judged by its TypeCode as the header's."""
    reader.group(element, _LINE_DOCUMENT, target, path)
    _document_id(reader, element)
    type_code = next((child.text for child in element if child.tag == _TYPE_CODE), None)
    # The binding field `object_reference_type_code` (PEPPOL-EN16931-R101): None once one of the
    # line's references says exactly 130, else the first one's code as written ("" without one).
    if type_code == "130":
        target["object_reference_type_code"] = None
    elif "object_reference_type_code" not in target:
        target["object_reference_type_code"] = type_code or ""
    if type_code != "130":
        _judge_by_type_code(reader, element, type_code, _LINE_BY_TYPE_CODE)


def _place_reference(reader: _Reader, element: etree._Element, target: dict, key: str, document: dict, scheme: str | None) -> None:
    reference = document.pop("reference", None)
    if key in target:
        reader.repeated(element, "", key)
    elif key == "tender_reference":
        if reference is not None:
            target[key] = reference
    else:
        target[key] = {"value": reference, "scheme": scheme}


def _both_accounts(means: etree._Element) -> bool:
    """Whether a payment means' creditor accounts give an IBAN and a proprietary identifier
    (the artefact tests them over all its accounts)."""
    accounts = means.findall(_ram("PayeePartyCreditorFinancialAccount"))
    return any(a.find(_ram("IBANID")) is not None for a in accounts) and any(a.find(_ram("ProprietaryID")) is not None for a in accounts)


def _payment_means(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """One SpecifiedTradeSettlementPaymentMeans: CII repeats it once per account."""
    start = len(reader.facts)
    means: dict[str, Any] = {}
    reader.walk(element, _MEANS, means, PENDING)
    if "means_type_code" not in means:  # BR-49 asks each payment means for its code (CII repeats them)
        reader.fact(FactKind.OTHER, element, _join(path, "means_type_code"), detail=NO_MEANS_TYPE_CODE)
    for key in ("means_type_code", "means_text"):
        if key in means:
            if key not in target:
                target[key] = means[key]
            elif target[key] != means[key]:
                reader.fact(FactKind.REPEATED, element, _join(path, key), value=means[key], detail="differs from the first payment means; the first is kept")
    code = means.get("means_type_code")
    if code is not None and code.strip() in ("30", "58") and "account_identifier" not in means.get("_transfer", ()):
        reader.fact(FactKind.OTHER, element, _join(path, "credit_transfers"), detail=NO_CREDITOR_ACCOUNT)  # CII-SR-470
    if code is not None and code.strip() in ("30", "58") and _both_accounts(element):
        reader.fact(FactKind.OTHER, element, _join(path, "credit_transfers"), detail=BOTH_CREDITOR_ACCOUNTS)
    if "_transfer" in means:
        target.setdefault("credit_transfers", []).append(means["_transfer"])
    if "card" in means:
        if "card" in target:
            reader.repeated(element, path, "card")
        else:
            target["card"] = means["card"]
    if "_debit" in means:
        _merge_debited_account(reader, element, target, path, means["_debit"])
    reader.rename_pending(
        start,
        lambda: (
            (f"{PENDING}._transfer", f"{_join(path, 'credit_transfers')}[]"),
            (f"{PENDING}._debit", _join(path, "direct_debit")),
            (PENDING, _flat(path)),
        ),
    )


def _merge_debited_account(reader: _Reader, element: etree._Element, target: dict, path: Path, debit: dict) -> None:
    direct_debit = target.get("direct_debit")
    if direct_debit is None:
        direct_debit = target["direct_debit"] = {}
    account = debit.get("debited_account_identifier")
    if account is None:
        return
    if "debited_account_identifier" in direct_debit:
        reader.repeated(element, _join(path, "direct_debit"), "debited_account_identifier")
    else:
        direct_debit["debited_account_identifier"] = account


# ---------------------------------------------------------------- tables, leaves first

_ADDRESS: Table = {
    _ram("PostcodeCode"): _text("post_code"),
    _ram("LineOne"): _text("line_one"),
    _ram("LineTwo"): _text("line_two"),
    _ram("LineThree"): _text("line_three"),
    _ram("CityName"): _text("city"),
    _ram("CountryID"): _text("country_code"),
    _ram("CountrySubDivisionName"): _text("country_subdivision"),
}

_CONTACT: Table = {
    _ram("PersonName"): _text("point"),
    _ram("DepartmentName"): _department,
    _ram("TelephoneUniversalCommunication"): _through({_ram("CompleteNumber"): _text("telephone")}),
    _ram("EmailURIUniversalCommunication"): _through({_ram("URIID"): _text("email")}),
}

_LEGAL_ORGANIZATION: Table = {
    _ram("ID"): _identifier("legal_registration_identifier"),
    _ram("TradingBusinessName"): _text("trading_name"),
}

_ELECTRONIC_ADDRESS: Table = {_ram("URIID"): _identifier("electronic_address")}
_URI_COMMUNICATION = _ram("URIUniversalCommunication")
#: OTHER: the party's first ram:URIUniversalCommunication has no ram:URIID (BR-62, BR-63 ask its schemeID).
NO_URIID = "ram:URIUniversalCommunication without ram:URIID"


def _electronic_address(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-34 / BT-49. The official BR-62 / BR-63 read the schemeID of the party's first
    ram:URIUniversalCommunication: when it has no ram:URIID the model has no address, and an
    OTHER fact says that the container is there."""
    reader.walk(element, _ELECTRONIC_ADDRESS, target, path)
    if not has_child(element, _ram("URIID")) and next(element.itersiblings(_URI_COMMUNICATION, preceding=True), None) is None:
        reader.fact(FactKind.OTHER, element, _join(path, "electronic_address"), detail=NO_URIID)


_SELLER: Table = {
    _ram("ID"): _identifier("identifiers", many=True, scheme_unused=True),
    _ram("GlobalID"): _identifier("identifiers", many=True),
    _ram("Name"): _text("name"),
    _ram("Description"): _text("additional_legal_information"),
    _ram("SpecifiedLegalOrganization"): _through(_LEGAL_ORGANIZATION),
    _ram("DefinedTradeContact"): _group("contact", _CONTACT),
    _ram("PostalTradeAddress"): _group("postal_address", _ADDRESS),
    _URI_COMMUNICATION: _electronic_address,
    _ram("SpecifiedTaxRegistration"): _tax_registration("vat_identifier", "tax_registration_identifier"),
}

_BUYER: Table = {
    _ram("ID"): _identifier("identifier", scheme_unused=True),
    _ram("GlobalID"): extended_fr.cii_repeatable("identifier", _party_global_id("identifier")),
    _ram("Name"): _text("name"),
    _ram("SpecifiedLegalOrganization"): _through(_LEGAL_ORGANIZATION),
    _ram("DefinedTradeContact"): _group("contact", _CONTACT),
    _ram("PostalTradeAddress"): _group("postal_address", _ADDRESS),
    _URI_COMMUNICATION: _electronic_address,
    _ram("SpecifiedTaxRegistration"): _tax_registration("vat_identifier", None),
}

_PAYEE: Table = {
    _ram("ID"): _identifier("identifier", scheme_unused=True),
    _ram("GlobalID"): extended_fr.cii_repeatable("identifier", _party_global_id("identifier")),
    _ram("Name"): _text("name"),
    _ram("SpecifiedLegalOrganization"): _through({_ram("ID"): _identifier("legal_registration_identifier")}),
    _ram("URIUniversalCommunication"): extended_fr.cii_payee_address,
}

_TAX_REPRESENTATIVE: Table = {
    _ram("Name"): _text("name"),
    _ram("PostalTradeAddress"): _group("postal_address", _ADDRESS),
    _ram("SpecifiedTaxRegistration"): _tax_registration("vat_identifier", None),
}

_SHIP_TO: Table = {
    _ram("ID"): _identifier("location_identifier", scheme_unused=True),
    _ram("GlobalID"): extended_fr.cii_repeatable("location_identifier", _party_global_id("location_identifier")),
    _ram("Name"): _text("party_name"),
    _ram("PostalTradeAddress"): _group("address", _ADDRESS),
}


def _period_date(key: str) -> Handler:
    """BT-73/74, BT-134/135: the date, or what the official rules compare instead (they compare
    the texts of udt:DateTimeString): the text that is no date in the binding `<key>_text`
    ("" when empty), a ram:StartDateTime or ram:EndDateTime without udt:DateTimeString in
    `<key>_blank` (model/invoice.py, `InvoicingPeriod`)."""
    text_key = f"{key}_text"
    blank_key = f"{key}_blank"

    def handle(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
        if key in target or text_key in target or blank_key in target:
            reader.repeated(element, path, key)
            return
        value = reader.date(element, path, key, UDT_DATE_TIME)
        if value is not None:
            target[key] = value
            return
        for child in element:
            if child.tag == UDT_DATE_TIME:
                target[text_key] = child.text or ""
                return
        target[blank_key] = qname(element.tag)

    return handle


_PERIOD: Table = {
    _ram("StartDateTime"): _period_date("start_date"),
    _ram("EndDateTime"): _period_date("end_date"),
}

_CATEGORY_TAX: Table = {
    _TYPE_CODE: _tax_type("vat_tax_scheme"),
    _ram("CategoryCode"): _text("vat_category_code"),
    _ram("RateApplicablePercent"): _percent("vat_rate"),
}

_LINE_ALLOWANCE_CHARGE: Table = {
    _ram("ChargeIndicator"): _charge_indicator,
    _ram("CalculationPercent"): _percent("percentage"),
    _ram("BasisAmount"): _amount("base_amount"),
    _ram("ActualAmount"): _amount("amount"),
    _ram("ReasonCode"): _text("reason_code"),
    _ram("Reason"): _text("reason"),
}

_DOCUMENT_ALLOWANCE_CHARGE: Table = {
    **_LINE_ALLOWANCE_CHARGE,
    _ram("CategoryTradeTax"): _through(
        {
            **_CATEGORY_TAX,
            _ram("ExemptionReason"): extended_fr.cii_text("vat_exemption_reason"),  # EXTENDED-CTC-FR
            _ram("ExemptionReasonCode"): extended_fr.cii_text("vat_exemption_reason_code"),
        }
    ),
}

_CHARACTERISTIC: Table = {_ram("Description"): _text("name"), _ram("Value"): _text("value"), _ram("TypeCode"): extended_fr.cii_attribute_code}
NO_CHARACTERISTIC_NAME = "ram:ApplicableProductCharacteristic without ram:Description"
NO_CHARACTERISTIC_VALUE = "ram:ApplicableProductCharacteristic without ram:Value"


def _characteristic(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """An item attribute (BG-32): its name and value exactly once (CII-SR-069, CII-SR-072)."""
    entry: dict[str, Any] = {}
    target.setdefault("attributes", []).append(entry)
    reader.walk(element, _CHARACTERISTIC, entry, (path, "attributes[]"))
    if "name" not in entry:
        reader.fact(FactKind.OTHER, element, _join(path, "attributes[]"), detail=NO_CHARACTERISTIC_NAME)
    if "value" not in entry:
        reader.fact(FactKind.OTHER, element, _join(path, "attributes[]"), detail=NO_CHARACTERISTIC_VALUE)


_ITEM: Table = {
    _ram("GlobalID"): _identifier("standard_identifier", scheme_required=True),
    _ram("SellerAssignedID"): _text("sellers_identifier"),
    _ram("BuyerAssignedID"): _text("buyers_identifier"),
    _ram("Name"): _text("name"),
    _ram("Description"): _text("description"),
    _ram("ApplicableProductCharacteristic"): _characteristic,
    _ram("DesignatedProductClassification"): _list("classification_identifiers", {_ram("ClassCode"): _class_code}),
    _ram("OriginTradeCountry"): _origin_country,
}

_CHARGE_INDICATOR = _ram("ChargeIndicator")
_REASON_CODE = _ram("ReasonCode")
_ACTUAL_AMOUNT = _ram("ActualAmount")
_ORIGIN_COUNTRY: Table = {_ram("ID"): _text("country_of_origin")}
_GROSS_ALLOWANCE: Table = {_ram("ChargeIndicator"): _known, _ram("ActualAmount"): _amount("discount")}


def _gross_allowance(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BT-147, one per price: a second allowance on the gross price is a repeat of the
    allowance (a repeat of its amount is one inside an allowance: CII-SR-440)."""
    entry: dict[str, Any] = {}
    reader.walk(element, _GROSS_ALLOWANCE, entry, path)
    indicator = amount = False
    for child in element:
        if child.tag == _ACTUAL_AMOUNT:
            amount = True
        elif child.tag == _CHARGE_INDICATOR:
            indicator = True
            if any(i.tag == UDT_INDICATOR and (i.text or "").strip() in ("false", "0") for i in child):
                indicator = "false"
            written = next((i.text or "" for i in child if i.tag == UDT_INDICATOR), "")
            if written != "false" and "discount" not in target:  # the `discount_charge_indicator` binding
                target.setdefault("discount_charge_indicator", written)
    if not indicator and "discount" not in target:
        target.setdefault("discount_charge_indicator", "")
    if indicator == "false":
        for code in element.iterfind(_ram("ReasonCode")):
            reader.fact(FactKind.OTHER, code, value=code.text or "", detail=GROSS_ALLOWANCE_REASON)
    if not (indicator == "false" and amount or not indicator and not amount):  # CII-SR-119
        reader.fact(FactKind.OTHER, element, _join(path, "discount"), detail=GROSS_ALLOWANCE_INCOMPLETE)
    if "discount" in entry:
        if "discount" in target:
            reader.repeated(element, path, "discount")
        else:
            target["discount"] = entry["discount"]


_GROSS_PRICE: Table = {
    _ram("ChargeAmount"): _amount("gross_price"),
    _ram("BasisQuantity"): _base_quantity(overwrite=False),
    _ram("AppliedTradeAllowanceCharge"): _gross_allowance,
}

def _unused_allowance(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """An allowance where EN 16931 uses none (the net price's: CII-SR-142): an unused element,
    whose value is its udt:Indicator as written ("" when none), which PEPPOL-EN16931-R043
    judges wherever the allowance is."""
    written = next((i.text or "" for c in element if c.tag == _CHARGE_INDICATOR for i in c if i.tag == UDT_INDICATOR), "")
    reader.fact(FactKind.UNUSED_ELEMENT, element, value=written, detail="not used by EN 16931 in this context")


_NET_PRICE: Table = {
    _ram("ChargeAmount"): _amount("net_price"),
    _ram("BasisQuantity"): _base_quantity(overwrite=True),
    _ram("AppliedTradeAllowanceCharge"): _unused_allowance,
}

_LINE_AGREEMENT: Table = {
    _ram("BuyerOrderReferencedDocument"): _through({_ram("LineID"): _text("order_line_reference")}),
    _ram("GrossPriceProductTradePrice"): _shared("price", _GROSS_PRICE),
    _ram("NetPriceProductTradePrice"): _shared("price", _NET_PRICE),
    _ram("ApplicableTradeDeliveryTerms"): extended_fr.cii_delivery_terms,
    _ram("ItemSellerTradeParty"): extended_fr.cii_item_seller,  # the line's vendor (EXTENDED-CTC-FR)
}

_LINE_SETTLEMENT: Table = {
    _ram("ApplicableTradeTax"): _group(
        "vat",
        {
            _TYPE_CODE: _tax_type("tax_scheme"),
            _ram("CategoryCode"): _text("category_code"),
            _ram("RateApplicablePercent"): _percent("rate"),
            _ram("ExemptionReason"): extended_fr.cii_text("exemption_reason"),  # EXTENDED-CTC-FR
            _ram("ExemptionReasonCode"): extended_fr.cii_text("exemption_reason_code"),
        },
    ),
    _ram("BillingSpecifiedPeriod"): _group("period", _PERIOD),
    _ram("SpecifiedTradeAllowanceCharge"): _allowance_charge(_LINE_ALLOWANCE_CHARGE),
    _ram("SpecifiedTradeSettlementLineMonetarySummation"): _through(
        {
            _ram("LineTotalAmount"): _amount("net_amount"),
            _ram("TaxTotalAmount"): extended_fr.cii_line_tax_total,  # EXTENDED-CTC-FR
            _ram("GrandTotalAmount"): extended_fr.cii_line_amount_with_vat,
        }
    ),
    _ram("AdditionalReferencedDocument"): extended_fr.cii_line_document(_line_document),
    _ram("ReceivableSpecifiedTradeAccountingAccount"): _through({_ram("ID"): _text("buyer_accounting_reference")}),
    _ram("InvoiceReferencedDocument"): extended_fr.cii_line_preceding_invoice,
}

_LINE_DOCUMENT = _group(
    "object_identifier", {_ram("IssuerAssignedID"): _text("value"), _ram("TypeCode"): _known, _ram("ReferenceTypeCode"): _text("scheme")}
)

NO_LINE_VAT = "ram:SpecifiedLineTradeSettlement without ram:ApplicableTradeTax"


def _line_settlement(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """A line's settlement, which the binding wants with one VAT information (CII-SR-454)."""
    reader.walk(element, _LINE_SETTLEMENT, target, path)
    if "vat" not in target:
        reader.fact(FactKind.OTHER, element, _join(path, "vat"), detail=NO_LINE_VAT)


_LINE: Table = {
    _ram("AssociatedDocumentLineDocument"): _through(
        {
            _ram("LineID"): _text("identifier"),
            _ram("IncludedNote"): _through({_ram("Content"): _text("note")}),
            # sub-lines (EXTENDED-CTC-FR)
            _ram("ParentLineID"): extended_fr.cii_text("parent_line_identifier"),
            _ram("LineStatusReasonCode"): extended_fr.cii_text("status"),
        }
    ),
    _ram("SpecifiedTradeProduct"): _group("item", _ITEM),
    _ram("SpecifiedLineTradeAgreement"): _through(_LINE_AGREEMENT),
    _ram("SpecifiedLineTradeDelivery"): _through(
        {
            _ram("BilledQuantity"): _quantity("quantity", "quantity_unit_code"),
            _ram("ShipToTradeParty"): extended_fr.cii_line_ship_to,
            _ram("ActualDeliverySupplyChainEvent"): extended_fr.cii_line_delivery_event,
        }
    ),
    _ram("SpecifiedLineTradeSettlement"): _line_settlement,
}

_ADDITIONAL_DOCUMENT: Table = {
    _ram("IssuerAssignedID"): _text("reference"),
    _ram("URIID"): _text("external_location"),
    _ram("TypeCode"): _text("_type"),
    _ram("Name"): _text("description"),
    _ram("AttachmentBinaryObject"): _attachment,
    _ram("ReferenceTypeCode"): _text("_scheme"),
}

_AGREEMENT: Table = {
    _ram("BuyerReference"): _text("buyer_reference"),
    _ram("SellerTradeParty"): _group("seller", _SELLER),
    _ram("BuyerTradeParty"): _group("buyer", _BUYER),
    _ram("SellerTaxRepresentativeTradeParty"): _group("tax_representative", _TAX_REPRESENTATIVE),
    _ram("SellerOrderReferencedDocument"): _through({_ram("IssuerAssignedID"): _text("sales_order_reference")}),
    _ram("BuyerOrderReferencedDocument"): _through({_ram("IssuerAssignedID"): _text("order_reference")}),
    _ram("ContractReferencedDocument"): _through({_ram("IssuerAssignedID"): _text("contract_reference")}),
    _ram("AdditionalReferencedDocument"): extended_fr.cii_object_reference(_additional_document),
    _ram("SpecifiedProcuringProject"): _through({_ram("ID"): _text("project_reference"), _ram("Name"): _known}),
    _ram("SalesAgentTradeParty"): extended_fr.cii_party("seller_agent"),
    _ram("BuyerAgentTradeParty"): extended_fr.cii_party("buyer_agent"),
    _ram("ApplicableTradeDeliveryTerms"): extended_fr.cii_delivery_terms,
}

_DELIVERY: Table = {
    _ram("ShipToTradeParty"): _shared("delivery", _SHIP_TO),
    _ram("ActualDeliverySupplyChainEvent"): _shared("delivery", {_ram("OccurrenceDateTime"): _date("actual_delivery_date")}),
    _ram("DespatchAdviceReferencedDocument"): _through({_ram("IssuerAssignedID"): _text("despatch_advice_reference")}),
    _ram("ReceivingAdviceReferencedDocument"): _through({_ram("IssuerAssignedID"): _text("receiving_advice_reference")}),
}

_MEANS: Table = {
    _ram("TypeCode"): _text("means_type_code"),
    _ram("Information"): _text("means_text"),
    _ram("ApplicableTradeSettlementFinancialCard"): _group(
        "card", {_ram("ID"): _text("primary_account_number"), _ram("CardholderName"): _text("holder_name")}
    ),
    _ram("PayerPartyDebtorFinancialAccount"): _group("_debit", {_ram("IBANID"): _text("debited_account_identifier")}),
    _ram("PayeePartyCreditorFinancialAccount"): _shared(
        "_transfer",
        {
            _ram("IBANID"): _text("account_identifier"),
            _ram("AccountName"): _text("account_name"),
            _ram("ProprietaryID"): _text("account_identifier"),
        },
    ),
    _ram("PayeeSpecifiedCreditorFinancialInstitution"): _shared(
        "_transfer", {_ram("BICID"): _text("service_provider_identifier")}
    ),
}

_VAT_BREAKDOWN: Table = {
    _ram("CalculatedAmount"): _amount("tax_amount"),
    _TYPE_CODE: _tax_type("tax_scheme"),
    _ram("ExemptionReason"): _text("exemption_reason"),
    _ram("BasisAmount"): _amount("taxable_amount"),
    _ram("CategoryCode"): _text("category_code"),
    _ram("ExemptionReasonCode"): _text("exemption_reason_code"),
    _ram("TaxPointDate"): _tax_point_date,
    _ram("DueDateTypeCode"): _vat_point_date_code,
    _ram("RateApplicablePercent"): _percent("rate"),
}

_TAX_TOTAL_AMOUNT = _ram("TaxTotalAmount")


def _monetary_summation(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """BG-22, which the binding allows once: a repeated one is a REPEATED fact and not read.

    Its ram:TaxTotalAmount are still VAT totals for the official rules that count them all
    (BR-CO-15, PEPPOL-EN16931-R053): kept, as written, for the binding field `tax_totals`.
    """
    totals = target.get("totals")
    if totals is None:
        reader.walk(element, _TOTALS, target.setdefault("totals", {}), (path, "totals"))
        return
    reader.repeated(element, path, "totals")
    # The currencyID of each of its ram:TaxTotalAmount is still an ATTRIBUTE fact, for BR-CL-03
    # (one in another, repeated, settlement says so in `detail`).
    same_settlement = any(sibling.tag == element.tag for sibling in element.itersiblings(preceding=True))
    detail = None if same_settlement else OTHER_SETTLEMENT
    for child in element:
        if child.tag == _TAX_TOTAL_AMOUNT:
            text = child.text
            amount = _parse_decimal(text) if text and not text.isspace() else None
            currency = child.get("currencyID")
            reader.further_tax_totals.append((amount, currency, child))
            if currency is not None:
                reader.fact(FactKind.ATTRIBUTE, child, attribute="currencyID", value=currency, detail=detail)


_TOTALS: Table = {
    _ram("LineTotalAmount"): _amount("line_net_amount"),
    _ram("ChargeTotalAmount"): _amount("charge_total_amount"),
    _ram("AllowanceTotalAmount"): _amount("allowance_total_amount"),
    _ram("TaxBasisTotalAmount"): _amount("amount_without_vat"),
    _ram("TaxTotalAmount"): _tax_total,
    _ram("RoundingAmount"): _amount("rounding_amount"),
    _ram("GrandTotalAmount"): _amount("amount_with_vat"),
    _ram("TotalPrepaidAmount"): _amount("paid_amount"),
    _ram("DuePayableAmount"): _amount("amount_due_for_payment"),
}

_TAX_TOTAL_AMOUNT = _ram("TaxTotalAmount")
#: The detail of a currencyID fact of a TaxTotalAmount in a repeated ram:ApplicableHeaderTradeSettlement.
OTHER_SETTLEMENT = "in another ram:ApplicableHeaderTradeSettlement"


_DIRECT_DEBIT = ("payment_instructions", "direct_debit")

_PAYMENT_TERMS: Table = {
    _ram("Description"): _text("payment_terms"),
    _ram("DueDateDateTime"): _date("due_date"),
    _ram("DirectDebitMandateID"): _within(_DIRECT_DEBIT, _text("mandate_reference")),
}

_SETTLEMENT: Table = {
    _ram("CreditorReferenceID"): _within(_DIRECT_DEBIT, _text("creditor_identifier")),
    _ram("PaymentReference"): _within(("payment_instructions",), _text("remittance_information")),
    _ram("TaxCurrencyCode"): _text("vat_accounting_currency_code"),
    _ram("InvoiceCurrencyCode"): _text("currency_code"),
    _ram("TaxApplicableTradeCurrencyExchange"): extended_fr.cii_tax_currency_exchange,  # EXTENDED-CTC-FR
    _ram("PayeeTradeParty"): _group("payee", _PAYEE),
    _ram("SpecifiedTradeSettlementPaymentMeans"): _within(("payment_instructions",), _payment_means),
    _ram("ApplicableTradeTax"): _list("vat_breakdown", _VAT_BREAKDOWN),
    _ram("BillingSpecifiedPeriod"): _within(("delivery",), _group("invoicing_period", _PERIOD)),
    _ram("SpecifiedTradeAllowanceCharge"): _allowance_charge(_DOCUMENT_ALLOWANCE_CHARGE),
    _ram("SpecifiedTradePaymentTerms"): _through(_PAYMENT_TERMS),
    _ram("SpecifiedTradeSettlementHeaderMonetarySummation"): _monetary_summation,
    _ram("InvoiceReferencedDocument"): _list(
        "preceding_invoices",
        {
            _ram("IssuerAssignedID"): _text("reference"),
            _ram("FormattedIssueDateTime"): _date("issue_date", QDT_DATE_TIME),
            _ram("TypeCode"): extended_fr.cii_preceding_type,
        },
    ),
    _ram("ReceivableSpecifiedTradeAccountingAccount"): _through({_ram("ID"): _text("buyer_accounting_reference")}),
    _ram("InvoicerTradeParty"): extended_fr.cii_party("invoicer"),
    _ram("InvoiceeTradeParty"): extended_fr.cii_party("invoicee"),
    _ram("PayerTradeParty"): extended_fr.cii_party("payer"),
}

_TRANSACTION: Table = {
    _ram("IncludedSupplyChainTradeLineItem"): _list("lines", _LINE),
    _ram("ApplicableHeaderTradeAgreement"): _through(_AGREEMENT),
    _ram("ApplicableHeaderTradeDelivery"): _through(_DELIVERY),
    _ram("ApplicableHeaderTradeSettlement"): _through(_SETTLEMENT),
}

_DOCUMENT: Table = {
    _ram("ID"): _text("number"),
    _ram("TypeCode"): _text("type_code"),
    _ram("IssueDateTime"): _date("issue_date"),
    _ram("IncludedNote"): _list("notes", {_ram("Content"): _text("text"), _ram("SubjectCode"): _text("subject_code")}),
}

_CONTEXT: Table = {
    _ram("BusinessProcessSpecifiedDocumentContextParameter"): _shared(
        "process_control", {_ram("ID"): _text("business_process_type")}
    ),
    _ram("GuidelineSpecifiedDocumentContextParameter"): _shared(
        "process_control", {_ram("ID"): _text("specification_identifier")}
    ),
}

GUIDELINE_COUNT = "not exactly one ram:GuidelineSpecifiedDocumentContextParameter"
_GUIDELINE = _ram("GuidelineSpecifiedDocumentContextParameter")


def _context(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """rsm:ExchangedDocumentContext, which holds exactly one guideline (CII-SR-009)."""
    reader.walk(element, _CONTEXT, target, path)
    if sum(1 for child in element if child.tag == _GUIDELINE) != 1:
        reader.fact(FactKind.OTHER, element, detail=GUIDELINE_COUNT)


def _document(reader: _Reader, element: etree._Element, target: dict, path: Path) -> None:
    """rsm:ExchangedDocument, whose terms are read from the first one only, as a repeated group's
    are: the official rules judge each ExchangedDocument apart (PEPPOL-EN16931-R002 counts the
    notes of one), so a repeated one is a REPEATED fact, still walked for the facts in it."""
    if not any(sibling.tag == element.tag for sibling in element.itersiblings(preceding=True)):
        reader.walk(element, _DOCUMENT, target, path)
        return
    reader.fact(FactKind.REPEATED, element, detail="only one is allowed; the first is kept")
    reader.walk(element, _DOCUMENT, {}, path)


_ROOT: Table = {
    _rsm("ExchangedDocumentContext"): _context,
    _rsm("ExchangedDocument"): _document,
    _rsm("SupplyChainTradeTransaction"): _through(_TRANSACTION),
}


_TRANSACTION_TAG = _rsm("SupplyChainTradeTransaction")
#: The header parts the official rules take for their context (PEPPOL-EN16931-R003 the agreement,
#: R053 the settlement, …): when one is missing, those rules are not judged.
_HEADER_PARTS = tuple(
    _ram(name) for name in ("ApplicableHeaderTradeAgreement", "ApplicableHeaderTradeDelivery", "ApplicableHeaderTradeSettlement")
)


def _missing_parts(reader: _Reader, root: etree._Element) -> None:
    """MISSING_ELEMENT facts for a missing rsm:SupplyChainTradeTransaction or header part (the
    model cannot tell a missing part from one that holds nothing); a missing transaction
    misses its header parts too."""
    transaction = root.find(_TRANSACTION_TAG)
    missing = [tag for tag in _HEADER_PARTS if transaction is None or transaction.find(tag) is None]
    if transaction is None:
        missing.insert(0, _TRANSACTION_TAG)
    for tag in missing:
        name = qname(tag)
        path = name if tag == _TRANSACTION_TAG else f"{qname(_TRANSACTION_TAG)}/{name}"
        parent = root if transaction is None else transaction
        reader.facts.append(
            {"kind": FactKind.MISSING_ELEMENT, "path": path, "line": parent.sourceline, "field": None, "detail": "required by the syntax"}
        )


def _place_tax_totals(reader: _Reader) -> None:
    """BT-110 has the invoice currency, BT-111 the VAT accounting currency (BT-6)."""
    invoice = reader.invoice
    currency = invoice.get("currency_code")
    vat_currency = invoice.get("vat_accounting_currency_code")
    for value, currency_id, element, path in reader.tax_totals:
        totals = invoice["totals"]
        accounting = vat_currency is not None and currency_id == vat_currency
        if accounting and currency_id == currency:
            accounting = "vat_amount" in totals
        key = "vat_amount_in_accounting_currency" if accounting else "vat_amount"
        if currency_id is None:
            reader.fact(FactKind.MISSING_ATTRIBUTE, element, _join(path, key), attribute="currencyID")
        else:
            reader.fact(FactKind.ATTRIBUTE, element, _join(path, key), attribute="currencyID", value=currency_id)
        if key in totals:
            reader.repeated(element, path, key)
        elif value is not None:
            totals[key] = value


def _tax_totals_as_written(reader: _Reader) -> list[dict]:
    """Binding: every ram:TaxTotalAmount, a repeated summation's too, with the position of its
    ram:ApplicableHeaderTradeSettlement (1 the first met): the artefacts judge each settlement."""
    settlements: dict[etree._Element, int] = {}
    found = [(value, currency, element) for value, currency, element, _ in reader.tax_totals] + reader.further_tax_totals
    out = []
    for value, currency, element in found:
        summation = element.getparent()
        settlement = summation.getparent() if summation is not None else None
        position = settlements.setdefault(settlement, len(settlements) + 1) if settlement is not None else 1
        out.append({"amount": value, "currency_id": currency, "settlement": position})
    return out


def read_cii(root: etree._Element, source: str | None = None, *, size: int | None = None) -> Invoice:
    """Read a parsed `rsm:CrossIndustryInvoice` into the model; never raises on business data."""
    if root.tag != ROOT_TAG:
        raise InvoiceReadError(
            f"unknown root element <{root.tag}>: expected CII rsm:CrossIndustryInvoice",
            source=source,
            line=root.sourceline,
            kind="unknown_root",
        )
    reader = _Reader()
    invoice = reader.invoice
    reader.walk(root, _ROOT, invoice, "")
    reader.attributes(root)
    _missing_parts(reader, root)
    if reader.tax_totals:
        _place_tax_totals(reader)
    invoice["tax_totals"] = _tax_totals_as_written(reader)
    _untyped_taxes(invoice)
    invoice["provenance"] = {"syntax": "cii", "root": "CrossIndustryInvoice", "source": source, "size": size}
    invoice["syntax_facts"] = reader.facts
    return Invoice.model_validate(invoice)
