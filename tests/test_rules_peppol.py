"""Peppol BIS Billing 3.0 rules that the official unit tests do not cover, or cover only in part.

PEPPOL-EN16931-R008 (no empty elements) and PEPPOL-COMMON-R041 (Norwegian
organisation numbers) have no official unit test. The others here pin down
behaviour the unit tests leave open: R043 leaves an allowance or charge with a
lone percentage or base amount to R041/R042 (the official Schematron handles a
node with the first rule of a pattern whose context matches it), R101 on a line
document reference without type code, and the check-digit rules wherever the
identifier stands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice

NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


@pytest.fixture(scope="module")
def peppol() -> Any:
    return library().compiled("peppol-bis-3")


def ubl(body: str, root: str = "Invoice") -> bytes:
    """A UBL fragment, as the official unit tests write them."""
    return f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {NS}>{body}</{root}>'.encode()


def findings(compiled: Any, document: bytes) -> list[Any]:
    return list(evaluate(read_invoice(document, "test.xml"), compiled).findings)


def fired(compiled: Any, document: bytes) -> set[str]:
    return {f.rule for f in findings(compiled, document)}


# --------------------------------------------------------------------------- R008: empty elements


@pytest.mark.parametrize(
    "body",
    [
        "<cbc:Note/>",
        "<cbc:Note>   </cbc:Note>",
        '<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="0088"/></cac:Party></cac:AccountingCustomerParty>',
        "<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID=\"EUR\"></cbc:PayableAmount></cac:LegalMonetaryTotal>",
        "<cac:InvoiceLine><cac:Item><cbc:Name/></cac:Item></cac:InvoiceLine>",
        # inside an element EN 16931 does not use: still an empty element of the document
        "<cac:Signature><cbc:ID>S1</cbc:ID><cac:SignatoryParty><cbc:WebsiteURI/></cac:SignatoryParty></cac:Signature>",
    ],
)
def test_r008_fires_on_an_empty_element(peppol: Any, body: str) -> None:
    found = [f for f in findings(peppol, ubl(body)) if f.rule == "PEPPOL-EN16931-R008"]
    assert found, body
    assert all(f.severity == "fatal" for f in found)


def test_r008_fires_once_per_empty_element(peppol: Any) -> None:
    found = [f for f in findings(peppol, ubl("<cbc:Note/><cbc:BuyerReference/><cbc:ID>1</cbc:ID>")) if f.rule == "PEPPOL-EN16931-R008"]
    assert len(found) == 2


def test_r008_is_quiet_when_every_element_has_a_value(peppol: Any) -> None:
    body = "<cbc:ID>1</cbc:ID><cbc:Note>text</cbc:Note><cac:Signature><cbc:ID>S1</cbc:ID></cac:Signature>"
    assert "PEPPOL-EN16931-R008" not in fired(peppol, ubl(body))


@pytest.mark.parametrize("name", ["base-example.xml", "base-creditnote-correction.xml", "Allowance-example.xml"])
def test_r008_is_quiet_on_the_peppol_examples(peppol: Any, conformance: Path, name: str) -> None:
    assert "PEPPOL-EN16931-R008" not in fired(peppol, (conformance / "peppol" / "examples" / name).read_bytes())


# --------------------------------------------------------------------------- COMMON-R041: Norwegian organisation number


def buyer_endpoint(value: str, scheme: str = "0192") -> bytes:
    return ubl(f'<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="{scheme}">{value}</cbc:EndpointID></cac:Party></cac:AccountingCustomerParty>')


@pytest.mark.parametrize("value", ["974760673", " 974760673 ", "923609016"])
def test_common_r041_accepts_valid_norwegian_numbers(peppol: Any, value: str) -> None:
    assert "PEPPOL-COMMON-R041" not in fired(peppol, buyer_endpoint(value))


@pytest.mark.parametrize(
    "value",
    [
        "974760672",  # wrong check digit
        "97476067",  # 8 digits
        "9747606730",  # 10 digits
        "NO974760673",
        "974 760 673",
        "000000000",  # all zeros pass the weighted sum, but the number must be above zero
        "",
    ],
)
def test_common_r041_rejects_malformed_norwegian_numbers(peppol: Any, value: str) -> None:
    found = [f for f in findings(peppol, buyer_endpoint(value)) if f.rule == "PEPPOL-COMMON-R041"]
    assert found and found[0].severity == "fatal", value


def test_common_r041_ignores_other_schemes(peppol: Any) -> None:
    assert "PEPPOL-COMMON-R041" not in fired(peppol, buyer_endpoint("974760672", scheme="0088"))


@pytest.mark.parametrize(
    "party",
    [
        '<cac:AccountingSupplierParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="0192">974760672</cbc:ID></cac:PartyIdentification></cac:Party></cac:AccountingSupplierParty>',
        '<cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>X</cbc:RegistrationName><cbc:CompanyID schemeID="0192">974760672</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>',
        '<cac:AccountingCustomerParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="0192">974760672</cbc:ID></cac:PartyIdentification></cac:Party></cac:AccountingCustomerParty>',
        '<cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>X</cbc:RegistrationName><cbc:CompanyID schemeID="0192">974760672</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>',
        '<cac:PayeeParty><cac:PartyIdentification><cbc:ID schemeID="0192">974760672</cbc:ID></cac:PartyIdentification></cac:PayeeParty>',
        '<cac:PayeeParty><cac:PartyLegalEntity><cbc:CompanyID schemeID="0192">974760672</cbc:CompanyID></cac:PartyLegalEntity></cac:PayeeParty>',
    ],
)
def test_common_r041_looks_at_every_party_identifier(peppol: Any, party: str) -> None:
    assert "PEPPOL-COMMON-R041" in fired(peppol, ubl(party))
    assert "PEPPOL-COMMON-R041" not in fired(peppol, ubl(party.replace("974760672", "974760673")))


def test_common_r041_checks_each_seller_identifier(peppol: Any) -> None:
    ids = "".join(f'<cac:PartyIdentification><cbc:ID schemeID="{s}">{v}</cbc:ID></cac:PartyIdentification>' for s, v in (("0088", "9429041098400"), ("0192", "974760672")))
    document = ubl(f"<cac:AccountingSupplierParty><cac:Party>{ids}</cac:Party></cac:AccountingSupplierParty>")
    rules = fired(peppol, document)
    assert "PEPPOL-COMMON-R041" in rules
    assert "PEPPOL-COMMON-R040" not in rules


# --------------------------------------------------------------------------- R043 after R041/R042 (first match per pattern)


def allowance(inner: str) -> bytes:
    return ubl(f"<cac:AllowanceCharge>{inner}</cac:AllowanceCharge>")


def test_r043_fires_on_a_wrong_indicator(peppol: Any) -> None:
    rules = fired(peppol, allowance('<cbc:ChargeIndicator>0</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">10</cbc:Amount>'))
    assert "PEPPOL-EN16931-R043" in rules


def test_r043_fires_when_percentage_and_base_come_together(peppol: Any) -> None:
    inner = '<cbc:ChargeIndicator>yes</cbc:ChargeIndicator><cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric><cbc:Amount currencyID="EUR">10</cbc:Amount><cbc:BaseAmount currencyID="EUR">100</cbc:BaseAmount>'
    rules = fired(peppol, allowance(inner))
    assert "PEPPOL-EN16931-R043" in rules
    assert not rules & {"PEPPOL-EN16931-R040", "PEPPOL-EN16931-R041", "PEPPOL-EN16931-R042"}


def test_a_lone_percentage_is_reported_by_r041_only(peppol: Any) -> None:
    rules = fired(peppol, allowance("<cbc:ChargeIndicator>0</cbc:ChargeIndicator><cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric>"))
    assert "PEPPOL-EN16931-R041" in rules
    assert "PEPPOL-EN16931-R043" not in rules


def test_a_lone_base_amount_on_a_line_is_reported_by_r042_only(peppol: Any) -> None:
    line = '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:AllowanceCharge><cbc:ChargeIndicator>1</cbc:ChargeIndicator><cbc:BaseAmount currencyID="EUR">100</cbc:BaseAmount></cac:AllowanceCharge></cac:InvoiceLine>'
    rules = fired(peppol, ubl(line))
    assert "PEPPOL-EN16931-R042" in rules
    assert "PEPPOL-EN16931-R043" not in rules


def test_r043_leaves_price_discounts_to_r044(peppol: Any) -> None:
    line = '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:Price><cbc:PriceAmount currencyID="EUR">9</cbc:PriceAmount><cac:AllowanceCharge><cbc:ChargeIndicator>0</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">1</cbc:Amount></cac:AllowanceCharge></cac:Price></cac:InvoiceLine>'
    rules = fired(peppol, ubl(line))
    assert "PEPPOL-EN16931-R044" in rules
    assert "PEPPOL-EN16931-R043" not in rules


CII = (
    '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">'
    "<rsm:SupplyChainTradeTransaction>{}</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"
)


@pytest.mark.parametrize(
    ("indicator", "expected"),
    [
        ("<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>", False),
        ("<ram:ChargeIndicator><udt:Indicator> true </udt:Indicator></ram:ChargeIndicator>", False),
        ("<ram:ChargeIndicator></ram:ChargeIndicator>", True),
        ("", True),
        ("<ram:ChargeIndicator><udt:Indicator>0</udt:Indicator></ram:ChargeIndicator>", True),
    ],
)
def test_cii_r043_judges_the_indicator_as_written(peppol: Any, indicator: str, expected: bool) -> None:
    allowance = f"<ram:SpecifiedTradeAllowanceCharge>{indicator}<ram:ActualAmount>5</ram:ActualAmount></ram:SpecifiedTradeAllowanceCharge>"
    header = CII.format(f"<ram:ApplicableHeaderTradeSettlement>{allowance}</ram:ApplicableHeaderTradeSettlement>")
    assert ("PEPPOL-EN16931-R043" in fired(peppol, header.encode())) is expected


def test_cii_r043_judges_the_price_discount_too(peppol: Any) -> None:
    price = (
        "<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeAgreement><ram:GrossPriceProductTradePrice>"
        "<ram:ChargeAmount>10</ram:ChargeAmount><ram:AppliedTradeAllowanceCharge><ram:ChargeIndicator>{}</ram:ChargeIndicator>"
        "<ram:ActualAmount>1</ram:ActualAmount></ram:AppliedTradeAllowanceCharge></ram:GrossPriceProductTradePrice>"
        "</ram:SpecifiedLineTradeAgreement></ram:IncludedSupplyChainTradeLineItem>"
    )
    assert "PEPPOL-EN16931-R043" in fired(peppol, CII.format(price.format("")).encode())
    assert "PEPPOL-EN16931-R043" not in fired(peppol, CII.format(price.format("<udt:Indicator>false</udt:Indicator>")).encode())


@pytest.mark.parametrize(("indicator", "expected"), [("false", False), (" false ", False), ("0", True), ("", True)])
def test_r120_counts_a_line_allowance_by_its_indicator_text(peppol: Any, indicator: str, expected: bool) -> None:
    # normalize-space(cbc:ChargeIndicator) = 'false': an allowance without one, or with 0, is neither.
    tag = f"<cbc:ChargeIndicator>{indicator}</cbc:ChargeIndicator>" if indicator else ""
    line = (
        '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>'
        '<cbc:LineExtensionAmount currencyID="EUR">15</cbc:LineExtensionAmount>'
        f'<cac:AllowanceCharge>{tag}<cbc:Amount currencyID="EUR">5</cbc:Amount></cac:AllowanceCharge>'
        '<cac:Price><cbc:PriceAmount currencyID="EUR">10</cbc:PriceAmount></cac:Price></cac:InvoiceLine>'
    )
    assert ("PEPPOL-EN16931-R120" in fired(peppol, ubl(line))) is expected


# --------------------------------------------------------------------------- R101: line document reference without type code


def test_r101_fires_on_a_line_document_reference_without_type_code(peppol: Any) -> None:
    line = "<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:DocumentReference><cbc:ID>M-1</cbc:ID></cac:DocumentReference></cac:InvoiceLine>"
    assert "PEPPOL-EN16931-R101" in fired(peppol, ubl(line))
    typed = line.replace("</cbc:ID></cac:DocumentReference>", "</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>")
    assert "PEPPOL-EN16931-R101" not in fired(peppol, ubl(typed))


def test_r101_asks_for_some_reference_of_type_130_in_the_line(peppol: Any) -> None:
    """As the official test reads it: another reference beside one of type 130 passes; " 130" is not 130."""
    ref = "<cac:DocumentReference><cbc:ID>M-{0}</cbc:ID><cbc:DocumentTypeCode>{0}</cbc:DocumentTypeCode></cac:DocumentReference>"
    line = "<cac:InvoiceLine><cbc:ID>1</cbc:ID>{}</cac:InvoiceLine>"
    assert "PEPPOL-EN16931-R101" not in fired(peppol, ubl(line.format(ref.format("VA") + ref.format("130"))))
    assert "PEPPOL-EN16931-R101" in fired(peppol, ubl(line.format(ref.format("VA") + ref.format("ZZ"))))
    assert "PEPPOL-EN16931-R101" in fired(peppol, ubl(line.format(ref.format(" 130"))))


CII_LINE = (
    '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">'
    "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem>"
    "<ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>"
    "<ram:SpecifiedLineTradeSettlement>{}</ram:SpecifiedLineTradeSettlement>"
    "</ram:IncludedSupplyChainTradeLineItem></rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"
)


@pytest.mark.parametrize(
    ("references", "fires"),
    [
        ("<ram:IssuerAssignedID>M-1</ram:IssuerAssignedID>", True),  # no TypeCode: still BT-128 for EN 16931
        ("<ram:IssuerAssignedID>M-1</ram:IssuerAssignedID><ram:TypeCode>916</ram:TypeCode>", True),
        ("<ram:IssuerAssignedID>M-1</ram:IssuerAssignedID><ram:TypeCode>130</ram:TypeCode>", False),
    ],
)
def test_r101_in_cii_reads_the_line_reference_type_code(peppol: Any, references: str, fires: bool) -> None:
    document = CII_LINE.format(f"<ram:AdditionalReferencedDocument>{references}</ram:AdditionalReferencedDocument>")
    invoice = read_invoice(document.encode(), "test.xml")
    assert invoice.lines[0].object_identifier.value == "M-1"
    assert ("PEPPOL-EN16931-R101" in fired(peppol, document.encode())) is fires


# --------------------------------------------------------------------------- the same verdicts from CII


def test_model_rules_give_the_same_verdict_from_cii(peppol: Any) -> None:
    """Rules on business terms (here R041, R120, COMMON-R041) fire the same on the CII rendering."""
    from aiguillage.model.syntaxes import write_invoice

    document = ubl(
        '<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="0192">974760672</cbc:EndpointID></cac:Party></cac:AccountingCustomerParty>'
        '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric>'
        '<cbc:Amount currencyID="EUR">1</cbc:Amount></cac:AllowanceCharge>'
        '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>'
        '<cbc:LineExtensionAmount currencyID="EUR">25</cbc:LineExtensionAmount>'
        '<cac:Price><cbc:PriceAmount currencyID="EUR">10</cbc:PriceAmount></cac:Price></cac:InvoiceLine>'
    )
    invoice = read_invoice(document, "test.xml")
    cii = read_invoice(write_invoice(invoice, "cii"), "test-cii.xml")
    watched = {"PEPPOL-COMMON-R041", "PEPPOL-EN16931-R041", "PEPPOL-EN16931-R120"}
    from_ubl = {f.rule for f in evaluate(invoice, peppol).findings} & watched
    from_cii = {f.rule for f in evaluate(cii, peppol).findings} & watched
    assert from_ubl == watched
    assert from_cii == from_ubl


# --------------------------------------------------------------------------- reader facts these rules rely on


@pytest.mark.parametrize("document", [ubl(""), ubl("\n   \n"), ubl("<!-- nothing -->"), ubl("", root="CreditNote")])
def test_r008_fires_on_an_empty_document(peppol: Any, document: bytes) -> None:
    assert "PEPPOL-EN16931-R008" in fired(peppol, document)


def test_r008_counts_comments_as_nothing_and_text_as_something(peppol: Any) -> None:
    only_comment = "<cac:AccountingCustomerParty><cac:Party><!-- <cbc:EndpointID/> --></cac:Party></cac:AccountingCustomerParty>"
    assert "PEPPOL-EN16931-R008" in fired(peppol, ubl(only_comment))
    with_text = '<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">10</cbc:TaxAmount><cac:TaxSubtotal>100.00</cac:TaxSubtotal></cac:TaxTotal>'
    assert "PEPPOL-EN16931-R008" not in fired(peppol, ubl(with_text))


def test_a_document_of_lines_only_is_not_empty(peppol: Any) -> None:
    assert "PEPPOL-EN16931-R008" not in fired(peppol, ubl("<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>"))


def test_r051_and_r054_see_the_tax_total_without_subtotals(peppol: Any) -> None:
    """The TaxAmount of a cac:TaxTotal without subtotals is BT-111's place: R051 leaves its currency alone, R054 counts it."""
    alone = '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cac:TaxTotal><cbc:TaxAmount currencyID="GBP">1</cbc:TaxAmount></cac:TaxTotal>'
    rules = fired(peppol, ubl(alone))
    assert "PEPPOL-EN16931-R051" not in rules
    assert "PEPPOL-EN16931-R054" in rules  # no VAT accounting currency, yet a tax total without breakdown
    with_bt6 = alone.replace("</cbc:DocumentCurrencyCode>", "</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>GBP</cbc:TaxCurrencyCode>")
    assert "PEPPOL-EN16931-R054" not in fired(peppol, ubl(with_bt6))
    twice = '<cbc:TaxAmount currencyID="GBP">1</cbc:TaxAmount><cac:TaxSubtotal/>'
    assert "PEPPOL-EN16931-R051" in fired(peppol, ubl(alone.replace('<cbc:TaxAmount currencyID="GBP">1</cbc:TaxAmount>', twice)))


def test_cl008_and_f001_look_inside_elements_en16931_does_not_use(peppol: Any) -> None:
    inside = '<cac:Delivery><cac:DeliveryParty><cbc:EndpointID schemeID="0207">1</cbc:EndpointID></cac:DeliveryParty></cac:Delivery>'
    assert "PEPPOL-EN16931-CL008" in fired(peppol, ubl(inside))
    assert "PEPPOL-EN16931-CL008" not in fired(peppol, ubl(inside.replace("0207", "0208")))
    dated = "<cac:Signature><cbc:ID>S</cbc:ID><cac:DigitalSignatureAttachment><cbc:IssueDate>2017-02-30</cbc:IssueDate></cac:DigitalSignatureAttachment></cac:Signature>"
    assert "PEPPOL-EN16931-F001" in fired(peppol, ubl(dated))
    assert "PEPPOL-EN16931-F001" not in fired(peppol, ubl(dated.replace("2017-02-30", "2017-02-28")))


def test_r044_fires_on_a_price_discount_without_indicator(peppol: Any) -> None:
    line = '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:Price><cbc:PriceAmount currencyID="EUR">9</cbc:PriceAmount><cac:AllowanceCharge>{}<cbc:Amount currencyID="EUR">1</cbc:Amount></cac:AllowanceCharge></cac:Price></cac:InvoiceLine>'
    assert "PEPPOL-EN16931-R044" in fired(peppol, ubl(line.format("")))
    assert "PEPPOL-EN16931-R044" not in fired(peppol, ubl(line.format("<cbc:ChargeIndicator>false</cbc:ChargeIndicator>")))
    invoice = read_invoice(ubl(line.format("")), "test.xml")
    assert invoice.lines[0].price.discount == 1  # still read as the discount
