"""Official rules that judge an element wherever it stands, and references or codes read as the artefact reads them.

The official contexts are bare element names (`cac:PaymentMeans`,
`//ram:AdditionalReferencedDocument`, `cbc:EndpointID[@schemeID = '0007']`), so
they judge an element where EN 16931 does not use it too, and each one of
several elements the model merges into one term. Each case starts from a
valid official example (quiet for the rule) and makes the change a mutated
variant of tests/test_differential*.py made, where the artefact fires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice


@pytest.fixture(scope="module")
def en16931() -> Any:
    return library().compiled("en16931")


@pytest.fixture(scope="module")
def peppol() -> Any:
    return library().compiled("peppol-bis-3")


def fired(compiled: Any, document: bytes) -> set[str]:
    return {f.rule for f in evaluate(read_invoice(document, "test.xml"), compiled).findings}


def edited(
    conformance: Path, name: str, old: str, new: str, count: int = 1, nth: int = 1
) -> tuple[bytes, bytes]:
    """(the example, the example with its `nth` occurrence of `old` replaced by `new`)."""
    folder = "ubl-examples" if not name.startswith("CII") else "cii-examples"
    text = (conformance / "en16931" / folder / name).read_text(encoding="utf-8")
    assert text.count(old) >= nth, old
    at = -1
    for _ in range(nth):
        at = text.index(old, at + 1)
    return text.encode(), (text[:at] + new + text[at + len(old) :]).encode()


@pytest.mark.parametrize(
    ("name", "old", "new", "rules"),
    [
        # BR-49: a cac:PaymentMeans EN 16931 does not use (in an allowance) without its code
        (
            "ubl-tc434-example2.xml",
            "</cac:AllowanceCharge>",
            "<cac:PaymentMeans>1</cac:PaymentMeans></cac:AllowanceCharge>",
            {"BR-49"},
        ),
        # BR-52: a cac:AdditionalDocumentReference without cbc:ID inside cac:BillingReference
        (
            "ubl-tc434-example2.xml",
            "<cac:AccountingSupplierParty>",
            "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>1</cbc:ID></cac:InvoiceDocumentReference>"
            "<cac:AdditionalDocumentReference>1</cac:AdditionalDocumentReference></cac:BillingReference><cac:AccountingSupplierParty>",
            {"BR-52"},
        ),
        # BR-55 and UBL-SR-07: a line's cac:BillingReference without InvoiceDocumentReference/ID
        (
            "ubl-tc434-example2.xml",
            "</cac:InvoiceLine>",
            "<cac:BillingReference>1</cac:BillingReference></cac:InvoiceLine>",
            {"BR-55", "UBL-SR-07"},
        ),
        # BR-CL-19: the reason code of a price allowance (indicator false) is judged too
        (
            "ubl-tc434-example2.xml",
            '<cbc:Amount currencyID="NOK">225.00</cbc:Amount>',
            '<cbc:Amount currencyID="NOK">225.00</cbc:Amount><cbc:AllowanceChargeReasonCode>1</cbc:AllowanceChargeReasonCode>',
            {"BR-CL-19"},
        ),
        # UBL-SR-12: a CompanyID repeated inside the seller's VAT cac:PartyTaxScheme
        (
            "ubl-tc434-example2.xml",
            "<cbc:CompanyID>NO123456789MVA</cbc:CompanyID>",
            "<cbc:CompanyID>NO123456789MVA</cbc:CompanyID><cbc:CompanyID>NO123456789MVA</cbc:CompanyID>",
            {"UBL-SR-12"},
        ),
        # BR-49 (CII): the second payment means without ram:TypeCode (the model keeps the first's)
        ("CII_example5.xml", "<ram:TypeCode>58</ram:TypeCode>", "", {"BR-49"}),
        # BR-52 (CII): a ram:AdditionalReferencedDocument EN 16931 does not use (in the delivery)
        (
            "CII_example5.xml",
            "<ram:ApplicableHeaderTradeDelivery>",
            "<ram:ApplicableHeaderTradeDelivery><ram:AdditionalReferencedDocument>1</ram:AdditionalReferencedDocument>",
            {"BR-52"},
        ),
        # BR-52 (CII): a line's object reference (BT-128) without ram:IssuerAssignedID
        ("CII_example5.xml", "<ram:IssuerAssignedID>Object2</ram:IssuerAssignedID>", "", {"BR-52"}),
        # BR-17 (CII): a ram:PayeeTradeParty without ram:Name in the payment terms
        (
            "CII_example5.xml",
            "<ram:SpecifiedTradePaymentTerms>",
            "<ram:SpecifiedTradePaymentTerms><ram:PayeeTradeParty>1</ram:PayeeTradeParty>",
            {"BR-17"},
        ),
        # BR-63 (CII): the buyer's first URIUniversalCommunication without ram:URIID
        (
            "CII_example5.xml",
            '<ram:URIID schemeID="EM">info@buyercompany.dk</ram:URIID>',
            "",
            {"BR-63"},
        ),
    ],
)
def test_en16931_judges_the_element_wherever_it_stands(
    en16931: Any, conformance: Path, name: str, old: str, new: str, rules: set[str]
) -> None:
    nth = 2 if (name, old) == ("CII_example5.xml", "<ram:TypeCode>58</ram:TypeCode>") else 1
    valid, changed = edited(conformance, name, old, new, nth=nth)
    assert not fired(en16931, valid) & rules
    assert fired(en16931, changed) & rules == rules


def test_an_empty_payment_means_code_is_a_code_for_br_49(en16931: Any, conformance: Path) -> None:
    """exists(cbc:PaymentMeansCode) holds for an empty one: BR-CL-16 judges it, BR-49 does not."""
    _, changed = edited(
        conformance,
        "ubl-tc434-example2.xml",
        "<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>",
        "<cbc:PaymentMeansCode></cbc:PaymentMeansCode>",
    )
    rules = fired(en16931, changed)
    assert "BR-49" not in rules
    assert "BR-CL-16" in rules


@pytest.mark.parametrize(
    ("name", "old", "new", "rule"),
    [
        # R042: a base amount that is not a number, without percentage: the element is there
        (
            "ubl-tc434-example2.xml",
            "</cbc:ChargeIndicator>",
            '</cbc:ChargeIndicator><cbc:BaseAmount currencyID="NOK">12,5</cbc:BaseAmount>',
            "PEPPOL-EN16931-R042",
        ),
        # R051 / CL007: an amount EN 16931 does not use there, without currencyID
        (
            "ubl-tc434-example2.xml",
            "</cac:PaymentTerms>",
            "<cbc:Amount>1</cbc:Amount></cac:PaymentTerms>",
            "PEPPOL-EN16931-R051",
        ),
        (
            "ubl-tc434-example2.xml",
            "</cac:PaymentTerms>",
            "<cbc:Amount>1</cbc:Amount></cac:PaymentTerms>",
            "PEPPOL-EN16931-CL007",
        ),
        # COMMON-R049: a Swedish organisation number inside an element EN 16931 does not use
        (
            "ubl-tc434-example2.xml",
            "<cac:AccountingSupplierParty>",
            '<cac:AccountingSellerParty><cac:Party><cbc:EndpointID schemeID="0007">1234567890</cbc:EndpointID></cac:Party></cac:AccountingSellerParty>'
            "<cac:AccountingSupplierParty>",
            "PEPPOL-COMMON-R049",
        ),
        # R130 (CII): the gross price's own base quantity unit differs from the quantity's
        (
            "CII_example2.xml",
            '<ram:BasisQuantity unitCode="NAR">1498</ram:BasisQuantity>',
            '<ram:BasisQuantity unitCode="H87">1498</ram:BasisQuantity>',
            "PEPPOL-EN16931-R130",
        ),
        # COMMON-R040 (CII): a tax registration ram:ID with scheme 0088 that is no GLN
        (
            "CII_example3.xml",
            '<ram:ID schemeID="VA">DK16356706</ram:ID>',
            '<ram:ID schemeID="0088">DK16356706</ram:ID>',
            "PEPPOL-COMMON-R040",
        ),
    ],
)
def test_peppol_judges_what_the_model_does_not_hold(
    peppol: Any, conformance: Path, name: str, old: str, new: str, rule: str
) -> None:
    valid, changed = edited(conformance, name, old, new)
    assert rule not in fired(peppol, valid)
    assert rule in fired(peppol, changed)


def test_cl006_judges_the_code_of_a_later_invoice_period(peppol: Any) -> None:
    """The first period has no DescriptionCode: the second one's code is the one judged (and is BT-8)."""
    ns = (
        'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
    )
    body = "<cac:InvoicePeriod/><cac:InvoicePeriod><cbc:DescriptionCode>{}</cbc:DescriptionCode></cac:InvoicePeriod>"
    document = f"<Invoice {ns}>{body}</Invoice>"
    assert "PEPPOL-EN16931-CL006" in fired(peppol, document.format("50").encode())
    assert "PEPPOL-EN16931-CL006" not in fired(peppol, document.format("35").encode())
    assert read_invoice(document.format("35").encode(), "test.xml").vat_point_date_code == "35"
