"""Factur-X invoices of each profile made from EN 16931 CII invoices, for differential tests.

A valid EN 16931 CII invoice becomes an invoice of profile P by declaring P in
BT-24 and dropping what P does not carry: BASIC WL has no lines; MINIMUM keeps
only the document's number, type and date, the buyer's reference and order
reference, the parties' names, identifiers, VAT ids and the seller's country,
the currency and the four totals. BASIC, EN 16931 and EXTENDED take the
invoice as it is. The mutations (aiguillage.testing.mutations) then vary these.
"""

from __future__ import annotations

from lxml import etree

from aiguillage.testing.facturx_oracle import GUIDELINES

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_NS = {"rsm": _RSM, "ram": _RAM}

#: What MINIMUM carries, as paths of local names from the root (a kept path keeps what is under it).
_MINIMUM = (
    "ExchangedDocumentContext",
    "ExchangedDocument/ID",
    "ExchangedDocument/TypeCode",
    "ExchangedDocument/IssueDateTime",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerReference",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty/Name",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty/SpecifiedLegalOrganization/ID",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty/PostalTradeAddress/CountryID",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty/SpecifiedTaxRegistration",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerTradeParty/Name",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerTradeParty/SpecifiedLegalOrganization/ID",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerOrderReferencedDocument/IssuerAssignedID",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeDelivery",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/InvoiceCurrencyCode",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/SpecifiedTradeSettlementHeaderMonetarySummation/TaxBasisTotalAmount",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/SpecifiedTradeSettlementHeaderMonetarySummation/TaxTotalAmount",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/SpecifiedTradeSettlementHeaderMonetarySummation/GrandTotalAmount",
    "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/SpecifiedTradeSettlementHeaderMonetarySummation/DuePayableAmount",
)


def as_profile(xml: bytes, profile: str) -> bytes:
    """The invoice declared as (and cut down to) a Factur-X profile: `minimum` … `extended`."""
    root = etree.fromstring(xml)
    context = root.find("rsm:ExchangedDocumentContext", _NS)
    guideline = context.find("ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", _NS)
    guideline.text = GUIDELINES[profile]
    if profile == "minimum":
        _keep(root, "", _MINIMUM)
        delivery = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery", _NS)
        if delivery is not None:
            delivery[:] = []
    elif profile == "basicwl":
        for line in root.findall("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", _NS):
            line.getparent().remove(line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _keep(element: etree._Element, path: str, kept: tuple[str, ...]) -> None:
    """Remove the children of `element` that no kept path reaches."""
    for child in list(element):
        if not isinstance(child.tag, str):
            continue
        name = f"{path}/{etree.QName(child).localname}".lstrip("/")
        if any(k == name or k.startswith(name + "/") for k in kept):
            if name not in kept:
                _keep(child, name, kept)
        elif not any(name.startswith(k + "/") for k in kept):
            element.remove(child)
