"""Reading the terms only the French EXTENDED-CTC-FR profile carries (agents, invoicer, invoicee,
payer, line references to earlier invoices, line delivery places), for UBL and CII.

EN 16931 does not use these elements, and the EN 16931 syntax rules (UBL-CR-*, CII-SR-*) judge
them by the syntax facts the readers record for elements they do not know. So every handler here
first records exactly those facts (as the readers' own "unknown element" path would), then reads
the element into the model's EXTENDED-CTC-FR fields (`invoice.py`, marked `extended()`).

Cost on an ordinary invoice: none. The handlers are entries of the readers' tables, reached only
when such an element is there; the UBL header parties are looked for only when the reader has
already recorded one of their elements as unused.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from aiguillage.model.cii_common import ram
from aiguillage.model.facts import FactKind
from aiguillage.model.ubl_common import clark
from aiguillage.model.ubl_dispatch import (
    OTHER,
    REPEATED,
    UNUSED,
    Entry,
    Reader,
    parse_date,
    unknown,
)

# ============================================================================ shared


def _identifier(el: Any) -> dict[str, Any]:
    """An identifier element as the model's Identifier: its text (kept as written) and schemeID."""
    return {"value": el.text or "", "scheme": el.get("schemeID")}


def _first(el: Any, *tags: str) -> Any:
    """The first element at the end of a path of child tags, or None."""
    for tag in tags:
        if el is None:
            return None
        el = el.find(tag)
    return el


def _texts(el: Any, tags: dict[str, str]) -> dict[str, Any]:
    """The text of each child tag that is there (empty text as ""), under its model key."""
    found: dict[str, Any] = {}
    for key, tag in tags.items():
        child = el.find(tag)
        if child is not None:
            found[key] = child.text or ""
    return found


def _decimal(text: str | None) -> str | None:
    """An amount as written, when it is a number (else None: the term stays missing)."""
    if text is None:
        return None
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return None
    return text.strip()


def _seller(name: Any, legal: Any, country: Any) -> dict[str, Any]:
    """A line's vendor (ItemSeller): name, legal identifier, country code, when written."""
    seller: dict[str, Any] = {}
    if name is not None:
        seller["name"] = name.text or ""
    if legal is not None:
        seller["legal_registration_identifier"] = _identifier(legal)
    if country is not None:
        seller["country_code"] = country.text or ""
    return seller


def _party(identifiers: list[Any], legal: Any, address: Any) -> dict[str, Any]:
    party: dict[str, Any] = {"identifiers": [_identifier(i) for i in identifiers]}
    if legal is not None:
        party["legal_registration_identifier"] = _identifier(legal)
    if address is not None:
        party["electronic_address"] = _identifier(address)
    return party


# ============================================================================ UBL

_UBL_ID = clark("cbc:ID")
_UBL_PARTY_ID = clark("cac:PartyIdentification")
_UBL_LEGAL = clark("cac:PartyLegalEntity")
_UBL_COMPANY = clark("cbc:CompanyID")
_UBL_ENDPOINT = clark("cbc:EndpointID")
_UBL_PARTY = clark("cac:Party")


class _At:
    """The element path `ubl_dispatch.unknown` takes from a table (`spec.path`)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def _unused_ubl(el: Any, e: Entry, rd: Reader) -> None:
    """The facts the UBL reader records for an element EN 16931 does not use (`unknown`)."""
    unknown(el, _At(e.path.rpartition("/")[0]), rd)  # type: ignore[arg-type]


def _ubl_party(party: Any) -> dict[str, Any]:
    """A UBL cac:Party-shaped element: PartyIdentification/ID, PartyLegalEntity/CompanyID, EndpointID."""
    ids = [i for p in party.iterfind(_UBL_PARTY_ID) for i in p.iterfind(_UBL_ID)]
    return _party(ids, _first(party, _UBL_LEGAL, _UBL_COMPANY), party.find(_UBL_ENDPOINT))


#: Header places of the profile's parties in UBL: element path as the reader records it -> model key.
_UBL_HEADER_PARTIES = {
    "cac:AccountingSupplierParty/cac:Party/cac:AgentParty": (
        "seller_agent",
        ("cac:AccountingSupplierParty", "cac:Party", "cac:AgentParty"),
    ),
    "cac:AccountingCustomerParty/cac:Party/cac:AgentParty": (
        "buyer_agent",
        ("cac:AccountingCustomerParty", "cac:Party", "cac:AgentParty"),
    ),
    "cac:AccountingSupplierParty/cac:Party/cac:ServiceProviderParty": (
        "invoicer",
        ("cac:AccountingSupplierParty", "cac:Party", "cac:ServiceProviderParty", "cac:Party"),
    ),
    "cac:AccountingCustomerParty/cac:Party/cac:ServiceProviderParty": (
        "invoicee",
        ("cac:AccountingCustomerParty", "cac:Party", "cac:ServiceProviderParty", "cac:Party"),
    ),
    "cac:PaymentMeans/cac:PaymentMandate/cac:PayerParty": (
        "payer",
        ("cac:PaymentMeans", "cac:PaymentMandate", "cac:PayerParty"),
    ),
}
_UBL_PAYEE_ENDPOINT = "cac:PayeeParty/cbc:EndpointID"
#: Identifiers EN 16931 allows once, which UBL (and EXTENDED-CTC-FR) allows several times.
_UBL_REPEATED_IDS = {
    "cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID": (
        "buyer",
        ("cac:AccountingCustomerParty", "cac:Party"),
    ),
    "cac:PayeeParty/cac:PartyIdentification/cbc:ID": ("payee", ("cac:PayeeParty",)),
}


def read_ubl_header(root: Any, data: dict[str, Any], rd: Reader) -> None:
    """The profile's header parties and the payee's electronic address, when the reader met them.

    The reader has recorded each such element as unused (UNUSED_ELEMENT with its path), and a
    second buyer or payee identifier as repeated, so a look at the facts decides whether there is
    anything to read; most invoices have none.
    """
    wanted: set[str] = set()
    repeated: set[str] = set()
    for f in rd.facts:  # one pass; on most invoices only currencyID facts (ATTRIBUTE)
        kind = f[0]
        if kind is UNUSED:
            if f[4] is None and (f[1] in _UBL_HEADER_PARTIES or f[1] == _UBL_PAYEE_ENDPOINT):
                wanted.add(f[1])
        elif kind is REPEATED and f[1] in _UBL_REPEATED_IDS:
            repeated.add(f[1])
    for path in repeated:
        key, tags = _UBL_REPEATED_IDS[path]
        party, group = _first(root, *(clark(t) for t in tags)), data.get(key)
        if party is not None and group is not None:
            ids = [
                i
                for p in party.iterfind(_UBL_PARTY_ID)
                for i in p.iterfind(_UBL_ID)
                if (i.get("schemeID") or "").strip().upper() != "SEPA"
            ]
            group["additional_identifiers"] = [_identifier(i) for i in ids[1:]]
    if not wanted:
        return
    for path in wanted & _UBL_HEADER_PARTIES.keys():
        key, tags = _UBL_HEADER_PARTIES[path]
        party = _first(root, *(clark(t) for t in tags))
        if party is not None:
            data[key] = _ubl_party(party)
    if _UBL_PAYEE_ENDPOINT in wanted:
        endpoint = _first(root, clark("cac:PayeeParty"), _UBL_ENDPOINT)
        payee = data.get("payee")
        if endpoint is not None and payee is not None:
            payee["electronic_address"] = _identifier(endpoint)


def ubl_preceding_type(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BillingReference/InvoiceDocumentReference/DocumentTypeCode: the type of the earlier invoice (EXT-FR-FE-02)."""
    _unused_ubl(el, e, rd)
    if "type_code" not in target:
        target["type_code"] = el.text or ""


#: A line's earlier invoice: model key -> child of cac:InvoiceDocumentReference.
_UBL_PRECEDING = {"reference": _UBL_ID, "type_code": clark("cbc:DocumentTypeCode")}


def _invoice_number(line: Any) -> str | None:
    """The number (cbc:ID) of the document a UBL line is in, as written."""
    root = line.getparent()
    number = None if root is None else root.find(_UBL_ID)
    return None if number is None else number.text


def ubl_line_billing_reference(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A line's cac:BillingReference: the earlier invoice it refers to (EXT-FR-FE-136 … 138),
    or, when it refers to the invoice itself, the line's sub-type (DocumentStatusCode,
    EXT-FR-FE-163) and parent line (BillingReferenceLine/cbc:ID, EXT-FR-FE-162), which is how
    EXTENDED-CTC-FR writes sub-lines in UBL. Either way it is kept in `preceding_invoices`, as the
    artefact's rules on a line's billing references (BR-FR-04_EXT-FR-FE-137) read them all."""
    _unused_ubl(el, e, rd)
    ref = el.find(clark("cac:InvoiceDocumentReference"))
    if ref is None:
        return
    number = ref.find(_UBL_ID)
    if (
        number is not None
        and number.text is not None
        and number.text == _invoice_number(el.getparent())
    ):
        target.setdefault("self_reference", number.text)
        status = ref.find(clark("cbc:DocumentStatusCode"))
        if status is not None and "status" not in target:
            target["status"] = status.text or ""
        parent = _first(el, clark("cac:BillingReferenceLine"), _UBL_ID)
        if parent is not None and "parent_line_identifier" not in target:
            target["parent_line_identifier"] = parent.text or ""
    entry = _texts(ref, _UBL_PRECEDING)
    issued = ref.find(clark("cbc:IssueDate"))
    if issued is not None and issued.text:
        entry["issue_date"] = parse_date(issued.text)
    target.setdefault("preceding_invoices", []).append(entry)


def ubl_line_delivery(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A line's cac:Delivery: delivery place (EXT-FR-FE-146) and date (EXT-FR-FE-158)."""
    _unused_ubl(el, e, rd)
    delivery: dict[str, Any] = target.setdefault("delivery", {})
    day = el.find(clark("cbc:ActualDeliveryDate"))
    if day is not None and day.text and "actual_delivery_date" not in delivery:
        delivery["actual_delivery_date"] = parse_date(day.text)
    location = el.find(clark("cac:DeliveryLocation"))
    if location is not None:
        delivery.setdefault("location_identifiers", []).extend(
            _identifier(i) for i in location.iterfind(_UBL_ID)
        )
    legal = _first(el, clark("cac:DeliveryParty"), _UBL_LEGAL, _UBL_COMPANY)
    if legal is not None:
        delivery["legal_registration_identifier"] = _identifier(legal)


def ubl_attribute_code(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """AdditionalItemProperty/NameCode: the property as a code (EXT-FR-FE-159)."""
    _unused_ubl(el, e, rd)
    target.setdefault("name_code", el.text or "")


def ubl_item_seller(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """cac:Item/cac:ManufacturerParty: the line's vendor (EXT-FR-FE-164, 167, 177)."""
    _unused_ubl(el, e, rd)
    if "seller" not in target:
        target["seller"] = _seller(
            _first(el, _UBL_LEGAL, clark("cbc:RegistrationName")),
            _first(el, _UBL_LEGAL, _UBL_COMPANY),
            _first(
                el,
                clark("cac:PostalAddress"),
                clark("cac:Country"),
                clark("cbc:IdentificationCode"),
            ),
        )


def ubl_line_tax_total(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A line's cac:TaxTotal/cbc:TaxAmount, one per currency (EXT-FR-FE-181, 182)."""
    _unused_ubl(el, e, rd)
    for amount in el.iterfind(clark("cbc:TaxAmount")):
        value = _decimal(amount.text)
        if value is not None:
            target.setdefault("vat_totals", []).append(
                {"amount": value, "currency_code": amount.get("currencyID")}
            )


def ubl_line_amount_with_vat(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """cbc:TaxInclusiveLineExtensionAmount: the line total with VAT (EXT-FR-FE-184)."""
    _unused_ubl(el, e, rd)
    value = _decimal(el.text)
    if value is not None:
        target.setdefault("amount_with_vat", value)


def ubl_line_document(read: Any) -> Any:
    """A line's cac:DocumentReference, read by the UBL reader's own handler (`read`: BT-128,
    the first with type 130), and every one kept in `document_references` (EXTENDED-CTC-FR
    gives a line several: the sub-invoice number, scheme AFL, and the vendor's framework, AVV)."""

    def handle(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
        read(el, e, tmp, target, rd)
        ident = el.find(_UBL_ID)
        entry: dict[str, Any] = (
            {}
            if ident is None
            else {"reference": ident.text or "", "scheme": ident.get("schemeID")}
        )
        entry.update(_texts(el, {"type_code": clark("cbc:DocumentTypeCode")}))
        issued = el.find(clark("cbc:IssueDate"))
        if issued is not None and issued.text:
            entry["issue_date"] = parse_date(issued.text)
        target.setdefault("document_references", []).append(entry)

    return handle


def ubl_exemption(key: str) -> Any:
    """A VAT category's cbc:TaxExemptionReason(Code) on a line or an allowance or charge, read
    into `key` (EXTENDED-CTC-FR: one VAT breakdown per exemption reason)."""

    def handle(el: Any, e: Entry, target: dict, rd: Reader) -> None:
        _unused_ubl(el, e, rd)
        target.setdefault(key, el.text or "")

    return handle


#: OTHER fact on a delivery terms element that holds more than EXTENDED-CTC-FR allows (INCOTERMS).
DETAIL_NOT_INCOTERMS = "more than INCOTERMS: only a code and a location name (EXTENDED-CTC-FR)"
#: OTHER fact on the INCOTERMS code (UBL cbc:ID, CII ram:DeliveryTypeCode), value = the code as
#: written: EN 16931 has no term for it, BR-FREXT-CL-27 judges it.
DETAIL_INCOTERMS_CODE = "INCOTERMS code (EXTENDED-CTC-FR)"

_UBL_INCOTERMS = frozenset({_UBL_ID, clark("cac:DeliveryLocation")})
_UBL_LOCATION_NAME = clark("cbc:Name")


def ubl_delivery_terms(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """cac:DeliveryTerms (document or line): EXTENDED-CTC-FR allows the INCOTERMS code (cbc:ID)
    and the location's name; anything more is an OTHER fact the profile's UBL-FREXT-CR-410 and
    645 judge (EN 16931's UBL-CR-410 and 645 judge the element itself, as before). The code is a
    fact of its own."""
    _unused_ubl(el, e, rd)
    for code in el.iterfind(_UBL_ID):
        rd.fact(
            OTHER,
            f"{e.path}/cbc:ID",
            code.sourceline,
            None,
            None,
            code.text or "",
            DETAIL_INCOTERMS_CODE,
        )
    for child in el:
        if not isinstance(child.tag, str):
            continue
        extra = child.tag not in _UBL_INCOTERMS or any(
            isinstance(g.tag, str) and g.tag != _UBL_LOCATION_NAME
            for g in child
            if child.tag != _UBL_ID
        )
        if extra:
            rd.fact(OTHER, e.path, el.sourceline, None, None, None, DETAIL_NOT_INCOTERMS)
            return


def charge_reason_list_id(charge: Any, code_tag: str, target: dict) -> None:
    """A charge's binding field `reason_code_list_id` (both syntaxes): the listID of its first
    reason code (`code_tag`), by which EXTENDED-CTC-FR tells UNTDID 7161 from 5153."""
    code = charge.find(code_tag)
    if code is not None and code.get("listID") is not None:
        target["reason_code_list_id"] = code.get("listID")


#: OTHER fact on a tax currency exchange (UBL cac:TaxExchangeRate, CII
#: ram:TaxApplicableTradeCurrencyExchange) with a child beyond the currencies, the rate and its
#: date: the profile's CII-FREXT-CR-490 (UBL) and CII-FREXT-SR-366 (CII) judge it.
DETAIL_EXCHANGE_MORE = "more than the currencies, rate and date of an exchange (EXTENDED-CTC-FR)"
_UBL_EXCHANGE = frozenset({"SourceCurrencyCode", "TargetCurrencyCode", "CalculationRate", "Date"})
_CII_EXCHANGE = frozenset({"SourceCurrencyCode", "TargetCurrencyCode", "ConversionRate", "ConversionRateDateTime"})


def _beyond(element: Any, allowed: frozenset[str]) -> bool:
    """Whether an element has a child of another local name (the artefacts test local-name())."""
    return any(isinstance(c.tag, str) and etree.QName(c).localname not in allowed for c in element)


def ubl_tax_exchange_rate(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """cac:TaxExchangeRate: unused by EN 16931 (UBL-CR-490), allowed by EXTENDED-CTC-FR with
    only its currencies, rate and date (anything more: a DETAIL_EXCHANGE_MORE fact)."""
    _unused_ubl(el, e, rd)
    if _beyond(el, _UBL_EXCHANGE):
        rd.fact(OTHER, e.path, el.sourceline, None, None, None, DETAIL_EXCHANGE_MORE)


# ============================================================================ CII

_CII_GLOBAL_ID = ram("GlobalID")
_CII_LEGAL_ID = (ram("SpecifiedLegalOrganization"), ram("ID"))
_CII_ADDRESS = (ram("URIUniversalCommunication"), ram("URIID"))


def _cii_party(party: Any) -> dict[str, Any]:
    """A CII trade party: GlobalID (ram:ID carries no scheme), legal organisation ID, URI address."""
    return _party(
        list(party.iterfind(_CII_GLOBAL_ID)),
        _first(party, *_CII_LEGAL_ID),
        _first(party, *_CII_ADDRESS),
    )


def cii_party(key: str) -> Any:
    """A CII reader handler: one of the profile's parties, read into `key` of the invoice."""

    def handle(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
        reader.unused(element)
        if key not in target:
            target[key] = _cii_party(element)

    return handle


def cii_payee_address(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """PayeeTradeParty/URIUniversalCommunication: the payee's electronic address (EXT-FR-FE-29)."""
    reader.unused(element)
    uri = element.find(ram("URIID"))
    if uri is not None and "electronic_address" not in target:
        target["electronic_address"] = _identifier(uri)


def cii_preceding_type(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """InvoiceReferencedDocument/TypeCode: the type of the earlier invoice (EXT-FR-FE-02)."""
    reader.unused(element)
    target.setdefault("type_code", element.text or "")


def _cii_date(container: Any) -> Any:
    """The date of a CII date container (udt or qdt DateTimeString, format 102): the first
    child written as eight digits, read by the CII reader's own date parser."""
    from aiguillage.model.cii_reader import _parse_date  # cii_reader imports this module

    for child in container:
        text = child.text
        if text and len(text.strip()) == 8 and text.strip().isdigit():
            return _parse_date(text)
    return None


#: A line's earlier invoice: model key -> child of ram:InvoiceReferencedDocument.
_CII_PRECEDING = {"reference": ram("IssuerAssignedID"), "type_code": ram("TypeCode")}


def cii_line_preceding_invoice(
    reader: Any, element: etree._Element, target: dict, path: Any
) -> None:
    """A line's InvoiceReferencedDocument: the earlier invoice it refers to (EXT-FR-FE-136 … 138)."""
    reader.unused(element)
    entry = _texts(element, _CII_PRECEDING)
    issued = element.find(ram("FormattedIssueDateTime"))
    if issued is not None:
        entry["issue_date"] = _cii_date(issued)
    target.setdefault("preceding_invoices", []).append(entry)


def cii_line_ship_to(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """A line's ShipToTradeParty: the delivery place (EXT-FR-FE-146) and its SIREN."""
    reader.unused(element)
    delivery: dict[str, Any] = target.setdefault("delivery", {})
    delivery.setdefault("location_identifiers", []).extend(
        _identifier(i) for i in element.iterfind(_CII_GLOBAL_ID)
    )
    legal = _first(element, *_CII_LEGAL_ID)
    if legal is not None:
        delivery["legal_registration_identifier"] = _identifier(legal)


def cii_line_delivery_event(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """A line's ActualDeliverySupplyChainEvent: the delivery date (EXT-FR-FE-158)."""
    reader.unused(element)
    when = element.find(ram("OccurrenceDateTime"))
    if when is not None:
        day = _cii_date(when)
        if day is not None:
            target.setdefault("delivery", {}).setdefault("actual_delivery_date", day)


def cii_attribute_code(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """ApplicableProductCharacteristic/TypeCode: the property as a code (EXT-FR-FE-159)."""
    reader.unused(element)
    target.setdefault("name_code", element.text or "")


def cii_repeatable(key: str, read: Any) -> Any:
    """A CII identifier handler that also keeps the repetitions EN 16931 refuses.

    `read` is the reader's own handler for the first one (it records the repetition as a fact);
    the next ones go to `additional_identifiers` (or `additional_<key>s`).
    """
    more = "additional_identifiers" if key == "identifier" else f"additional_{key}s"

    def handle(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
        again = key in target
        read(reader, element, target, path)
        if again:
            target.setdefault(more, []).append(_identifier(element))

    return handle


def cii_object_reference(read: Any) -> Any:
    """Header AdditionalReferencedDocument: a second BT-18 (type 130) goes to `additional_object_identifiers`."""

    def handle(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
        again = "invoiced_object_identifier" in target
        read(reader, element, target, path)
        if again and (element.findtext(ram("TypeCode")) or "").strip() == "130":
            number = element.find(ram("IssuerAssignedID"))
            reference = {
                "value": None if number is None else number.text or "",
                "scheme": element.findtext(ram("ReferenceTypeCode")),
            }
            target.setdefault("additional_object_identifiers", []).append(reference)

    return handle


def cii_text(key: str) -> Any:
    """An element EN 16931 does not use, whose text is a profile term `key`: a line's
    ram:LineStatusReasonCode (EXT-FR-FE-163) or ram:ParentLineID (EXT-FR-FE-162), the
    ram:ExemptionReason(Code) of a line's, an allowance's or a charge's VAT category."""

    def handle(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
        reader.unused(element)
        target.setdefault(key, element.text or "")

    return handle


def cii_item_seller(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """ram:ItemSellerTradeParty: the line's vendor (EXT-FR-FE-164, 167, 177), kept with the item."""
    reader.unused(element)
    item = target.setdefault("item", {})
    if "seller" not in item:
        item["seller"] = _seller(
            element.find(ram("Name")),
            _first(element, *_CII_LEGAL_ID),
            _first(element, ram("PostalTradeAddress"), ram("CountryID")),
        )


def cii_line_tax_total(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """A line's ram:TaxTotalAmount, one per currency (EXT-FR-FE-181, 182)."""
    reader.unused(element)
    value = _decimal(element.text)
    if value is not None:
        target.setdefault("vat_totals", []).append(
            {"amount": value, "currency_code": element.get("currencyID")}
        )


def cii_line_amount_with_vat(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """A line's ram:GrandTotalAmount: the line total with VAT (EXT-FR-FE-184)."""
    reader.unused(element)
    value = _decimal(element.text)
    if value is not None:
        target.setdefault("amount_with_vat", value)


def cii_line_document(read: Any) -> Any:
    """A line's ram:AdditionalReferencedDocument, read by the CII reader's own handler (`read`:
    BT-128), and every one kept in `document_references` (see `ubl_line_document`)."""

    def handle(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
        read(reader, element, target, path)
        entry = _texts(
            element,
            {
                "reference": ram("IssuerAssignedID"),
                "scheme": ram("ReferenceTypeCode"),
                "type_code": ram("TypeCode"),
            },
        )
        target.setdefault("document_references", []).append(entry)

    return handle


_CII_INCOTERMS = frozenset({ram("DeliveryTypeCode"), ram("RelevantTradeLocation")})
_CII_LOCATION_NAME = ram("Name")


def cii_delivery_terms(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """ram:ApplicableTradeDeliveryTerms (document or line): as `ubl_delivery_terms`, for
    CII-FREXT-SR-293 and CII-FREXT-SR-106 (the code is ram:DeliveryTypeCode)."""
    reader.unused(element)
    for code in element.iterfind(ram("DeliveryTypeCode")):
        reader.fact(FactKind.OTHER, code, value=code.text or "", detail=DETAIL_INCOTERMS_CODE)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in _CII_INCOTERMS or any(
            isinstance(g.tag, str) and g.tag != _CII_LOCATION_NAME
            for g in child
            if child.tag != ram("DeliveryTypeCode")
        ):
            reader.fact(FactKind.OTHER, element, detail=DETAIL_NOT_INCOTERMS)
            return


def cii_tax_currency_exchange(reader: Any, element: etree._Element, target: dict, path: Any) -> None:
    """ram:TaxApplicableTradeCurrencyExchange: as `ubl_tax_exchange_rate` (CII-SR-366 in EN 16931)."""
    reader.unused(element)
    if _beyond(element, _CII_EXCHANGE):
        reader.fact(FactKind.OTHER, element, detail=DETAIL_EXCHANGE_MORE)


__all__ = [
    "DETAIL_EXCHANGE_MORE",
    "DETAIL_INCOTERMS_CODE",
    "charge_reason_list_id",
    "DETAIL_NOT_INCOTERMS",
    "cii_item_seller",
    "cii_line_amount_with_vat",
    "cii_line_document",
    "cii_line_tax_total",
    "cii_tax_currency_exchange",
    "cii_text",
    "ubl_exemption",
    "ubl_item_seller",
    "ubl_line_amount_with_vat",
    "ubl_line_document",
    "ubl_line_tax_total",
    "cii_attribute_code",
    "cii_delivery_terms",
    "cii_line_delivery_event",
    "cii_line_preceding_invoice",
    "cii_line_ship_to",
    "cii_object_reference",
    "cii_repeatable",
    "cii_party",
    "cii_payee_address",
    "cii_preceding_type",
    "read_ubl_header",
    "ubl_attribute_code",
    "ubl_delivery_terms",
    "ubl_tax_exchange_rate",
    "ubl_line_billing_reference",
    "ubl_line_delivery",
    "ubl_preceding_type",
]
