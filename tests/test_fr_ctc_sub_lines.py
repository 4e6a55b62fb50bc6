"""The sub-line rules (multi-vendor and bidirectional frameworks: fr-ctc/sub-lines.rules, and
fr-ctc-extended's BR-FREXT-05 … 12 and VAT sums per exemption reason) against the official XSLTs,
on variants of the multi-vendor sample (samples/fr/fr-multivendor-sub-lines-B8-*).

Each variant changes the XML (the writers do not write these terms), in UBL and in CII; the
official fatal and _WARNING BR-FR XSLTs and fr-ctc / fr-ctc-transition must fire the same BR-FR
ids with the same flags, and the EXTENDED-CTC-FR XSLT and fr-ctc-extended the same ids of the
profile's own rules (and of the EN 16931 rules it disables).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fr_oracle import br_fr_xslt, failed_asserts
from lxml import etree
from test_fr_ctc_extended_terms import NS, assert_official_verdicts

REPO = Path(__file__).resolve().parents[1]
SAMPLES = {
    "ubl": REPO / "samples" / "fr" / "fr-multivendor-sub-lines-B8-ubl.xml",
    "cii": REPO / "samples" / "fr" / "fr-multivendor-sub-lines-B8-cii.xml",
}
_TX = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"


def _line(syntax: str, n: int) -> str:
    return (
        f"/*/cac:InvoiceLine[{n}]"
        if syntax == "ubl"
        else f"{_TX}/ram:IncludedSupplyChainTradeLineItem[{n}]"
    )


#: Where each sub-line term is in a line, per syntax.
AT = {
    "status": (
        "cac:BillingReference/cac:InvoiceDocumentReference/cbc:DocumentStatusCode",
        "ram:AssociatedDocumentLineDocument/ram:LineStatusReasonCode",
    ),
    "parent": (
        "cac:BillingReference/cac:BillingReferenceLine/cbc:ID",
        "ram:AssociatedDocumentLineDocument/ram:ParentLineID",
    ),
    "net": (
        "cbc:LineExtensionAmount",
        "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    ),
    "vendor name": (
        "cac:Item/cac:ManufacturerParty/cac:PartyLegalEntity/cbc:RegistrationName",
        "ram:SpecifiedLineTradeAgreement/ram:ItemSellerTradeParty/ram:Name",
    ),
    "vendor id": (
        "cac:Item/cac:ManufacturerParty/cac:PartyLegalEntity/cbc:CompanyID",
        "ram:SpecifiedLineTradeAgreement/ram:ItemSellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID",
    ),
    "vendor country": (
        "cac:Item/cac:ManufacturerParty/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
        "ram:SpecifiedLineTradeAgreement/ram:ItemSellerTradeParty/ram:PostalTradeAddress/ram:CountryID",
    ),
    "vat": (
        "cac:TaxTotal/cbc:TaxAmount",
        "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:TaxTotalAmount",
    ),
    "afl": (
        "cac:DocumentReference/cbc:ID[@schemeID='AFL']",
        "ram:SpecifiedLineTradeSettlement/ram:AdditionalReferencedDocument[ram:ReferenceTypeCode='AFL']/ram:IssuerAssignedID",
    ),
    "avv": (
        "cac:DocumentReference/cbc:ID[@schemeID='AVV']",
        "ram:SpecifiedLineTradeSettlement/ram:AdditionalReferencedDocument[ram:ReferenceTypeCode='AVV']/ram:IssuerAssignedID",
    ),
    "reason": (
        "cac:Item/cac:ClassifiedTaxCategory/cbc:TaxExemptionReason",
        "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason",
    ),
}
TYPE_CODE = (
    "/*/cbc:InvoiceTypeCode",
    "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode",
)
FRAMEWORK = (
    "/*/cbc:ProfileID",
    "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID",
)
ACCOUNTING_CURRENCY = (
    "/*/cbc:TaxCurrencyCode",
    f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:TaxCurrencyCode",
)
BREAKDOWN_BASE = (
    "/*/cac:TaxTotal/cac:TaxSubtotal[1]/cbc:TaxableAmount",
    f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax[1]/ram:BasisAmount",
)

Change = Callable[[etree._Element, str], None]


def _find(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert found, xpath
    return found[0]


def _term(n: int, term: str) -> Callable[[str], str]:
    return lambda syntax: f"{_line(syntax, n)}/{AT[term][syntax == 'cii']}"


def _set(path: Callable[[str], str], value: str) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        _find(root, path(syntax)).text = value

    return change


def _drop(path: Callable[[str], str]) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        el = _find(root, path(syntax))
        el.getparent().remove(el)

    return change


def _header(paths: tuple[str, str], value: str) -> Change:
    return _set(lambda syntax: paths[syntax == "cii"], value)


def _both(*changes: Change) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        for one in changes:
            one(root, syntax)

    return change


def _accounting_currency(root: etree._Element, syntax: str) -> None:
    """BT-6 in EUR as well (the GROUP lines give their VAT in EUR once only)."""
    if syntax == "ubl":
        el = etree.Element(f"{{{NS['cbc']}}}TaxCurrencyCode")
        el.text = "EUR"
        _find(root, "/*/cbc:DocumentCurrencyCode").addnext(el)
    else:
        el = etree.Element(f"{{{NS['ram']}}}TaxCurrencyCode")
        el.text = "EUR"
        _find(
            root, f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode"
        ).addprevious(el)


def _amount_with_vat(value: str) -> Change:
    """EXT-FR-FE-184 on the first GROUP line (CII: replaced; UBL: added, as the artefact reads it)."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "cii":
            _find(
                root,
                f"{_line('cii', 1)}/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:GrandTotalAmount",
            ).text = value
        else:
            el = etree.Element(f"{{{NS['cbc']}}}TaxInclusiveLineExtensionAmount", currencyID="EUR")
            el.text = value
            _find(root, f"{_line('ubl', 1)}/cbc:LineExtensionAmount").addnext(el)

    return change


def _document_date(value: str) -> Change:
    """A line document reference's issue date (UBL only: CII has none there)."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            el = etree.Element(f"{{{NS['cbc']}}}IssueDate")
            el.text = value
            _find(
                root, f"{_line('ubl', 2)}/cac:DocumentReference/cbc:DocumentTypeCode"
            ).addprevious(el)

    return change


VARIANTS: dict[str, Change] = {
    "as written": lambda root, syntax: None,
    "DETAIL line with an unknown sub-type": _set(_term(2, "status"), "DETAILS"),
    "DETAIL line with an empty sub-type": _set(_term(2, "status"), ""),
    "DETAIL line without sub-type": _drop(_term(2, "status")),
    "DETAIL line with a missing parent": _set(_term(2, "parent"), "9"),
    "DETAIL line its own parent": _set(_term(2, "parent"), "2"),
    "DETAIL line of another vendor": _set(_term(2, "vendor id"), "521987651"),
    "GROUP net amount off by 1": _set(_term(1, "net"), "741.00"),
    "GROUP net amount off by 0.01": _set(_term(1, "net"), "740.01"),
    "GROUP without vendor name": _drop(_term(1, "vendor name")),
    "GROUP without vendor id": _drop(_term(1, "vendor id")),
    "GROUP without vendor country": _drop(_term(1, "vendor country")),
    "GROUP without VAT": _drop(_term(3, "vat")),
    "GROUP VAT off by 1": _set(_term(3, "vat"), "26.50"),
    "accounting currency given": _accounting_currency,
    "GROUP AVV of B8": _set(_term(3, "avv"), "B8"),
    "GROUP without AVV": _drop(_term(3, "avv")),
    "GROUP without AFL": _drop(_term(3, "afl")),
    "two GROUP lines with one AFL": _both(
        _set(_term(3, "afl"), "FR2026-0151"), _set(_term(4, "afl"), "FR2026-0151")
    ),
    "seller's GROUP AFL not the invoice number": _both(
        _set(_term(1, "afl"), "AL-1"), _set(_term(2, "afl"), "AL-1")
    ),
    "DETAIL without exemption reason": _drop(_term(4, "reason")),
    "DETAIL with another sub-invoice in its reason": _set(_term(4, "reason"), "#AUTRE#Verrerie"),
    "DETAIL line turned INFORMATION": _set(_term(4, "status"), "INFORMATION"),
    "DETAIL line turned GROUP": _set(_term(4, "status"), "GROUP"),
    "GROUP total with VAT off": _amount_with_vat("900.00"),
    "GROUP total with VAT right": _amount_with_vat("888.00"),
    "line document of 1999": _document_date("1999-05-04"),
    "credit note 381 without earlier invoice": _header(TYPE_CODE, "381"),
    "bidirectional B9": _both(_header(FRAMEWORK, "B9"), _header(TYPE_CODE, "389")),
    "bidirectional B9 credit note 261": _both(_header(FRAMEWORK, "B9"), _header(TYPE_CODE, "261")),
    "breakdown base off by 1": _header(BREAKDOWN_BASE, "741.00"),
    "no GROUP line": _both(_set(_term(1, "status"), "DETAIL"), _set(_term(3, "status"), "DETAIL")),
    "accounting currency USD": _both(_accounting_currency, _header(ACCOUNTING_CURRENCY, "USD")),
    "sub-GROUP without net amount": _both(
        _set(_term(2, "status"), "GROUP"), _drop(_term(2, "net"))
    ),
    "bidirectional B9, the buyer's GROUP": _both(
        _header(FRAMEWORK, "B9"),
        _header(TYPE_CODE, "389"),
        _set(_term(3, "vendor id"), "521987651"),
        _set(_term(4, "vendor id"), "521987651"),
    ),
    "bidirectional B9, no seller's GROUP": _both(
        _header(FRAMEWORK, "B9"),
        _header(TYPE_CODE, "389"),
        _set(_term(1, "vendor id"), "732829320"),
        _set(_term(2, "vendor id"), "732829320"),
    ),
    "bidirectional B9, one GROUP": _both(
        _header(FRAMEWORK, "B9"), _header(TYPE_CODE, "389"), _set(_term(3, "status"), "DETAIL")
    ),
}


def _fired(xml: bytes, syntax: str, conformance: Path, **kind: bool) -> dict[str, str]:
    return failed_asserts(xml, br_fr_xslt(conformance, syntax, **kind))


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sub_line_variant_fires_what_the_official_artefacts_fire(
    conformance: Path, syntax: str, variant: str
) -> None:
    root = etree.parse(str(SAMPLES[syntax])).getroot()
    VARIANTS[variant](root, syntax)
    assert_official_verdicts(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), syntax, conformance)


@pytest.mark.conformance
def test_the_sub_line_variants_reach_the_sub_line_rules(conformance: Path) -> None:
    text = (REPO / "rulesets" / "standard" / "fr-ctc" / "sub-lines.rules").read_text(
        encoding="utf-8"
    )
    text += (REPO / "rulesets" / "standard" / "fr-ctc-extended.rules").read_text(encoding="utf-8")
    rules = set(
        re.findall(
            r"^\s*rule (BR-FR-(?:MV|BD)\S+|BR-FREXT-(?:0|1)\S+|BR-FREXT-S-0\S+) ",
            text,
            re.MULTILINE,
        )
    )
    fired: set[str] = set()
    for syntax in ("ubl", "cii"):
        for change in VARIANTS.values():
            root = etree.parse(str(SAMPLES[syntax])).getroot()
            change(root, syntax)
            xml = etree.tostring(root)
            fired |= set(_fired(xml, syntax, conformance)) | set(
                _fired(xml, syntax, conformance, extended=True)
            )
    assert len(fired & rules) >= 0.9 * len(rules), sorted(rules - fired)
