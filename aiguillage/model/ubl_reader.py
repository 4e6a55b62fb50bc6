"""Read a UBL 2.1 Invoice or CreditNote into the EN 16931 model, in one pass over the tree.

How it is fast: each UBL context (the seller's party, an address, a line, …)
is a table from child tag to an entry (kind, model key, element path, model
field), compiled once at import into a Python function (`ubl_dispatch`): one
dict lookup per child, leaves handled inline, no XPath, no `find()`. Values go
into plain dicts and lists keyed by model field names, and pydantic validates
the whole tree once at the end. Tables are instantiated per position, so every
entry knows its element path and model field for the facts below. The
EN 16931 binding itself is the table section of this module (`_document`).

Syntax facts recorded (`facts.SyntaxFact`; `path` is the element path from the
root, prefixes cbc:/cac:/ext:, e.g. `cac:AccountingSupplierParty/cac:Party/
cac:PartyTaxScheme/cbc:CompanyID`; `line` is the element's source line):

* ATTRIBUTE, attribute="currencyID", value=the code: on every amount
  (BR-CL-03, PEPPOL-EN16931-R051/CL007). `field` is the model field; the
  detail is DETAIL_TAX_TOTAL_ALONE on the TaxAmount of a cac:TaxTotal without
  cac:TaxSubtotal (also on its MISSING_ATTRIBUTE fact).
* MISSING_ATTRIBUTE: an amount without currencyID, also one EN 16931 does not
  use there (BR-CL-03, PEPPOL-EN16931-R051/CL007 judge every amount); an
  attachment (BT-125) without mimeCode or filename (UBL-DT-06, UBL-DT-07).
* UNUSED_ELEMENT: an element EN 16931 does not use at that place (all UBL-CR-*
  rules: test `path` against the rule's path), and each of its attributes,
  its subtree skipped; also, with
  `attribute` and `value`, an attribute not used at that place (schemeID,
  listID, schemeName, languageID, … : UBL-CR-648…679, UBL-DT-08…28); a VAT
  category or buyer tax scheme whose cac:TaxScheme/cbc:ID is not VAT (value =
  the category code, detail says why; a category with no tax scheme at all
  is still read as a VAT category); a line cac:DocumentReference whose
  DocumentTypeCode is not 130, and the schemeID of one without a
  DocumentTypeCode (kept out of BT-128: BR-CL-07 judges it only with 130);
  cac:Attachment or cbc:DocumentDescription in an
  AdditionalDocumentReference of type 130 (UBL-CR-666, UBL-CR-673). A reason
  code in a price allowance whose ChargeIndicator is false has value = the
  code and detail DETAIL_PRICE_REASON (BR-CL-19 judges it).
* REPEATED, `field` = model path, `detail` one of the DETAIL_* constants below:
  an element occurring again where the binding allows one (UBL-SR-01…56:
  e.g. SR-12 is a REPEATED fact at `…/cac:PartyTaxScheme/cbc:CompanyID` with
  field `seller.vat_identifier`); values that differ between several
  cac:PaymentMeans (SR-44, SR-47); a second PaymentDueDate, PaymentMeansCode
  @name, CardAccount or PaymentMandate anywhere (SR-45, 46, 54, 55);
  cac:PartyTaxScheme beyond two (SR-42); a second SEPA creditor id (SR-29);
  a DescriptionCode in a further root cac:InvoicePeriod when an earlier one had one
  (SR-49, value = the code; the first code found, in whichever period, is BT-8);
  a second cac:TaxTotal in one currency or subtotals in two cac:TaxTotal
  (PEPPOL-EN16931-R053/R054).
* INVALID_VALUE, value = the text: a date that is not YYYY-MM-DD or not a day
  of the calendar, a number that is not an xs:decimal (the model field stays
  None); a ChargeIndicator other than true/false (PEPPOL-EN16931-R043; the
  detail is DETAIL_INDICATOR_LONE when the allowance or charge has a
  percentage or a base amount without the other, which R043 leaves to
  R041/R042); a price allowance whose ChargeIndicator is not false (R044); UBLVersionID
  other than 2.1 (UBL-CR-002); an AdditionalDocumentReference type code
  other than 130 (or 50 in a credit note) (UBL-SR-43). A percentage or base
  amount that is not a number, in an allowance or charge without the other
  element, has detail DETAIL_LONE_NUMBER (PEPPOL-EN16931-R041/R042).
* EMPTY_ELEMENT: an element with neither text nor children (PEPPOL R008);
  an empty text term reads as "" (present, as Schematron's exists() sees it).
  An unused leaf whose name ends in Date and is not a date also gets an
  INVALID_VALUE fact (PEPPOL-EN16931-F001 on fragments).
* OTHER, `detail` says what is missing: a cac:PartyTaxScheme without
  cbc:CompanyID or cac:TaxScheme/cbc:ID (UBL-SR-53; the CompanyID is then not
  mapped), an AllowanceCharge without cbc:ChargeIndicator (read as allowance;
  in a price: PEPPOL-EN16931-R044),
  a line cac:DocumentReference without cbc:DocumentTypeCode. Elements the
  official rules judge wherever they stand, also where EN 16931 does not use
  them (`ubl_dispatch.judged_wherever`): a cac:PaymentMeans without
  cbc:PaymentMeansCode (BR-49), a cac:AdditionalDocumentReference without a
  cbc:ID that is not blank (BR-52), a cac:BillingReference without
  cac:InvoiceDocumentReference/cbc:ID outside BG-3 (BR-55, UBL-SR-07); and,
  inside an unused element, an identifier with a schemeID that Peppol's
  PEPPOL-COMMON-R040…R050 judge (value = the identifier, beside the schemeID's
  unused-element fact at the same path and line).

Binding fields (`terms.binding`) of a line: `object_reference_type_code`, the
type code of its cac:DocumentReference when none says 130 (PEPPOL-EN16931-R101).

Binding terms (`terms.binding`, not business terms) for what the UBL artefact
judges as grouped in the XML: `tax_totals`, each cac:TaxTotal with its TaxAmount,
currencyID and its own subtotals' tax amounts (BR-CO-14, PEPPOL-EN16931-R054/R055);
in a VAT breakdown, `repeated_categories` (a cac:TaxCategory given again in the
subtotal: BR-O-01, UBL-SR-32) and `other_tax_category_code` (the code of a
category of another tax scheme: BR-S-01).

Decided from the model itself: UBL-DT-01 and BR-DEC-* (amounts keep their
digits, `Decimal.as_tuple().exponent`), UBL-SR-07, UBL-SR-48, SR-19…21's name
condition. Nothing is recorded for a valid invoice except the currencyID
facts. tests/test_ubl.py checks, against the official XSLT, that these facts
decide every UBL-CR, UBL-DT and UBL-SR rule the way the XSLT does.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter

from aiguillage.model import extended_fr
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.facts import SyntaxFact
from aiguillage.model.invoice import Invoice, InvoiceLine
from aiguillage.model.ubl_common import CREDIT_NOTE_TAG, INVOICE_TAG, clark, prefixed
from aiguillage.model.ubl_dispatch import (
    ATTRIBUTE,
    DETAIL_NO_DOCUMENT_ID,
    DETAIL_NO_MEANS_CODE,
    DETAIL_ONE,
    EMPTY,
    INVALID,
    MISSING,
    NOT_A_DATE,
    NOT_A_NUMBER,
    OTHER,
    REPEATED,
    UNUSED,
    Entry,
    Reader,
    Spec,
    T,
    amount_attributes,
    attributes,
    blank,
    empty,
    judged_wherever,
    make,
    parse_date,
    parse_decimal,
    walk,
)
from aiguillage.model.xmlsafe import iterparse_xml

#: REPEATED: more than one in the whole document (SEPA id, PaymentDueDate, card, mandate, @name).
DETAIL_DOCUMENT = "more than one in the document"
#: REPEATED: a later cac:PaymentMeans says something else than the first (SR-44, SR-47).
DETAIL_DIFFERS = "differs from the first cac:PaymentMeans"
#: REPEATED: more than two cac:PartyTaxScheme in the seller's party (SR-42).
DETAIL_TWO = "more than two"
#: REPEATED: a second cac:TaxTotal in the same currency.
DETAIL_TAX_TOTAL = "more than one cac:TaxTotal in this currency"
#: ATTRIBUTE (currencyID) of the TaxAmount of a cac:TaxTotal without cac:TaxSubtotal.
DETAIL_TAX_TOTAL_ALONE = "cac:TaxTotal without cac:TaxSubtotal"
#: REPEATED: cac:TaxSubtotal in more than one cac:TaxTotal.
DETAIL_SUBTOTALS = "cac:TaxSubtotal in more than one cac:TaxTotal"
#: UNUSED_ELEMENT on a tax category or party tax scheme whose scheme is not VAT.
DETAIL_NOT_VAT = "cac:TaxScheme/cbc:ID is not VAT"
#: OTHER (party tax scheme) or UNUSED_ELEMENT (tax category) without a tax scheme.
DETAIL_NO_SCHEME = "missing cac:TaxScheme/cbc:ID"
#: INVALID_VALUE: a ChargeIndicator other than true or false.
DETAIL_INDICATOR = "expected true or false"
#: INVALID_VALUE: the same, in an allowance or charge with a percentage or a base amount but not both.
DETAIL_INDICATOR_LONE = "expected true or false (percentage or base amount without the other)"
#: INVALID_VALUE: a percentage or base amount that is not a number, the other element being absent (R041, R042).
DETAIL_LONE_NUMBER = "not an xs:decimal (percentage or base amount without the other)"
#: OTHER: an allowance or charge without ChargeIndicator (read as an allowance).
DETAIL_NO_INDICATOR = "missing cbc:ChargeIndicator"
#: OTHER: the same, with a percentage or a base amount but not both.
DETAIL_NO_INDICATOR_LONE = "missing cbc:ChargeIndicator (percentage or base amount without the other)"
#: UNUSED_ELEMENT (value = the code) of a reason code in a price allowance whose indicator is false (BR-CL-19).
DETAIL_PRICE_REASON = "reason code of a price allowance (ChargeIndicator false)"
#: OTHER: a line cac:DocumentReference without cbc:DocumentTypeCode (PEPPOL-EN16931-R101).
DETAIL_NO_TYPE = "missing cbc:DocumentTypeCode"
#: UNUSED_ELEMENT (attribute schemeID) of a line cac:DocumentReference without cbc:DocumentTypeCode.
DETAIL_TYPELESS = "no cbc:DocumentTypeCode 130"

__all__ = ["DETAIL_ONE", "read_ubl", "read_ubl_bytes"]


# --------------------------------------------------------------------------- small leaf handlers (kind "call")


def _text_value(el: Any, e: Entry, rd: Reader) -> str | None:
    """The text of a leaf, recording unused attributes and emptiness."""
    if el.keys():
        attributes(el, e, rd)
    text = el.text
    if text is None or text.isspace():
        # Present but empty: kept as "" (Schematron's exists() is true for it);
        # the fact lets syntax rules such as PEPPOL-EN16931-R008 judge emptiness.
        empty(el, e, rd)
        return text or ""
    return text


def _set(el: Any, e: Entry, target: dict, rd: Reader, value: Any) -> None:
    """Store a value, or record a REPEATED fact if the key is already there."""
    if e.key in target:
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, el.text, DETAIL_ONE)
    else:
        target[e.key] = value


def _identifier(el: Any, e: Entry, rd: Reader, scheme: str = "schemeID", version: str | None = None) -> dict:
    """An `Identifier` dict from a leaf; the scheme attribute is schemeID, or listID for BT-158."""
    out: dict[str, Any] = {}
    for name, value in el.items():
        if name == scheme:
            out["scheme"] = value
        elif name == version:
            out["scheme_version"] = value
        elif name[:1] != "{":
            rd.fact(UNUSED, e.path, el.sourceline, e.field, name, value)
    text = el.text
    if text is None or text.isspace():
        empty(el, e, rd)
    # Present but empty is kept as "" (as leaves and the dispatch `ident` kind do).
    out["value"] = text or ""
    return out


def _h_period_date(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BT-73/74, BT-134/135: the date, or what the official rules see instead: an empty
    cbc:StartDate (cbc:EndDate) in the binding `<key>_blank`, a text that is no date in
    `<key>_text` (model/invoice.py, `InvoicingPeriod`)."""
    if el.keys():
        attributes(el, e, rd)
    text = el.text
    key = e.key
    if text is None or text.isspace():
        empty(el, e, rd)
        value: Any = prefixed(el.tag)
        key = f"{key}_blank"
    else:
        value = parse_date(text)
        if value is None:
            rd.fact(INVALID, e.path, el.sourceline, e.field, None, text, NOT_A_DATE)
            value = text
            key = f"{key}_text"
    if e.key in target or f"{e.key}_text" in target or f"{e.key}_blank" in target:
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, el.text, DETAIL_ONE)
    else:
        target[key] = value


def _period_date(key: str) -> T:
    return _call(_h_period_date, key)


def _h_classification(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BT-158: appended to the item's list; listID and listVersionID are scheme and version."""
    target.setdefault(e.key, []).append(_identifier(el, e, rd, "listID", "listVersionID"))


def _h_binary(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BT-125: the base64 text kept as is, with mimeCode and filename (UBL-DT-06, UBL-DT-07)."""
    out: dict[str, Any] = {}
    for name, value in el.items():
        if name == "mimeCode":
            out["mime_code"] = value
        elif name == "filename":
            out["filename"] = value
        elif name[:1] != "{":
            rd.fact(UNUSED, e.path, el.sourceline, e.field, name, value)
    for attribute, key in (("mimeCode", "mime_code"), ("filename", "filename")):
        if key not in out:
            rd.fact(MISSING, e.path, el.sourceline, e.field, attribute)
    text = el.text
    if text is None or text.isspace():
        empty(el, e, rd)
    else:
        out["content"] = text
    _set(el, e, target, rd, out)


def _h_collect(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """Keep every occurrence of the element; the parent's handler judges repeats and values."""
    target.setdefault(e.key, []).append(el)


def _h_ignore(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A leaf UBL requires but EN 16931 has no term for (CardAccount/NetworkID)."""
    _text_value(el, e, rd)


def _h_version(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """UBLVersionID may only say 2.1 (UBL-CR-002)."""
    text = _text_value(el, e, rd)
    if text is not None and text.strip() != "2.1":
        rd.fact(INVALID, e.path, el.sourceline, None, None, text, "expected 2.1")


def _h_text_in(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A text leaf of a sub-group of the target (CustomizationID -> process_control)."""
    sub = target.get(e.extra)
    if sub is None:
        sub = target[e.extra] = {}
    _set(el, e, sub, rd, _text_value(el, e, rd))


def _h_note(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BG-1: `#AAI#text` carries the subject code (BT-21) in front of the text (BT-22)."""
    text = _text_value(el, e, rd)
    note: dict[str, Any] = {}
    if text is not None:
        if text[:1] == "#" and len(text) >= 5 and text[4] == "#" and "#" not in text[1:4]:
            note["subject_code"] = text[1:4]
            text = text[5:] or None
        note["text"] = text
    target.setdefault(e.key, []).append(note)


def _indicator(el: Any, e: Entry, rd: Reader) -> bool | None:
    """An xs:boolean ChargeIndicator; anything but true/false is an INVALID_VALUE fact (R043)."""
    text = _text_value(el, e, rd)
    if text is None:
        return None
    value = text.strip()
    if value == "true":
        return True
    if value == "false":
        return False
    rd.fact(INVALID, e.path, el.sourceline, None, None, text, DETAIL_INDICATOR)
    return {"1": True, "0": False}.get(value)


def _h_indicator(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    if e.key not in target:  # the first indicator's text, for the `charge_indicator` binding
        target["_indicator_text"] = el.text or ""
    _set(el, e, target, rd, _indicator(el, e, rd))


_CHARGE_INDICATOR = clark("cbc:ChargeIndicator")


def _h_price_allowance(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BG-29's discount and gross price, read into the price; without ChargeIndicator an OTHER fact (R044).

    The indicator as written, when not exactly false, is the `discount_charge_indicator` binding.
    """
    mark = len(rd.facts)
    if not walk(el, e.spec, target, rd):
        empty(el, e, rd)
    for child in el:
        if child.tag == _CHARGE_INDICATOR:
            if (child.text or "").strip() in ("false", "0"):
                _price_reason_codes(el, rd, mark)
            if child.text != "false":
                target.setdefault("discount_charge_indicator", child.text or "")
            return
    target.setdefault("discount_charge_indicator", "")
    rd.fact(OTHER, e.path, el.sourceline, e.field, None, None, DETAIL_NO_INDICATOR)


_REASON_CODE = clark("cbc:AllowanceChargeReasonCode")


def _price_reason_codes(el: Any, rd: Reader, mark: int) -> None:
    """The unused-element fact of a reason code in a price allowance whose ChargeIndicator is
    false (as xs:boolean) gets the code as value and DETAIL_PRICE_REASON: the official BR-CL-19
    judges the code of every cac:AllowanceCharge[cbc:ChargeIndicator = false()], this one too."""
    facts = rd.facts
    if not any(facts[i][0] is UNUSED for i in range(mark, len(facts))):
        return
    lines = {child.sourceline: child.text or "" for child in el if child.tag == _REASON_CODE}
    for i in range(mark, len(facts)):
        fact = facts[i]
        if fact[0] is UNUSED and fact[4] is None and fact[2] in lines and fact[1].endswith("/cbc:AllowanceChargeReasonCode"):
            facts[i] = (*fact[:5], lines[fact[2]], DETAIL_PRICE_REASON)


def _h_price_indicator(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A price allowance (BT-147) must say false (PEPPOL-EN16931-R044)."""
    if _indicator(el, e, rd) is True:
        rd.fact(INVALID, e.path, el.sourceline, None, None, el.text, "a price allowance must say false")


def _h_unused_group(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """An unused element whose children UBL-CR rules also name (cac:FinancialInstitution)."""
    rd.fact(UNUSED, e.path, el.sourceline)
    walk(el, e.spec, {}, rd)


# --------------------------------------------------------------------------- group handlers (kinds "scratch", "call", hooks)


#: Lines are turned into models by batches of this many, so that a large
#: invoice never holds all its lines as dicts and as models at once.
_LINE_BATCH = 512
_LINES = TypeAdapter(list[InvoiceLine])


def _after_line(el: Any, line: dict, document: dict, rd: Reader) -> None:
    """Each line read: validate a full batch of lines (memory), forget the line's DocumentReference."""
    rd.docref_line = 0
    lines = document["lines"]
    if len(lines) - rd.lines_validated >= _LINE_BATCH:
        start = rd.lines_validated
        lines[start:] = _LINES.validate_python(lines[start:])
        rd.lines_validated = len(lines)


def _after_item(el: Any, item: dict, line: dict, rd: Reader) -> None:
    """BG-30 is read inside cac:Item but belongs to the line."""
    vat = item.pop("vat", None)
    if vat is not None:
        line["vat"] = vat


def _h_category(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """A VAT category (TaxCategory, ClassifiedTaxCategory): when cac:TaxScheme/cbc:ID is VAT or missing.

    `e.extra` None merges the category's fields into the target; a key puts
    them in a dict under that key (a line's `vat`). A category of another tax
    scheme is not a VAT category in EN 16931: an UNUSED_ELEMENT fact with the
    category code as value, and nothing mapped in a VAT breakdown; a line or a
    document allowance or charge keeps it, as the CII reader does, since the
    official sums by category (BR-S-08, ...) count them by their code. A category without a tax
    scheme gets the same fact (detail DETAIL_NO_SCHEME) but is still read:
    the sums and the code-list rules (BR-CL-17, BR-CL-18) count it. A scheme
    other than exactly "VAT" (" vat ", "FR", or none: "") is kept in the
    category's `tax_scheme` (`vat_tax_scheme` of an allowance or charge), for
    the rules that read a category only under TaxScheme VAT (BR-CO-04, BR-S-01, ...).

    In a VAT breakdown, the code of a category of another scheme is kept apart
    (`other_tax_category_code`), and a category given again in the same
    cac:TaxSubtotal is kept in `repeated_categories` (with the REPEATED fact):
    binding fields, for the official rules that count every cac:TaxCategory.
    """
    scheme = tmp.pop("_scheme", None)
    subtotal = e.path == _SUBTOTAL_CATEGORY
    if scheme != "VAT":
        if scheme is None or scheme.strip().upper() != "VAT":
            code = tmp.get("category_code", tmp.get("vat_category_code"))
            rd.fact(UNUSED, e.path, el.sourceline, e.field, None, code, DETAIL_NO_SCHEME if scheme is None else DETAIL_NOT_VAT)
            if scheme is not None and e.extra is None and not e.path.endswith("AllowanceCharge/cac:TaxCategory"):
                if subtotal and code is not None and "other_tax_category_code" not in target:
                    target["other_tax_category_code"] = code
                return
        # The scheme as written ("" when none): the rules judge where the binding asks for VAT.
        tmp["vat_tax_scheme" if e.path.endswith("AllowanceCharge/cac:TaxCategory") else "tax_scheme"] = scheme or ""
    if e.extra is not None:
        if e.extra in target:
            rd.fact(REPEATED, e.path, el.sourceline, e.field, None, None, DETAIL_ONE)
        else:
            target[e.extra] = tmp
        return
    for key in tmp:
        if key in target:
            rd.fact(REPEATED, e.path, el.sourceline, e.field, None, None, DETAIL_ONE)
            if subtotal:
                again = {k: tmp[k] for k in _REPEATED_CATEGORY_KEYS if k in tmp}
                target.setdefault("repeated_categories", []).append(again)
            return
    target.update(tmp)


#: The VAT breakdown's category, and what a repeated one keeps (`RepeatedTaxCategory`).
_SUBTOTAL_CATEGORY = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
_REPEATED_CATEGORY_KEYS = ("category_code", "exemption_reason", "tax_scheme")


def _h_party_identification(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """Seller or payee id: schemeID SEPA is the creditor id (BT-90), others BT-29 / BT-60."""
    id_el = tmp.get("_id")
    if id_el is None:
        return
    id_entry = e.spec[id_el.tag]
    ident = _identifier(id_el, id_entry, rd)
    scheme = ident.get("scheme")
    if scheme is not None and scheme.strip().upper() == "SEPA":
        if rd.sepa:
            rd.fact(REPEATED, id_entry.path, id_el.sourceline, "payment_instructions.direct_debit.creditor_identifier", None, ident.get("value"), DETAIL_DOCUMENT)
        rd.sepa.append(ident.get("value"))
    elif e.extra == "identifiers":
        target.setdefault("identifiers", []).append(ident)
    elif "identifier" in target:
        rd.fact(REPEATED, id_entry.path, id_el.sourceline, id_entry.field, None, ident.get("value"), DETAIL_ONE)
    else:
        target["identifier"] = ident


def _h_party_tax_scheme(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """Seller: VAT -> BT-31, other -> BT-32; buyer VAT -> BT-48; representative VAT -> BT-63."""
    role = e.extra
    if role == "seller":
        _count_seller_schemes(el, e, target, rd)
    company_el = tmp.get("_company")
    scheme = tmp.get("_scheme")
    company = None
    if company_el is None:
        rd.fact(OTHER, e.path, el.sourceline, e.field, None, None, "missing cbc:CompanyID")
    else:
        company = _text_value(company_el, e.spec[company_el.tag], rd)
    if scheme is None:
        rd.fact(OTHER, e.path, el.sourceline, e.field, None, company, DETAIL_NO_SCHEME)
        return
    is_vat = scheme.strip().upper() == "VAT"
    if not is_vat and role != "seller":
        rd.fact(UNUSED, e.path, el.sourceline, e.field, None, company, DETAIL_NOT_VAT)
        return
    if company_el is None:
        return
    key = "vat_identifier" if is_vat else "tax_registration_identifier"
    _name_company_repeats(el, rd, e.field, key)
    if key in target:
        rd.fact(REPEATED, e.spec[company_el.tag].path, company_el.sourceline, f"{e.field}.{key}", None, company, DETAIL_ONE)
    else:
        target[key] = company


def _name_company_repeats(el: Any, rd: Reader, field: str, key: str) -> None:
    """A cbc:CompanyID repeated inside one cac:PartyTaxScheme was recorded before its scheme was
    known: give its REPEATED fact the term's field (UBL-SR-12 / UBL-SR-13 count the CompanyIDs
    of the VAT / of the other schemes)."""
    placeholder = f"{field}._company"
    facts = rd.facts
    first = el.sourceline or 0
    for i in range(len(facts) - 1, -1, -1):
        fact = facts[i]
        if (fact[2] or 0) < first:
            break
        if fact[0] is REPEATED and fact[3] == placeholder:
            facts[i] = (*fact[:3], f"{field}.{key}", *fact[4:])


def _count_seller_schemes(el: Any, e: Entry, party: dict, rd: Reader) -> None:
    """UBL-SR-42: at most two cac:PartyTaxScheme in the seller's party."""
    if rd.pts_party != id(party):
        rd.pts_party, rd.pts_count = id(party), 0
    rd.pts_count += 1
    if rd.pts_count > 2:
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, None, DETAIL_TWO)


def _h_invoice_period(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """Root cac:InvoicePeriod: dates are BG-14 (under delivery), DescriptionCode is BT-8."""
    if rd.period_seen:
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, None, DETAIL_ONE)
        if "_code" in tmp:
            if "vat_point_date_code" in target:  # UBL-SR-49 counts codes across periods
                rd.fact(REPEATED, f"{e.path}/cbc:DescriptionCode", el.sourceline, "vat_point_date_code", None, tmp["_code"], DETAIL_ONE)
            else:  # the document's first cbc:DescriptionCode, which the official rules judge wherever it is
                target["vat_point_date_code"] = tmp["_code"]
        return
    rd.period_seen = True
    period = tmp
    has_code = "_code" in period
    code = period.pop("_code", None)
    if has_code:
        target["vat_point_date_code"] = code
    if period or not has_code:
        rd.period = period


_NOT_IN_OBJECT_REFERENCE = frozenset({clark("cbc:DocumentDescription"), clark("cac:Attachment")})


def _h_additional_document(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """Type 130 is BT-18, type 50 in a credit note BT-11, anything else a supporting document (BG-24)."""
    type_code = tmp.pop("_type", None)
    id_el = tmp.pop("_id", None)
    if judged_wherever(el) is not None:  # BR-52, whatever the type code
        rd.fact(OTHER, e.path, el.sourceline, e.field, None, None, DETAIL_NO_DOCUMENT_ID)
    code = type_code.strip() if type_code else None
    ident = _identifier(id_el, e.spec[id_el.tag], rd) if id_el is not None else {}
    if code == "130" or (code == "50" and rd.credit_note):
        for child in el:  # UBL-CR-666, UBL-CR-673
            if child.tag in _NOT_IN_OBJECT_REFERENCE:
                rd.fact(UNUSED, e.spec[child.tag].path, child.sourceline, e.field)
        key, value = ("invoiced_object_identifier", ident) if code == "130" else ("project_reference", ident.get("value"))
        if key in target:  # UBL-SR-04, PEPPOL-EN16931-R080
            rd.fact(REPEATED, f"{e.path}/cbc:ID", el.sourceline, key, None, ident.get("value"), DETAIL_ONE)
        else:
            target[key] = value
        return
    if code is not None:  # UBL-SR-43
        rd.fact(INVALID, f"{e.path}/cbc:DocumentTypeCode", el.sourceline, e.field, None, type_code, "expected 130, or 50 in a credit note, or none")
    if "scheme" in ident:  # UBL-CR-665
        rd.fact(UNUSED, f"{e.path}/cbc:ID", id_el.sourceline, e.field, "schemeID", ident["scheme"])
    if "value" in ident:
        tmp["reference"] = ident["value"]
    target.setdefault("supporting_documents", []).append(tmp)


def _h_line_document(el: Any, e: Entry, tmp: dict, target: dict, rd: Reader) -> None:
    """BT-128: a line cac:DocumentReference with type code 130 (or none); at most one (UBL-SR-52)."""
    if rd.docref_line == id(target):
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, None, DETAIL_ONE)
    rd.docref_line = id(target)
    type_code = tmp.get("_type")
    _note_reference_type(target, type_code)
    if type_code is None:  # PEPPOL-EN16931-R101
        rd.fact(OTHER, e.path, el.sourceline, e.field, None, None, DETAIL_NO_TYPE)
    elif type_code.strip() != "130":
        rd.fact(UNUSED, e.path, el.sourceline, e.field, None, type_code, "cbc:DocumentTypeCode is not 130")
        id_el = tmp.get("_id")
        if id_el is not None:  # not read, but an empty one is still an empty element (PEPPOL-EN16931-R008)
            empty(id_el, e.spec[id_el.tag], rd)
        return
    id_el = tmp.get("_id")
    if "object_identifier" not in target:
        ident = _identifier(id_el, e.spec[id_el.tag], rd) if id_el is not None else {}
        if type_code is None and "scheme" in ident:  # the scheme is BT-128-1 only with type code 130 (BR-CL-07)
            rd.fact(UNUSED, f"{e.path}/cbc:ID", id_el.sourceline, e.field, "schemeID", ident.pop("scheme"), DETAIL_TYPELESS)
        target["object_identifier"] = ident


def _note_reference_type(line: dict, type_code: str | None) -> None:
    """The binding field `object_reference_type_code`: None once a reference says exactly 130,
    else the first reference's code as written ("" without one); the official R101 asks for
    some reference of type 130 whatever the others say."""
    if type_code == "130":
        line["object_reference_type_code"] = None
    elif "object_reference_type_code" not in line:
        line["object_reference_type_code"] = type_code or ""


def _h_allowance_charge(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """BG-20/21 or BG-27/28: the ChargeIndicator picks the list.

    Facts inside are recorded with the allowance field (`e.field`) and renamed
    to the charge field (`e.extra`) when the indicator says charge. Without an
    indicator it is read as an allowance, with an OTHER fact. The indicator as
    written is kept in `charge_indicator` when it is not exactly what the list
    says ("" when there is none): the rules say how each official rule reads it.
    """
    mark = len(rd.facts)
    tmp: dict[str, Any] = {}
    if not walk(el, e.spec, tmp, rd):
        empty(el, e, rd)
    lone = ("percentage" in tmp) != ("base_amount" in tmp)
    _lone_unreadable(el, rd, mark)
    if "_charge" not in tmp:
        rd.fact(OTHER, e.path, el.sourceline, e.field, None, None, DETAIL_NO_INDICATOR_LONE if lone else DETAIL_NO_INDICATOR)
    elif lone:
        _lone_indicator(rd, mark)
    written = tmp.pop("_indicator_text", "")
    if tmp.pop("_charge", None):
        key = "charges"
        _rename_fields(rd, mark, e.field, e.extra)
        extended_fr.charge_reason_list_id(el, _REASON_CODE, tmp)
    else:
        key = "allowances"
    if written != ("true" if key == "charges" else "false"):
        tmp["charge_indicator"] = written
    _note_repeated_amount(el, tmp)
    target.setdefault(key, []).append(tmp)


_AMOUNT = clark("cbc:Amount")


def _note_repeated_amount(el: Any, target: dict) -> None:
    """The binding field `repeated_amount`: the official sums (`sum(cac:AllowanceCharge[…]/cbc:Amount)`)
    add every cbc:Amount of an allowance or charge, the model keeps the first (with a REPEATED fact).
    Only when each repeat is a number: otherwise the artefact stops on the cast."""
    amounts = [child.text or "" for child in el if child.tag == _AMOUNT]
    if len(amounts) < 2:
        return
    repeats = [parse_decimal(text) for text in amounts[1:]]
    if all(value is not None for value in repeats):
        target["repeated_amount"] = sum(repeats, Decimal(0))


_PERCENTAGE = clark("cbc:MultiplierFactorNumeric")
_BASE_AMOUNT = clark("cbc:BaseAmount")


def _lone_unreadable(el: Any, rd: Reader, mark: int) -> None:
    """A percentage or base amount that is not a number, in an allowance or charge that has the
    one element and not the other: its INVALID_VALUE fact gets DETAIL_LONE_NUMBER. The model has
    no value, while PEPPOL-EN16931-R041/R042 look at the elements (`[cbc:BaseAmount and
    not(cbc:MultiplierFactorNumeric)]`)."""
    facts = rd.facts
    unreadable = [
        i
        for i in range(mark, len(facts))
        if facts[i][0] is INVALID and facts[i][6] == NOT_A_NUMBER and (facts[i][3] or "").endswith(("].percentage", "].base_amount"))
    ]
    if not unreadable:
        return
    tags = {child.tag for child in el}
    if (_PERCENTAGE in tags) != (_BASE_AMOUNT in tags):
        for i in unreadable:
            facts[i] = (*facts[i][:6], DETAIL_LONE_NUMBER)


def _lone_indicator(rd: Reader, mark: int) -> None:
    """A wrong ChargeIndicator in an allowance or charge with a percentage or a base amount alone.

    The detail says so: Peppol reports such an allowance or charge for the lone
    percentage or base amount (PEPPOL-EN16931-R041/R042) and does not judge its
    indicator (R043).
    """
    facts = rd.facts
    for i in range(mark, len(facts)):
        fact = facts[i]
        if fact[0] is INVALID and fact[6] == DETAIL_INDICATOR:
            facts[i] = (*fact[:6], DETAIL_INDICATOR_LONE)


def _rename_fields(rd: Reader, mark: int, old: str, new: str) -> None:
    facts = rd.facts
    for i in range(mark, len(facts)):
        fact = facts[i]
        if fact[3] is not None and fact[3].startswith(old):
            facts[i] = (*fact[:3], new + fact[3][len(old):], *fact[4:])


def _h_tax_total(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """Collected, and resolved by `_resolve_tax_totals` once BT-5 and BT-6 are known."""
    mark = len(rd.facts)
    tmp: dict[str, Any] = {}
    if not walk(el, e.spec, tmp, rd):
        empty(el, e, rd)
    tmp["_line"] = el.sourceline
    rd.tax_totals.append(tmp)
    if not tmp.get("_subtotals"):
        _mark_alone(rd, mark)


def _mark_alone(rd: Reader, mark: int) -> None:
    """The currencyID facts (or missing-currencyID facts) of the TaxAmount of a cac:TaxTotal without subtotals say so.

    PEPPOL-EN16931-R051 wants the invoice currency on every amount but that one
    (the total VAT in accounting currency, BT-111, has no breakdown in UBL), and
    R054 counts such tax totals.
    """
    facts = rd.facts
    for i in range(mark, len(facts)):
        fact = facts[i]
        if (fact[0] is ATTRIBUTE or fact[0] is MISSING) and fact[4] == "currencyID" and fact[1] == "cac:TaxTotal/cbc:TaxAmount":
            facts[i] = (*fact[:6], DETAIL_TAX_TOTAL_ALONE)


def _h_tax_amount(el: Any, e: Entry, target: dict, rd: Reader) -> None:
    """A cac:TaxTotal's TaxAmount with its currency: BT-110 or BT-111 depending on it."""
    items = el.items()
    currency = amount_attributes(el, e, rd, items)
    text = el.text
    value = None
    if text is None or text.isspace():
        empty(el, e, rd)
    else:
        value = parse_decimal(text)
        if value is None:
            rd.fact(INVALID, e.path, el.sourceline, e.field, None, text, "not an xs:decimal")
    _set(el, e, target, rd, (value, currency, el.sourceline))


def _h_payment_means(el: Any, e: Entry, local: dict, target: dict, rd: Reader) -> None:
    """Several cac:PaymentMeans make one BG-16; each account is one BG-17."""
    pay = rd.payment
    if pay is None:
        pay = rd.payment = {}
    spec = e.spec
    if not local.get("_codes"):  # BR-49 asks each cac:PaymentMeans for its code
        rd.fact(OTHER, e.path, el.sourceline, f"{e.field}.means_type_code", None, None, DETAIL_NO_MEANS_CODE)
    for number, code_el in enumerate(local.get("_codes", ())):
        entry = spec[code_el.tag]
        if number:  # UBL-SR-27
            rd.fact(REPEATED, entry.path, code_el.sourceline, entry.field, None, code_el.text, DETAIL_ONE)
        _merge_means_code(code_el, entry, pay, rd)
    for number, id_el in enumerate(local.get("_payment_ids", ())):
        entry = spec[id_el.tag]
        if number:  # UBL-SR-26
            rd.fact(REPEATED, entry.path, id_el.sourceline, entry.field, None, id_el.text, DETAIL_ONE)
        _merge_differing(pay, "remittance_information", _text_value(id_el, entry, rd), id_el, entry, rd)
    due_el = local.get("_due")
    if due_el is not None:
        _merge_due_date(due_el, spec[due_el.tag], rd)
    account = local.get("_account")
    if account is not None:
        pay.setdefault("credit_transfers", []).append(account)
    for key, tag in (("card", "cac:CardAccount"), ("direct_debit", "cac:PaymentMandate")):
        if key in local:
            if key in pay:  # UBL-SR-54, UBL-SR-55
                rd.fact(REPEATED, f"{e.path}/{tag}", el.sourceline, f"{e.field}.{key}", None, None, DETAIL_DOCUMENT)
            else:
                pay[key] = local[key]


def _merge_means_code(el: Any, e: Entry, pay: dict, rd: Reader) -> None:
    """BT-81 from the code, BT-82 from its @name (at most once in the document: UBL-SR-46)."""
    attributes(el, e, rd, ("name",))
    name = el.get("name")
    if name is not None:
        if "means_text" in pay:
            rd.fact(REPEATED, e.path, el.sourceline, "payment_instructions.means_text", "name", name, DETAIL_DOCUMENT)
        else:
            pay["means_text"] = name
    text = el.text
    if text is None or text.isspace():
        empty(el, e, rd)
        text = text or ""  # present but empty: a code for exists() (BR-49), not one of UNTDID 4461
    _merge_differing(pay, "means_type_code", text, el, e, rd)


def _merge_differing(pay: dict, key: str, value: str | None, el: Any, e: Entry, rd: Reader) -> None:
    """Keep the first value; a later, different one is a REPEATED fact (UBL-SR-44, UBL-SR-47).

    Different as the official rules compare them: the texts as written (" 30" is not
    "30"), an empty element being "".
    """
    if key not in pay:
        pay[key] = value
    elif (value or "") != (pay[key] or ""):
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, value, DETAIL_DIFFERS)


def _merge_due_date(el: Any, e: Entry, rd: Reader) -> None:
    """Credit note BT-9: cac:PaymentMeans/cbc:PaymentDueDate, at most once (UBL-SR-45)."""
    text = _text_value(el, e, rd)
    value = None
    if text is not None:
        value = parse_date(text)
        if value is None:
            rd.fact(INVALID, e.path, el.sourceline, e.field, None, text, NOT_A_DATE)
    if rd.due_date:
        rd.fact(REPEATED, e.path, el.sourceline, e.field, None, text, DETAIL_DOCUMENT)
    else:
        rd.due_date.append(value)


# --------------------------------------------------------------------------- the EN 16931 UBL binding


def _text(key: str, field: str | None = None) -> T:
    return T("text", key, field=field)


def _date(key: str) -> T:
    return T("date", key)


def _num(key: str) -> T:
    return T("decimal", key)


def _amt(key: str) -> T:
    return T("amount", key)


def _qty(key: str, unit_key: str) -> T:
    return T("quantity", key, extra=unit_key)


def _ident(key: str) -> T:
    return T("ident", key)


def _capture(key: str, field: str | None = None) -> T:
    return T("capture", key, field=field)


def _scratch(fn: Callable, kids: dict, extra: Any = None, field: str | None = None) -> T:
    return T("scratch", None, kids, fn=fn, extra=extra, field=field)


def _call(fn: Callable, key: str | None = None, kids: dict | None = None, extra: Any = None, field: str | None = None) -> T:
    return T("call", key, kids, fn=fn, extra=extra, field=field)


def _group(key: str, kids: dict, after: Callable | None = None, field: str | None = None) -> T:
    return T("group", key, kids, extra=after, field=field)


def _list(key: str, kids: dict, field: str | None = None, after: Callable | None = None) -> T:
    return T("list", key, kids, extra=after, field=field)


def _through(kids: dict) -> T:
    return T("through", None, kids)


_TAX_SCHEME = _through({"cbc:ID": _text("_scheme")})

_ADDRESS = {
    "cbc:StreetName": _text("line_one"),
    "cbc:AdditionalStreetName": _text("line_two"),
    "cbc:CityName": _text("city"),
    "cbc:PostalZone": _text("post_code"),
    "cbc:CountrySubentity": _text("country_subdivision"),
    "cac:AddressLine": _through({"cbc:Line": _text("line_three")}),
    "cac:Country": _through({"cbc:IdentificationCode": _text("country_code")}),
}

_CONTACT = {"cbc:Name": _text("point"), "cbc:Telephone": _text("telephone"), "cbc:ElectronicMail": _text("email")}


def _party_tax_scheme(role: str) -> T:
    return _scratch(_h_party_tax_scheme, {"cbc:CompanyID": _capture("_company"), "cac:TaxScheme": _TAX_SCHEME}, extra=role)


def _party_identification(extra: str) -> T:
    return _scratch(_h_party_identification, {"cbc:ID": _capture("_id")}, extra=extra)


_SELLER = {
    "cbc:EndpointID": _ident("electronic_address"),
    "cac:PartyIdentification": _party_identification("identifiers"),
    "cac:PartyName": _through({"cbc:Name": _text("trading_name")}),
    "cac:PostalAddress": _group("postal_address", _ADDRESS),
    "cac:PartyTaxScheme": _party_tax_scheme("seller"),
    "cac:PartyLegalEntity": _through({
        "cbc:RegistrationName": _text("name"),
        "cbc:CompanyID": _ident("legal_registration_identifier"),
        "cbc:CompanyLegalForm": _text("additional_legal_information"),
    }),
    "cac:Contact": _group("contact", _CONTACT),
}

_BUYER = {
    "cbc:EndpointID": _ident("electronic_address"),
    "cac:PartyIdentification": _through({"cbc:ID": _ident("identifier")}),
    "cac:PartyName": _through({"cbc:Name": _text("trading_name")}),
    "cac:PostalAddress": _group("postal_address", _ADDRESS),
    "cac:PartyTaxScheme": _party_tax_scheme("buyer"),
    "cac:PartyLegalEntity": _through({
        "cbc:RegistrationName": _text("name"),
        "cbc:CompanyID": _ident("legal_registration_identifier"),
    }),
    "cac:Contact": _group("contact", _CONTACT),
}

_PAYEE = {
    "cac:PartyIdentification": _party_identification("identifier"),
    "cac:PartyName": _through({"cbc:Name": _text("name")}),
    "cac:PartyLegalEntity": _through({"cbc:CompanyID": _ident("legal_registration_identifier")}),
}

_TAX_REPRESENTATIVE = {
    "cac:PartyName": _through({"cbc:Name": _text("name")}),
    "cac:PostalAddress": _group("postal_address", _ADDRESS),
    "cac:PartyTaxScheme": _party_tax_scheme("representative"),
}

_DELIVERY = {
    "cbc:ActualDeliveryDate": _date("actual_delivery_date"),
    "cac:DeliveryLocation": _through({
        "cbc:ID": _ident("location_identifier"),
        "cac:Address": _group("address", _ADDRESS),
    }),
    "cac:DeliveryParty": _through({"cac:PartyName": _through({"cbc:Name": _text("party_name")})}),
}

_INVOICE_PERIOD = _scratch(
    _h_invoice_period,
    {
        "cbc:StartDate": _period_date("start_date"),
        "cbc:EndDate": _period_date("end_date"),
        "cbc:DescriptionCode": _text("_code", field="vat_point_date_code"),
    },
    field="delivery.invoicing_period",
)

_ADDITIONAL_DOCUMENT = _scratch(
    _h_additional_document,
    {
        "cbc:ID": _capture("_id"),
        "cbc:DocumentTypeCode": _text("_type"),
        "cbc:DocumentDescription": _text("description"),
        "cac:Attachment": _through({
            "cbc:EmbeddedDocumentBinaryObject": _call(_h_binary, "attachment"),
            "cac:ExternalReference": _through({"cbc:URI": _text("external_location")}),
        }),
    },
    field="supporting_documents[]",
)

_PAYMENT_MEANS = {
    "cbc:PaymentMeansCode": _call(_h_collect, "_codes", field="payment_instructions.means_type_code"),
    "cbc:PaymentID": _call(_h_collect, "_payment_ids", field="payment_instructions.remittance_information"),
    "cac:PayeeFinancialAccount": _group("_account", {
        "cbc:ID": _text("account_identifier"),
        "cbc:Name": _text("account_name"),
        "cac:FinancialInstitutionBranch": _through({
            "cbc:ID": _text("service_provider_identifier"),
            "cac:FinancialInstitution": _call(_h_unused_group, kids={}),
        }),
    }, field="payment_instructions.credit_transfers[]"),
    "cac:CardAccount": _group("card", {
        "cbc:PrimaryAccountNumberID": _text("primary_account_number"),
        "cbc:NetworkID": _call(_h_ignore),
        "cbc:HolderName": _text("holder_name"),
    }),
    "cac:PaymentMandate": _group("direct_debit", {
        "cbc:ID": _text("mandate_reference"),
        "cac:PayerFinancialAccount": _through({"cbc:ID": _text("debited_account_identifier")}),
    }),
}

_ALLOWANCE_CHARGE = {
    "cbc:ChargeIndicator": _call(_h_indicator, "_charge"),
    "cbc:AllowanceChargeReasonCode": _text("reason_code"),
    "cbc:AllowanceChargeReason": _text("reason"),
    "cbc:MultiplierFactorNumeric": _num("percentage"),
    "cbc:Amount": _amt("amount"),
    "cbc:BaseAmount": _amt("base_amount"),
}


def _allowance_charge(kids: dict, prefix: str) -> T:
    return _call(_h_allowance_charge, kids=kids, extra=f"{prefix}charges[]", field=f"{prefix}allowances[]")


def _category(kids: dict, extra: str | None = None, field: str | None = None) -> T:
    return _scratch(_h_category, {**kids, "cac:TaxScheme": _TAX_SCHEME}, extra=extra, field=field)


_DOCUMENT_ALLOWANCE_CHARGE = _allowance_charge({
    **_ALLOWANCE_CHARGE,
    "cac:TaxCategory": _category({
        "cbc:ID": _text("vat_category_code"),
        "cbc:Percent": _num("vat_rate"),
        # EXTENDED-CTC-FR (still facts of unused elements for EN 16931; extended_fr.py)
        "cbc:TaxExemptionReason": _call(extended_fr.ubl_exemption("vat_exemption_reason")),
        "cbc:TaxExemptionReasonCode": _call(extended_fr.ubl_exemption("vat_exemption_reason_code")),
    }),
}, "")

_TAX_TOTAL = _call(
    _h_tax_total,
    kids={
        "cbc:TaxAmount": _call(_h_tax_amount, "_amount", field="totals.vat_amount"),
        "cac:TaxSubtotal": _list("_subtotals", {
            "cbc:TaxableAmount": _amt("taxable_amount"),
            "cbc:TaxAmount": _amt("tax_amount"),
            "cac:TaxCategory": _category({
                "cbc:ID": _text("category_code"),
                "cbc:Percent": _num("rate"),
                "cbc:TaxExemptionReasonCode": _text("exemption_reason_code"),
                "cbc:TaxExemptionReason": _text("exemption_reason"),
            }),
        }, field="vat_breakdown[]"),
    },
    field="totals",
)

_TOTALS = _group("totals", {
    "cbc:LineExtensionAmount": _amt("line_net_amount"),
    "cbc:TaxExclusiveAmount": _amt("amount_without_vat"),
    "cbc:TaxInclusiveAmount": _amt("amount_with_vat"),
    "cbc:PayableAmount": _amt("amount_due_for_payment"),
    "cbc:AllowanceTotalAmount": _amt("allowance_total_amount"),
    "cbc:ChargeTotalAmount": _amt("charge_total_amount"),
    "cbc:PrepaidAmount": _amt("paid_amount"),
    "cbc:PayableRoundingAmount": _amt("rounding_amount"),
})

_ITEM = {
    "cbc:Name": _text("name"),
    "cac:ClassifiedTaxCategory": _category({
        "cbc:ID": _text("category_code"),
        "cbc:Percent": _num("rate"),
        # EXTENDED-CTC-FR (still facts of unused elements for EN 16931; extended_fr.py)
        "cbc:TaxExemptionReason": _call(extended_fr.ubl_exemption("exemption_reason")),
        "cbc:TaxExemptionReasonCode": _call(extended_fr.ubl_exemption("exemption_reason_code")),
    }, extra="vat", field="lines[].vat"),
    "cac:SellersItemIdentification": _through({"cbc:ID": _text("sellers_identifier")}),
    "cbc:Description": _text("description"),
    "cac:StandardItemIdentification": _through({"cbc:ID": _ident("standard_identifier")}),
    "cac:BuyersItemIdentification": _through({"cbc:ID": _text("buyers_identifier")}),
    "cac:OriginCountry": _through({"cbc:IdentificationCode": _text("country_of_origin")}),
    "cac:CommodityClassification": _through({"cbc:ItemClassificationCode": _call(_h_classification, "classification_identifiers")}),
    "cac:AdditionalItemProperty": _list("attributes", {"cbc:Name": _text("name"), "cbc:Value": _text("value"), "cbc:NameCode": _call(extended_fr.ubl_attribute_code)}),
    "cac:ManufacturerParty": _call(extended_fr.ubl_item_seller),  # the line's vendor (EXTENDED-CTC-FR)
}

_PRICE = {
    "cbc:PriceAmount": _amt("net_price"),
    "cbc:BaseQuantity": _qty("base_quantity", "base_quantity_unit_code"),
    "cac:AllowanceCharge": _call(_h_price_allowance, kids={
        "cbc:ChargeIndicator": _call(_h_price_indicator),
        "cbc:Amount": _amt("discount"),
        "cbc:BaseAmount": _amt("gross_price"),
    }),
}


def _line(quantity_tag: str) -> T:
    """BG-25, most frequent children first (the generated code tests them in this order)."""
    return _list("lines", {
        "cbc:ID": _text("identifier"),
        quantity_tag: _qty("quantity", "quantity_unit_code"),
        "cbc:LineExtensionAmount": _amt("net_amount"),
        "cac:Item": _group("item", _ITEM, _after_item),
        "cac:Price": _group("price", _PRICE),
        "cbc:Note": _text("note"),
        "cbc:AccountingCost": _text("buyer_accounting_reference"),
        "cac:InvoicePeriod": _group("period", {"cbc:StartDate": _period_date("start_date"), "cbc:EndDate": _period_date("end_date")}),
        "cac:OrderLineReference": _through({"cbc:LineID": _text("order_line_reference")}),
        "cac:DocumentReference": _scratch(extended_fr.ubl_line_document(_h_line_document), {
            "cbc:ID": _capture("_id"),
            "cbc:DocumentTypeCode": _text("_type"),
        }, field="lines[].object_identifier"),
        "cac:AllowanceCharge": _allowance_charge(_ALLOWANCE_CHARGE, "lines[]."),
        # EXTENDED-CTC-FR (still facts of unused elements for EN 16931; extended_fr.py)
        "cac:BillingReference": _call(extended_fr.ubl_line_billing_reference),
        "cac:Delivery": _call(extended_fr.ubl_line_delivery),
        "cac:DeliveryTerms": _call(extended_fr.ubl_delivery_terms),
        "cac:TaxTotal": _call(extended_fr.ubl_line_tax_total),
        "cbc:TaxInclusiveLineExtensionAmount": _call(extended_fr.ubl_line_amount_with_vat),
    }, after=_after_line)


def _document(credit_note: bool) -> Spec:
    """The root table of an Invoice or a CreditNote: the EN 16931 UBL binding (EN 16931-3-2).

    Frequent children first: the generated code tests them in this order.
    """
    means = dict(_PAYMENT_MEANS)
    if credit_note:
        means["cbc:PaymentDueDate"] = _capture("_due", field="due_date")
    kind = "CreditNote" if credit_note else "Invoice"
    kids = {
        f"cac:{kind}Line": _line("cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"),
        # A line of the other kind (cac:InvoiceLine in a CreditNote) is a line too: the official
        # artefact's line rules match cac:InvoiceLine | cac:CreditNoteLine under either root.
        f"cac:{'Invoice' if credit_note else 'CreditNote'}Line": _line("cbc:InvoicedQuantity" if credit_note else "cbc:CreditedQuantity"),
        "cbc:ID": _text("number"),
        "cbc:IssueDate": _date("issue_date"),
        f"cbc:{kind}TypeCode": _text("type_code"),
        "cbc:DocumentCurrencyCode": _text("currency_code"),
        "cac:TaxExchangeRate": _call(extended_fr.ubl_tax_exchange_rate),  # EXTENDED-CTC-FR
        "cbc:CustomizationID": _call(_h_text_in, "specification_identifier", extra="process_control", field="process_control.specification_identifier"),
        "cbc:ProfileID": _call(_h_text_in, "business_process_type", extra="process_control", field="process_control.business_process_type"),
        "cac:AccountingSupplierParty": _through({"cac:Party": _group("seller", _SELLER)}),
        "cac:AccountingCustomerParty": _through({"cac:Party": _group("buyer", _BUYER)}),
        "cac:TaxTotal": _TAX_TOTAL,
        "cac:LegalMonetaryTotal": _TOTALS,
        "cac:PaymentMeans": _scratch(_h_payment_means, means, field="payment_instructions"),
        "cbc:Note": _call(_h_note, "notes", field="notes[]"),
        "cbc:BuyerReference": _text("buyer_reference"),
        "cac:PaymentTerms": _through({"cbc:Note": _text("payment_terms")}),
        "cac:AllowanceCharge": _DOCUMENT_ALLOWANCE_CHARGE,
        "cac:Delivery": _group("delivery", _DELIVERY),
        "cac:OrderReference": _through({"cbc:ID": _text("order_reference"), "cbc:SalesOrderID": _text("sales_order_reference")}),
        "cac:InvoicePeriod": _INVOICE_PERIOD,
        "cac:AdditionalDocumentReference": _ADDITIONAL_DOCUMENT,
        "cac:ContractDocumentReference": _through({"cbc:ID": _text("contract_reference")}),
        "cbc:AccountingCost": _text("buyer_accounting_reference"),
        "cac:BillingReference": _list("preceding_invoices", {
            "cac:InvoiceDocumentReference": _through({
                "cbc:ID": _text("reference"),
                "cbc:IssueDate": _date("issue_date"),
                "cbc:DocumentTypeCode": _call(extended_fr.ubl_preceding_type),
            }),
        }),
        "cbc:TaxCurrencyCode": _text("vat_accounting_currency_code"),
        "cbc:TaxPointDate": _date("vat_point_date"),
        "cac:PayeeParty": _group("payee", _PAYEE),
        "cac:TaxRepresentativeParty": _group("tax_representative", _TAX_REPRESENTATIVE),
        "cac:DespatchDocumentReference": _through({"cbc:ID": _text("despatch_advice_reference")}),
        "cac:ReceiptDocumentReference": _through({"cbc:ID": _text("receiving_advice_reference")}),
        "cac:OriginatorDocumentReference": _through({"cbc:ID": _text("tender_reference")}),
        "cbc:UBLVersionID": _call(_h_version),
        "cac:DeliveryTerms": _call(extended_fr.ubl_delivery_terms),  # INCOTERMS (EXTENDED-CTC-FR)
    }
    if not credit_note:
        kids["cbc:DueDate"] = _date("due_date")
        kids["cac:ProjectReference"] = _through({"cbc:ID": _text("project_reference")})
    return make("", "", kids)


_INVOICE = _document(credit_note=False)
_CREDIT_NOTE = _document(credit_note=True)


# --------------------------------------------------------------------------- finishing


def _finish(data: dict, rd: Reader) -> None:
    """Place what only the whole document decides: tax totals, period, payment, BT-90, BT-9."""
    if rd.period is not None:
        data.setdefault("delivery", {})["invoicing_period"] = rd.period
    if rd.tax_totals:
        _resolve_tax_totals(data, rd)
    pay = rd.payment
    if rd.sepa:
        if pay is None:
            pay = {}
        pay.setdefault("direct_debit", {})["creditor_identifier"] = rd.sepa[0]
    if pay is not None:
        data["payment_instructions"] = pay
    if rd.due_date:
        data["due_date"] = rd.due_date[0]


def _resolve_tax_totals(data: dict, rd: Reader) -> None:
    """BT-110 is the TaxAmount in BT-5, BT-111 the one in BT-6; subtotals are BG-23."""
    bt5 = data.get("currency_code")
    bt6 = data.get("vat_accounting_currency_code")
    taken: set[str] = set()
    breakdown: list[dict] = []
    with_subtotals = 0
    as_written: list[dict] = []
    for total in rd.tax_totals:
        amount = total.get("_amount")
        subtotals = total.get("_subtotals")
        as_written.append({
            "amount": amount[0] if amount is not None else None,
            "currency_id": amount[1] if amount is not None else None,
            "subtotals": [{"tax_amount": sub.get("tax_amount")} for sub in subtotals or ()],
        })
        if amount is not None:
            value, currency, line = amount
            in_bt6 = bt6 is not None and currency == bt6 and (bt6 != bt5 or "vat_amount" in taken)
            key = "vat_amount_in_accounting_currency" if in_bt6 else "vat_amount"
            if key in taken:
                rd.fact(REPEATED, "cac:TaxTotal/cbc:TaxAmount", line, f"totals.{key}", None, None, DETAIL_TAX_TOTAL)
            else:
                taken.add(key)
                data.setdefault("totals", {})[key] = value
        if subtotals:
            with_subtotals += 1
            if with_subtotals > 1:
                rd.fact(REPEATED, "cac:TaxTotal/cac:TaxSubtotal", total["_line"], "vat_breakdown", None, None, DETAIL_SUBTOTALS)
            breakdown.extend(subtotals)
    if breakdown:
        data["vat_breakdown"] = breakdown
    # Binding: each cac:TaxTotal as written, for the rules that judge them one by one.
    data["tax_totals"] = as_written


_new_fact = SyntaxFact.__new__
_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
_FACT_FIELDS = frozenset(SyntaxFact.model_fields)


def _facts(rd: Reader) -> list[SyntaxFact]:
    """Build the fact models from the reader's typed tuples without validating them again.

    What `model_construct` does, through pydantic's slots directly: six times
    faster, and a valid invoice has a fact per amount (its currencyID). The
    tuples already hold the right types (FactKind, str, int); a test checks
    the result equals validated facts.
    """
    out = []
    for kind, path, line, field, attribute, value, detail in rd.facts:
        fact = _new_fact(SyntaxFact)
        _set_dict(fact, {"kind": kind, "path": path, "line": line, "field": field, "attribute": attribute, "value": value, "detail": detail})
        _set_fields_set(fact, _FACT_FIELDS)
        _set_extra(fact, None)
        _set_private(fact, None)
        out.append(fact)
    return out


_ROOTS = {INVOICE_TAG: (False, "Invoice"), CREDIT_NOTE_TAG: (True, "CreditNote")}
_LINE_TAGS = {INVOICE_TAG: clark("cac:InvoiceLine"), CREDIT_NOTE_TAG: clark("cac:CreditNoteLine")}


def _document_kind(root: Any, source: str | None) -> tuple[bool, str]:
    """(is a credit note, root name), or the error for a root that is not UBL."""
    kind = _ROOTS.get(root.tag)
    if kind is None:
        raise InvoiceReadError(
            f"unknown root element <{root.tag}>: expected UBL Invoice or CreditNote",
            source=source,
            line=getattr(root, "sourceline", None),
            kind="unknown_root",
        )
    return kind


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a read builds its objects.

    A read creates only acyclic dicts, lists and models, yet each counts
    toward the collector's thresholds: on a 20,000-line invoice the repeated
    full collections took longer than the read itself.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def read_ubl(root: Any, source: str | None = None, *, size: int | None = None) -> Invoice:
    """Read a parsed UBL 2.1 Invoice or CreditNote root element into an `Invoice`.

    Never raises for missing or wrong business data (rulesets judge that);
    raises `InvoiceReadError` only when the root is not a UBL invoice.
    """
    credit_note, root_name = _document_kind(root, source)
    with _collector_paused():
        rd = Reader(credit_note)
        data: dict[str, Any] = {}
        _read_root(root, data, rd)
        return _build(data, rd, root_name, source, size)


def read_ubl_bytes(data: bytes, source: str | None = None, *, limit: int | None = None) -> Invoice:
    """Read UBL bytes as a stream: each line is read when parsed, then dropped from the tree.

    Same invoice and facts as `read_ubl(parse_xml(data))` (facts in line
    order), but the whole tree never exists at once: for large invoices
    (a 20,000-line, 17 MB invoice peaks at ~160 MB instead of ~260 MB).
    Parsing is as hardened as `parse_xml` (`xmlsafe.iterparse_xml`).
    """
    with _collector_paused():
        rd: Reader | None = None
        doc: dict[str, Any] = {"lines": []}
        table = previous = root = None
        for event, el in iterparse_xml(data, source, limit=limit, tag=tuple(_LINE_TAGS.values())):
            if event == "root":
                root = el
                break
            if rd is None:
                root = el.getroottree().getroot()
                credit_note, root_name = _document_kind(root, source)
                table, rd = (_CREDIT_NOTE if credit_note else _INVOICE), Reader(credit_note)
            if el.getparent() is not root:
                continue  # misplaced: left in the tree, reported by the root's reader
            entry = table[el.tag]  # cac:InvoiceLine or cac:CreditNoteLine, both lines (see _document)
            line_spec, line_after = entry.spec, entry.extra
            line: dict[str, Any] = {}
            doc["lines"].append(line)
            if not line_spec.read(el, line, rd) and blank(el):
                rd.fact(EMPTY, prefixed(el.tag), el.sourceline, "lines[]")
            line_after(el, line, doc, rd)
            el.clear()
            if previous is not None:
                root.remove(previous)
            previous = el
        if previous is not None:
            root.remove(previous)
        credit_note, root_name = _document_kind(root, source)
        if rd is None:
            rd = Reader(credit_note)
        header: dict[str, Any] = {}
        _read_root(root, header, rd, streamed_lines=bool(doc["lines"]))
        if doc["lines"]:
            header["lines"] = doc["lines"]
        rd.facts.sort(key=_fact_line)
        return _build(header, rd, root_name, source, len(data))


def _fact_line(fact: tuple) -> int:
    return fact[2] or 0


def _read_root(root: Any, data: dict, rd: Reader, streamed_lines: bool = False) -> None:
    spec = _CREDIT_NOTE if rd.credit_note else _INVOICE
    if root.keys():
        attributes(root, Entry("call", None, None, prefixed(root.tag), "", None, None), rd)
    if not spec.read(root, data, rd) and not streamed_lines and blank(root):
        rd.fact(EMPTY, prefixed(root.tag), root.sourceline)  # an empty document (PEPPOL-EN16931-R008)
    extended_fr.read_ubl_header(root, data, rd)


def _build(data: dict, rd: Reader, root_name: str, source: str | None, size: int | None) -> Invoice:
    """Finish the document dict and validate it into the model, once."""
    _finish(data, rd)
    data["provenance"] = {"syntax": "ubl", "root": root_name, "source": source, "size": size}
    if rd.facts:
        data["syntax_facts"] = _facts(rd)  # instances: pydantic takes them as they are
    return Invoice.model_validate(data)
