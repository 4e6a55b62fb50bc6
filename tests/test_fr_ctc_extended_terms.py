"""The BR-FR rules on EXTENDED-CTC-FR terms (rulesets/standard/fr-ctc/extended.rules) against the
official BR-FR XSLTs, on variants of the EXTENDED-CTC-FR samples of samples/fr/.

The variants are made on the XML (the EN 16931 writers do not write these terms): each changes
one element of the agents, invoicer, invoicee, payer, payee address, line references or line
delivery places, in UBL and in CII; the official fatal XSLT and fr-ctc must fire the same BR-FR
ids, and the transition ruleset must give the _WARNING XSLT's flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fr_oracle import br_fr_xslt, failed_asserts
from lxml import etree
from test_fr_ctc_extended import assert_whole_verdict

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import load
from aiguillage.model.syntaxes import read_invoice

REPO = Path(__file__).resolve().parents[1]
SAMPLES = {
    "ubl": REPO / "samples" / "fr" / "fr-extended-agents-B1-ubl.xml",
    "cii": REPO / "samples" / "fr" / "fr-extended-agents-B1-cii.xml",
}
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
_TX = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
#: Where each party of the profile is, per syntax.
PARTIES = {
    "seller agent": (
        "/*/cac:AccountingSupplierParty/cac:Party/cac:AgentParty",
        f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:SalesAgentTradeParty",
    ),
    "buyer agent": (
        "/*/cac:AccountingCustomerParty/cac:Party/cac:AgentParty",
        f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerAgentTradeParty",
    ),
    "invoicer": (
        "/*/cac:AccountingSupplierParty/cac:Party/cac:ServiceProviderParty/cac:Party",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:InvoicerTradeParty",
    ),
    "invoicee": (
        "/*/cac:AccountingCustomerParty/cac:Party/cac:ServiceProviderParty/cac:Party",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:InvoiceeTradeParty",
    ),
    "payer": (
        "/*/cac:PaymentMeans/cac:PaymentMandate/cac:PayerParty",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:PayerTradeParty",
    ),
}
ID = {"ubl": "cac:PartyIdentification/cbc:ID", "cii": "ram:GlobalID"}
ADDRESS = {"ubl": "cbc:EndpointID", "cii": "ram:URIUniversalCommunication/ram:URIID"}
LINE = {"ubl": "/*/cac:InvoiceLine[1]", "cii": f"{_TX}/ram:IncludedSupplyChainTradeLineItem[1]"}
LINE_REF = {
    "ubl": "cac:BillingReference/cac:InvoiceDocumentReference",
    "cii": "ram:SpecifiedLineTradeSettlement/ram:InvoiceReferencedDocument",
}
LINE_PLACE = {
    "ubl": "cac:Delivery/cac:DeliveryLocation/cbc:ID",
    "cii": "ram:SpecifiedLineTradeDelivery/ram:ShipToTradeParty/ram:GlobalID",
}
LINE_DAY = {
    "ubl": ("cac:Delivery/cbc:ActualDeliveryDate", "1999-11-18"),
    "cii": (
        "ram:SpecifiedLineTradeDelivery/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString",
        "19991118",
    ),
}
PAYEE_ADDRESS = {
    "ubl": "/*/cac:PayeeParty/cbc:EndpointID",
    "cii": f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:PayeeTradeParty/ram:URIUniversalCommunication/ram:URIID",
}

Change = Callable[[etree._Element, str], None]


def _one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert found, xpath
    return found[0]


def _text(path: Callable[[str], str], value: str) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        _one(root, path(syntax)).text = value

    return change


def _drop_scheme(path: Callable[[str], str]) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        del _one(root, path(syntax)).attrib["schemeID"]

    return change


def _scheme(path: Callable[[str], str], value: str) -> Change:
    def change(root: etree._Element, syntax: str) -> None:
        _one(root, path(syntax)).set("schemeID", value)

    return change


def _twice(path: Callable[[str], str]) -> Change:
    """The identifier repeated (same scheme), in UBL its cac:PartyIdentification."""

    def change(root: etree._Element, syntax: str) -> None:
        el = _one(root, path(syntax))
        if syntax == "ubl" and el.getparent().tag.endswith("PartyIdentification"):
            el = el.getparent()
        el.addnext(etree.fromstring(etree.tostring(el)))

    return change


def _party(name: str, inner: dict[str, str]) -> Callable[[str], str]:
    return lambda syntax: f"{PARTIES[name][syntax == 'cii']}/{inner[syntax]}"


def _line(inner: dict[str, str], suffix: str = "") -> Callable[[str], str]:
    return lambda syntax: f"{LINE[syntax]}/{inner[syntax]}{suffix}"


def _line_ref(ubl: str, cii: str) -> Callable[[str], str]:
    return lambda syntax: f"{LINE[syntax]}/{LINE_REF[syntax]}/{ubl if syntax == 'ubl' else cii}"


def variants() -> dict[str, Change]:
    out: dict[str, Change] = {"as written": lambda root, syntax: None}
    for name in PARTIES:
        out[f"{name}: SIRET of 13 digits"] = _text(_party(name, ID), "4430618410004")
        out[f"{name}: SIRET of another SIREN"] = _text(_party(name, ID), "12345678900017")
        out[f"{name}: identifier without scheme"] = _drop_scheme(_party(name, ID))
        out[f"{name}: two identifiers of one scheme"] = _twice(_party(name, ID))
        out[f"{name}: address with a slash"] = _text(_party(name, ADDRESS), "443061841/AGENT")
        out[f"{name}: address of 130 characters"] = _text(_party(name, ADDRESS), "A" * 130)
        out[f"{name}: identifier of scheme SEPA"] = _scheme(_party(name, ID), "SEPA")
        out[f"{name}: identifier of scheme BY"] = _scheme(_party(name, ID), "BY")
    out["payee: address with a slash"] = _text(lambda s: PAYEE_ADDRESS[s], "387654320/X")
    out["payee: address of 130 characters"] = _text(lambda s: PAYEE_ADDRESS[s], "B" * 130)
    out["line: earlier invoice number with a space"] = _text(
        _line_ref("cbc:ID", "ram:IssuerAssignedID"), "FR 2026"
    )
    out["line: earlier invoice number of 40 characters"] = _text(
        _line_ref("cbc:ID", "ram:IssuerAssignedID"), "F" * 40
    )
    out["line: earlier invoice type 999"] = _text(
        _line_ref("cbc:DocumentTypeCode", "ram:TypeCode"), "999"
    )

    def old_reference(root: etree._Element, syntax: str) -> None:
        _one(
            root,
            _line_ref("cbc:IssueDate", "ram:FormattedIssueDateTime/qdt:DateTimeString")(syntax),
        ).text = "1999-11-20" if syntax == "ubl" else "19991120"

    out["line: earlier invoice of 1999"] = old_reference
    out["line: delivery SIRET of 13 digits"] = _text(_line(LINE_PLACE), "5219876510001")
    out["line: delivery place without scheme"] = _drop_scheme(_line(LINE_PLACE))

    def two_places(root: etree._Element, syntax: str) -> None:
        # GLNs: two SIRETs without a SIREN make the CII artefact itself fail (substring of a sequence)
        _one(root, _line(LINE_PLACE)(syntax)).set("schemeID", "0088")
        _twice(_line(LINE_PLACE))(root, syntax)

    out["line: two delivery places of one scheme"] = two_places

    def old_delivery(root: etree._Element, syntax: str) -> None:
        path, value = LINE_DAY[syntax]
        _one(root, f"{LINE[syntax]}/{path}").text = value

    out["line: delivered in 1999"] = old_delivery
    buyer_id = {
        "ubl": "/*/cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID",
        "cii": f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty/ram:GlobalID",
    }
    payee_id = {
        "ubl": "/*/cac:PayeeParty/cac:PartyIdentification/cbc:ID",
        "cii": f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:PayeeTradeParty/ram:GlobalID",
    }
    out["buyer: two identifiers of one scheme"] = _twice(lambda s: buyer_id[s])
    out["payee: two identifiers of one scheme"] = _twice(lambda s: payee_id[s])

    def second_buyer_scheme(root: etree._Element, syntax: str) -> None:
        _twice(lambda s: buyer_id[s])(root, syntax)
        root.xpath(buyer_id[syntax], namespaces=NS)[1].set("schemeID", "0088")

    out["buyer: two identifiers of two schemes"] = second_buyer_scheme
    seller_id = {
        "ubl": "/*/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID",
        "cii": f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty/ram:GlobalID",
    }
    out["seller: identifier of scheme SE"] = _scheme(lambda s: seller_id[s], "SE")
    out["seller: identifier of scheme XX"] = _scheme(lambda s: seller_id[s], "XX")
    out["buyer: identifier of scheme SEPA"] = _scheme(lambda s: buyer_id[s], "SEPA")
    out["payee: identifier of scheme SEPA"] = _scheme(lambda s: payee_id[s], "SEPA")
    out["payee: identifier of scheme 0088 with spaces"] = _scheme(lambda s: payee_id[s], " 0088 ")
    for mime in ("application/xml", "text/xml", "image/gif", "application/pdf"):
        out[f"attachment {mime}"] = _attachment(mime)
    for kind in ("AFL", "AVV"):
        out[f"two invoiced objects {kind}"] = _objects(kind, 2)
        out[f"one invoiced object {kind}"] = _objects(kind, 1)
    out["delivery place: two GLNs"] = _delivery_places(["5790000435975", "5790000435968"])
    out["delivery place: one GLN"] = _delivery_places(["5790000435975"])
    out["item attribute by its code"] = _attribute(code="MATERIAL")
    out["item attribute with an empty code"] = _attribute(code=" ")
    out["item attribute with a code of no list"] = _attribute(code="Q9X")
    out["item attribute with a code in lower case"] = _attribute(code="material")
    out["item attribute with neither name nor code"] = _attribute()
    for line in (False, True):
        where = "line" if line else "document"
        out[f"INCOTERMS on the {where}"] = _incoterms(line, extra=False)
        out[f"INCOTERMS with more on the {where}"] = _incoterms(line, extra=True)
        out[f"INCOTERMS DAT (2010) on the {where}"] = _incoterms(line, extra=False, code="DAT")
    for code in ("95", "999", " 41 "):
        out[f"gross price allowance reason {code.strip()!r}"] = _gross_price_reason(code)
    out["INCOTERMS with an empty code"] = _incoterms(False, extra=False, code=" ")
    out["INCOTERMS code 1"] = _incoterms(True, extra=False, code=" 1 ")
    out["INCOTERMS code in lower case"] = _incoterms(False, extra=False, code="fob")
    out["line charge without reason"] = _charge(None, None)
    out["line charge with an empty reason"] = _charge(None, None, reason="")
    out["line charge indicated 1 without reason"] = _charge(None, None, indicator="1")
    out["document charge without reason"] = _charge(None, None, line=False)
    for code, list_id in (("FC", None), (" XYZ ", None), ("XYZ", "7161"), ("FC", "7161"), ("AAA", "5153"),
                          ("VAT", "5153"), ("FC", "ZZZ"), ("5153", "ZZZ"), ("FC", ""), ("FC", "5153 ")):
        out[f"line charge reason {code.strip()!r} of list {list_id!r}"] = _charge(code, list_id)
    for code, list_id in (("XYZ", None), ("FC", "7161"), ("VAT", "5153"), ("GST", "5153"), ("FC", "ZZZ")):
        out[f"document charge reason {code!r} of list {list_id!r}"] = _charge(code, list_id, line=False)
    out["line charge indicated 1, reason 'XYZ' of list '5153'"] = _charge("XYZ", "5153", indicator="1")
    out["line net price given twice"] = _cii_only(_twice(lambda s: f"{LINE[s]}/ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"))
    for kind, type_code in (("Contract", None), ("Additional", "916")):
        out[f"{kind.lower()} document with a reference type AFL"] = _cii_only(_document(kind, type_code, "<ram:ReferenceTypeCode>AFL</ram:ReferenceTypeCode>"))
        out[f"{kind.lower()} document with an issue date"] = _cii_only(_document(kind, type_code, _ISSUED))
    out["contract document with a type code"] = _cii_only(_document("Contract", "50", ""))
    out["invoiced object with a type code 130"] = _cii_only(_document("Additional", "130", ""))
    out["buyer order with an issue date"] = _cii_only(_issue_date_on_the_order)
    out["contract document with a reference type Q9X"] = _cii_only(_document("Contract", None, "<ram:ReferenceTypeCode>Q9X</ram:ReferenceTypeCode>"))
    out["tax exchange rate"] = _exchange(extra=False)
    out["tax exchange rate with an operator"] = _exchange(extra=True)
    out["credit transfer with an IBAN and a proprietary account"] = _cii_only(_creditor_account(iban=True))
    out["credit transfer with a proprietary account only"] = _cii_only(_creditor_account(iban=False))
    out["neither due date nor payment terms"] = _no_payment_terms
    out["line referring to an earlier invoice without tax category"] = _drop_line_tax
    return out


_ISSUED = (f'<ram:FormattedIssueDateTime xmlns:qdt="{NS["qdt"]}"><qdt:DateTimeString format="102">20261001</qdt:DateTimeString>'
           "</ram:FormattedIssueDateTime>")


def _cii_only(change: Change) -> Change:
    """A change of the CII sample only (the UBL one stays as written)."""
    return lambda root, syntax: change(root, syntax) if syntax == "cii" else None


def _document(kind: str, type_code: str | None, inner: str) -> Change:
    """A header ram:ContractReferencedDocument or ram:AdditionalReferencedDocument (of this
    TypeCode) holding `inner` (a reference type or an issue date)."""

    def change(root: etree._Element, syntax: str) -> None:
        typed = "" if type_code is None else f"<ram:TypeCode>{type_code}</ram:TypeCode>"
        doc = etree.fromstring(
            f'<ram:{kind}ReferencedDocument xmlns:ram="{NS["ram"]}"><ram:IssuerAssignedID>DOC-1</ram:IssuerAssignedID>'
            f"{typed}{inner}</ram:{kind}ReferencedDocument>"
        )
        _one(root, f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerOrderReferencedDocument").addnext(doc)

    return change


def _issue_date_on_the_order(root: etree._Element, syntax: str) -> None:
    _one(root, f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerOrderReferencedDocument").append(etree.fromstring(
        _ISSUED.replace("<ram:FormattedIssueDateTime ", f'<ram:FormattedIssueDateTime xmlns:ram="{NS["ram"]}" ', 1)
    ))


def _drop_line_tax(root: etree._Element, syntax: str) -> None:
    """Line 1 (which refers to an earlier invoice) without VAT category: UBL-FREXT-SR-48 asks
    for one only on the lines that count, CII-SR-454 for at most one."""
    path = "cac:Item/cac:ClassifiedTaxCategory" if syntax == "ubl" else "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
    element = _one(root, f"{LINE[syntax]}/{path}")
    element.getparent().remove(element)


def _exchange(*, extra: bool) -> Change:
    """A tax currency exchange (UBL cac:TaxExchangeRate, CII ram:TaxApplicableTradeCurrencyExchange)
    from EUR to USD, with one child more than the profile allows when `extra`."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            more = "<cbc:MathematicOperatorCode>Multiply</cbc:MathematicOperatorCode>" if extra else ""
            rate = etree.fromstring(
                f'<cac:TaxExchangeRate xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}"><cbc:SourceCurrencyCode>EUR</cbc:SourceCurrencyCode>'
                f"<cbc:TargetCurrencyCode>USD</cbc:TargetCurrencyCode><cbc:CalculationRate>1.1</cbc:CalculationRate>{more}</cac:TaxExchangeRate>"
            )
            _one(root, "/*/cac:TaxTotal").addprevious(rate)
        else:
            more = "<ram:SourceUnitBasisNumeric>1</ram:SourceUnitBasisNumeric>" if extra else ""
            rate = etree.fromstring(
                f'<ram:TaxApplicableTradeCurrencyExchange xmlns:ram="{NS["ram"]}"><ram:SourceCurrencyCode>EUR</ram:SourceCurrencyCode>'
                f"<ram:TargetCurrencyCode>USD</ram:TargetCurrencyCode><ram:ConversionRate>1.1</ram:ConversionRate>{more}"
                "</ram:TaxApplicableTradeCurrencyExchange>"
            )
            _one(root, f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementPaymentMeans").addprevious(rate)

    return change


def _creditor_account(*, iban: bool) -> Change:
    """The CII credit transfer's account (BT-84) given as a proprietary identifier, beside the
    IBAN or in its place."""

    def change(root: etree._Element, syntax: str) -> None:
        account = _one(root, f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount")
        number = account.find("ram:IBANID", NS)
        proprietary = etree.Element(f"{{{NS['ram']}}}ProprietaryID")
        proprietary.text = "ACC-0042"
        number.addnext(proprietary)
        if not iban:
            account.remove(number)

    return change


def _no_payment_terms(root: etree._Element, syntax: str) -> None:
    """Neither a due date (BT-9) nor payment terms (BT-20): BR-CO-25 with an amount due."""
    paths = (("/*/cbc:DueDate", "/*/cac:PaymentTerms") if syntax == "ubl" else
             tuple(f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradePaymentTerms/ram:{n}" for n in ("Description", "DueDateDateTime")))
    for path in paths:
        element = _one(root, path)
        element.getparent().remove(element)


def _charge(code: str | None, list_id: str | None, *, line: bool = True, reason: str | None = None, indicator: str = "true") -> Change:
    """A charge of 0.00 (no total moves) on line 1 (BG-28) or on the document (BG-21, category S
    20 %) with this reason code and list id (BT-105/145; with list id 5153, BT-177/193)."""
    listed = "" if list_id is None else f' listID="{list_id}"'

    def change(root: etree._Element, syntax: str) -> None:
        add = _ubl_charge if syntax == "ubl" else _cii_charge
        add(root, code, listed, line=line, reason=reason, indicator=indicator)

    return change


def _ubl_charge(root: etree._Element, code: str | None, listed: str, *, line: bool, reason: str | None, indicator: str) -> None:
    charge = etree.Element(f"{{{NS['cac']}}}AllowanceCharge")
    etree.SubElement(charge, f"{{{NS['cbc']}}}ChargeIndicator").text = indicator
    if code is not None:
        charge.append(etree.fromstring(f'<cbc:AllowanceChargeReasonCode xmlns:cbc="{NS["cbc"]}"{listed}>{code}</cbc:AllowanceChargeReasonCode>'))
    if reason is not None:
        etree.SubElement(charge, f"{{{NS['cbc']}}}AllowanceChargeReason").text = reason
    etree.SubElement(charge, f"{{{NS['cbc']}}}Amount", currencyID="EUR").text = "0.00"
    if line:
        _one(root, f"{LINE['ubl']}/cac:Item").addprevious(charge)
        return
    charge.append(etree.fromstring(
        f'<cac:TaxCategory xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}"><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent>'
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>"
    ))
    _one(root, "/*/cac:TaxTotal").addprevious(charge)


def _cii_charge(root: etree._Element, code: str | None, listed: str, *, line: bool, reason: str | None, indicator: str) -> None:
    charge = etree.Element(f"{{{NS['ram']}}}SpecifiedTradeAllowanceCharge")
    etree.SubElement(etree.SubElement(charge, f"{{{NS['ram']}}}ChargeIndicator"), f"{{{NS['udt']}}}Indicator").text = indicator
    etree.SubElement(charge, f"{{{NS['ram']}}}ActualAmount").text = "0.00"
    if code is not None:
        charge.append(etree.fromstring(f'<ram:ReasonCode xmlns:ram="{NS["ram"]}"{listed}>{code}</ram:ReasonCode>'))
    if reason is not None:
        etree.SubElement(charge, f"{{{NS['ram']}}}Reason").text = reason
    if line:
        _one(root, f"{LINE['cii']}/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation").addprevious(charge)
        return
    charge.append(etree.fromstring(
        f'<ram:CategoryTradeTax xmlns:ram="{NS["ram"]}"><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>'
        "<ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:CategoryTradeTax>"
    ))
    _one(root, f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradePaymentTerms").addprevious(charge)


def _gross_price_reason(code: str) -> Change:
    """An allowance on line 1's gross price (BT-147, BT-148) with a reason code."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            price = _one(root, f"{LINE['ubl']}/cac:Price")
            price.append(
                etree.fromstring(
                    f'<cac:AllowanceCharge xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}">'
                    f"<cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>{code}</cbc:AllowanceChargeReasonCode>"
                    '<cbc:Amount currencyID="EUR">15.00</cbc:Amount><cbc:BaseAmount currencyID="EUR">200.00</cbc:BaseAmount></cac:AllowanceCharge>'
                )
            )
        else:
            net = _one(
                root, f"{LINE['cii']}/ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
            )
            net.addprevious(
                etree.fromstring(
                    f'<ram:GrossPriceProductTradePrice xmlns:ram="{NS["ram"]}" xmlns:udt="{NS["udt"]}"><ram:ChargeAmount>200.00</ram:ChargeAmount>'
                    "<ram:AppliedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>"
                    f"<ram:ActualAmount>15.00</ram:ActualAmount><ram:ReasonCode>{code}</ram:ReasonCode></ram:AppliedTradeAllowanceCharge>"
                    "</ram:GrossPriceProductTradePrice>"
                )
            )

    return change


def _attachment(mime: str) -> Change:
    """A supporting document (BG-24) with an attachment (BT-125) of this MIME code."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            ref = etree.fromstring(
                f'<cac:AdditionalDocumentReference xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}"><cbc:ID>BL-1</cbc:ID>'
                f'<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="{mime}" filename="bl">PGEvPg==</cbc:EmbeddedDocumentBinaryObject>'
                "</cac:Attachment></cac:AdditionalDocumentReference>"
            )
            _one(root, "/*/cac:AccountingSupplierParty").addprevious(ref)
        else:
            ref = etree.fromstring(
                f'<ram:AdditionalReferencedDocument xmlns:ram="{NS["ram"]}"><ram:IssuerAssignedID>BL-1</ram:IssuerAssignedID>'
                f'<ram:TypeCode>916</ram:TypeCode><ram:AttachmentBinaryObject mimeCode="{mime}" filename="bl">PGEvPg==</ram:AttachmentBinaryObject>'
                "</ram:AdditionalReferencedDocument>"
            )
            _one(
                root, f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerOrderReferencedDocument"
            ).addnext(ref)

    return change


def _incoterms(line: bool, *, extra: bool, code: str = "DAP") -> Change:
    """Delivery terms: the INCOTERMS code and place name, and with `extra` a term the profile does not allow."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            terms = etree.Element(f"{{{NS['cac']}}}DeliveryTerms")
            etree.SubElement(terms, f"{{{NS['cbc']}}}ID").text = code
            if extra:
                etree.SubElement(terms, f"{{{NS['cbc']}}}SpecialTerms").text = "Livraison au quai 3"
            place = etree.SubElement(terms, f"{{{NS['cac']}}}DeliveryLocation")
            etree.SubElement(place, f"{{{NS['cbc']}}}Name").text = "Paris"
            anchor = _one(root, f"{LINE['ubl']}/cac:Item" if line else "/*/cac:PaymentMeans")
            anchor.addprevious(terms)
        else:
            terms = etree.Element(f"{{{NS['ram']}}}ApplicableTradeDeliveryTerms")
            etree.SubElement(terms, f"{{{NS['ram']}}}DeliveryTypeCode").text = code
            place = etree.SubElement(terms, f"{{{NS['ram']}}}RelevantTradeLocation")
            if extra:
                etree.SubElement(place, f"{{{NS['ram']}}}ID").text = "FRPAR"
            etree.SubElement(place, f"{{{NS['ram']}}}Name").text = "Paris"
            parent = _one(
                root,
                f"{LINE['cii']}/ram:SpecifiedLineTradeAgreement"
                if line
                else f"{_TX}/ram:ApplicableHeaderTradeAgreement",
            )
            parent.append(terms)

    return change


def _attribute(code: str | None = None) -> Change:
    """An item attribute (BG-32) of line 1 with a value, and a code (EXT-FR-FE-159) when given."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            item = _one(root, f"{LINE['ubl']}/cac:Item")
            prop = etree.SubElement(item, f"{{{NS['cac']}}}AdditionalItemProperty")
            if code is not None:
                etree.SubElement(prop, f"{{{NS['cbc']}}}NameCode", listID="ZZZ").text = code
            etree.SubElement(prop, f"{{{NS['cbc']}}}Value").text = "Laiton"
        else:
            product = _one(root, f"{LINE['cii']}/ram:SpecifiedTradeProduct")
            prop = etree.SubElement(product, f"{{{NS['ram']}}}ApplicableProductCharacteristic")
            if code is not None:
                etree.SubElement(prop, f"{{{NS['ram']}}}TypeCode").text = code
            etree.SubElement(prop, f"{{{NS['ram']}}}Value").text = "Laiton"

    return change


def _objects(kind: str, count: int) -> Change:
    """Header references to invoiced objects (BT-18, type 130) with reference type `kind`."""

    def change(root: etree._Element, syntax: str) -> None:
        for n in range(count):
            if syntax == "ubl":
                ref = etree.fromstring(
                    f'<cac:AdditionalDocumentReference xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}"><cbc:ID schemeID="{kind}">OBJ-{n}</cbc:ID>'
                    "<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>"
                )
                _one(root, "/*/cac:AccountingSupplierParty").addprevious(ref)
            else:
                ref = etree.fromstring(
                    f'<ram:AdditionalReferencedDocument xmlns:ram="{NS["ram"]}"><ram:IssuerAssignedID>OBJ-{n}</ram:IssuerAssignedID>'
                    f"<ram:TypeCode>130</ram:TypeCode><ram:ReferenceTypeCode>{kind}</ram:ReferenceTypeCode></ram:AdditionalReferencedDocument>"
                )
                _one(
                    root,
                    f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerOrderReferencedDocument",
                ).addnext(ref)

    return change


def _delivery_places(glns: list[str]) -> Change:
    """The header delivery place with these GLNs (UBL has room for the first only)."""

    def change(root: etree._Element, syntax: str) -> None:
        if syntax == "ubl":
            delivery = _one(root, "/*/cac:Delivery")
            location = etree.SubElement(delivery, f"{{{NS['cac']}}}DeliveryLocation")
            etree.SubElement(location, f"{{{NS['cbc']}}}ID", schemeID="0088").text = glns[0]
            delivery.insert(1, location)
        else:
            delivery = _one(root, f"{_TX}/ram:ApplicableHeaderTradeDelivery")
            party = etree.Element(f"{{{NS['ram']}}}ShipToTradeParty")
            for gln in glns:
                etree.SubElement(party, f"{{{NS['ram']}}}GlobalID", schemeID="0088").text = gln
            delivery.insert(0, party)

    return change


VARIANTS = variants()


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_extended_variant_fires_what_the_official_artefact_fires(
    conformance: Path, syntax: str, variant: str
) -> None:
    root = etree.parse(str(SAMPLES[syntax])).getroot()
    VARIANTS[variant](root, syntax)
    assert_official_verdicts(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), syntax, conformance)


def assert_official_verdicts(xml: bytes, syntax: str, conformance: Path, apart: frozenset[str] = frozenset()) -> None:
    """fr-ctc fires the BR-FR ids the fatal XSLT fires, fr-ctc-transition those of the `_WARNING`
    one, and fr-ctc (so fr-ctc-extended, from BT-24) every id of the EXTENDED-CTC-FR and BR-FR
    XSLTs and no other (our own ids aside), each with the artefact's flag."""
    invoice = read_invoice(xml)
    for ruleset, kind in (("fr-ctc", {}), ("fr-ctc-transition", {"warning": True})):
        official = {r: f for r, f in failed_asserts(xml, br_fr_xslt(conformance, syntax, **kind)).items() if r.startswith("BR-FR-")}
        ours = {f.rule: f.severity for f in evaluate(invoice, load(ruleset)).findings if f.rule.startswith("BR-FR-")}
        assert ours == official, f"{syntax} {ruleset} {kind}: official {sorted(official.items())}, ours {sorted(ours.items())}"
    assert_whole_verdict(xml, syntax, conformance, "fr-ctc", apart)


@pytest.mark.conformance
def test_the_extended_variants_reach_most_new_rules(conformance: Path) -> None:
    text = (REPO / "rulesets" / "standard" / "fr-ctc" / "extended.rules").read_text(
        encoding="utf-8"
    )
    rules = set(re.findall(r"^\s*rule (BR-FR\S+) ", text, re.MULTILINE))
    fired: set[str] = set()
    for syntax in ("ubl", "cii"):
        for change in VARIANTS.values():
            root = etree.parse(str(SAMPLES[syntax])).getroot()
            change(root, syntax)
            fired |= set(failed_asserts(etree.tostring(root), br_fr_xslt(conformance, syntax)))
    assert len(fired & rules) >= 0.8 * len(rules), sorted(rules - fired)


@pytest.mark.conformance
def test_the_variants_reach_the_profile_replacements(conformance: Path) -> None:
    """The ids fr-ctc-extended writes in place of the EN 16931 ones the artefacts drop fire on
    some variant, officially (and so, by the test above, here)."""
    wanted = {"ubl": {"BR-CO-25", "BR-FREXT-04", "CII-FREXT-CR-490"}, "cii": {"BR-CO-25", "BR-FXEXT-04", "CII-FREXT-SR-439", "CII-FREXT-DT-024", "CII-FREXTDT-027", "CII-EXT-DT-018", "CII-FREXT-SR-366", "BR-CO-27"}}
    for syntax, ids in wanted.items():
        fired: set[str] = set()
        for change in VARIANTS.values():
            root = etree.parse(str(SAMPLES[syntax])).getroot()
            change(root, syntax)
            fired |= set(failed_asserts(etree.tostring(root), br_fr_xslt(conformance, syntax, extended=True)))
        assert ids <= fired, sorted(ids - fired)
