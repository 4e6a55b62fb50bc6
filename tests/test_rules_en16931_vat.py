"""EN 16931 VAT-category rules (BR-S … BR-AG): behaviour the official unit tests leave out.

The official unit tests cover every rule of rulesets/standard/en16931/vat-categories.rules
but BR-IC-10, and hold no credit note; the cases here fill those gaps and pin the
boundaries the rules reproduce from the UBL artefact (strict ±1 for S, L and M, exact
for the others). Each invoice is also judged after conversion to CII: same verdicts.
"""

from __future__ import annotations

import pytest

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.cii import read_cii, write_cii
from aiguillage.model.syntaxes import read_invoice
from aiguillage.model.xmlsafe import parse_xml

NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
VAT = "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
SELLER = (
    "<cac:AccountingSupplierParty><cac:Party><cac:PartyTaxScheme><cbc:CompanyID>FR12345678901</cbc:CompanyID>"
    f"{VAT}</cac:PartyTaxScheme></cac:Party></cac:AccountingSupplierParty>"
)
BUYER = (
    "<cac:AccountingCustomerParty><cac:Party><cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID>"
    f"{VAT}</cac:PartyTaxScheme></cac:Party></cac:AccountingCustomerParty>"
)


def breakdown(category: str, taxable: str, tax: str, rate: str | None = None, reason: str = "") -> str:
    percent = f"<cbc:Percent>{rate}</cbc:Percent>" if rate is not None else ""
    return (
        f'<cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{taxable}</cbc:TaxableAmount>'
        f'<cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>'
        f"<cac:TaxCategory><cbc:ID>{category}</cbc:ID>{percent}{reason}{VAT}</cac:TaxCategory></cac:TaxSubtotal>"
    )


def line(category: str, amount: str, rate: str | None, root: str = "Invoice") -> str:
    percent = f"<cbc:Percent>{rate}</cbc:Percent>" if rate is not None else ""
    quantity = "CreditedQuantity" if root == "CreditNote" else "InvoicedQuantity"
    return (
        f'<cac:{root}Line><cbc:ID>1</cbc:ID><cbc:{quantity} unitCode="C62">1</cbc:{quantity}>'
        f'<cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount>'
        f"<cac:Item><cbc:Name>x</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>{category}</cbc:ID>{percent}{VAT}"
        f"</cac:ClassifiedTaxCategory></cac:Item></cac:{root}Line>"
    )


def document(body: str, root: str = "Invoice") -> bytes:
    return f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {NS}>{body}</{root}>'.encode()


def fired(data: bytes, prefix: str) -> dict[str, set[str]]:
    """Ids starting with `prefix` that fire on the UBL document and on its CII conversion."""
    ruleset = library().compiled("en16931")
    invoice = read_invoice(data)
    converted = read_cii(parse_xml(write_cii(invoice)))
    return {
        syntax: {f.rule for f in evaluate(inv, ruleset).findings if f.rule.startswith(prefix)}
        for syntax, inv in (("ubl", invoice), ("cii", converted))
    }


def both(ids: set[str]) -> dict[str, set[str]]:
    return {"ubl": ids, "cii": ids}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("", {"BR-IC-10"}),
        ("<cbc:TaxExemptionReasonCode>VATEX-EU-IC</cbc:TaxExemptionReasonCode>", set()),
        ("<cbc:TaxExemptionReason>Intra-community supply</cbc:TaxExemptionReason>", set()),
    ],
)
def test_br_ic_10_intra_community_breakdown_needs_an_exemption_reason(reason: str, expected: set[str]) -> None:
    body = (
        f"{SELLER}{BUYER}<cac:Delivery><cbc:ActualDeliveryDate>2024-01-10</cbc:ActualDeliveryDate></cac:Delivery>"
        f"<cac:TaxTotal>{breakdown('K', '100.00', '0.00', '0', reason)}</cac:TaxTotal>{line('K', '100.00', '0')}"
    )
    assert fired(document(body), "BR-IC-10") == both(expected)


@pytest.mark.parametrize(
    ("taxable", "expected"),
    [("-150.00", both(set())), ("-149.01", {"ubl": set(), "cii": {"BR-S-08"}}), ("-149.00", both({"BR-S-08"}))],
)
def test_standard_rate_taxable_amount_of_a_credit_note_is_within_one_exclusive(taxable: str, expected: dict[str, set[str]]) -> None:
    # CII binding: BR-S-08 wants the rounded sums exactly (as the official CII artefact judges the conversion).
    body = (
        f"{SELLER}<cac:TaxTotal>{breakdown('S', taxable, '-30.00', '20')}</cac:TaxTotal>"
        + line("S", "-100.00", "20", "CreditNote")
        + line("S", "-50.00", "20", "CreditNote")
    )
    assert fired(document(body, "CreditNote"), "BR-S-08") == expected


@pytest.mark.parametrize(("taxable", "expected"), [("-70.00", both(set())), ("-70.01", {"ubl": {"BR-Z-08"}, "cii": set()})])
def test_zero_rated_taxable_amount_of_a_credit_note_is_exact(taxable: str, expected: dict[str, set[str]]) -> None:
    # CII binding: BR-Z-08 accepts a difference under 1 (as the official CII artefact judges the conversion).
    body = (
        f"{SELLER}<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>"
        f'<cbc:Amount currencyID="EUR">30.00</cbc:Amount><cac:TaxCategory><cbc:ID>Z</cbc:ID><cbc:Percent>0</cbc:Percent>{VAT}'
        f"</cac:TaxCategory></cac:AllowanceCharge><cac:TaxTotal>{breakdown('Z', taxable, '0', '0')}</cac:TaxTotal>"
        + line("Z", "-100.00", "0", "CreditNote")
    )
    assert fired(document(body, "CreditNote"), "BR-Z-08") == expected


@pytest.mark.parametrize(("tax", "expected"), [("-20.99", set()), ("-21.00", {"BR-S-09"}), ("-19.01", set()), ("-19.00", {"BR-S-09"})])
def test_standard_rate_tax_amount_compares_absolute_values_within_one_exclusive(tax: str, expected: set[str]) -> None:
    body = f"{SELLER}<cac:TaxTotal>{breakdown('S', '-100.00', tax, '20')}</cac:TaxTotal>" + line("S", "-100.00", "20", "CreditNote")
    assert fired(document(body, "CreditNote"), "BR-S-09") == both(expected)


def test_breakdown_without_rate_is_not_judged_per_rate() -> None:
    # `every $rate in ()` holds in the standard: no rate, no BR-S-08 (BR-S-09 still fires).
    body = f"{SELLER}<cac:TaxTotal>{breakdown('S', '100.00', '20.00')}</cac:TaxTotal>" + line("S", "100.00", "20")
    assert fired(document(body), "BR-S-0") == both({"BR-S-09"})


def test_category_codes_are_compared_after_trimming() -> None:
    body = f"{SELLER}<cac:TaxTotal>{breakdown(' E ', '100.00', '0.00', '0')}</cac:TaxTotal>" + line("E", "100.00", "0")
    # CII binding: a breakdown is picked by its code as written, so ' E ' is no breakdown E there.
    assert fired(document(body), "BR-E-") == {"ubl": {"BR-E-10"}, "cii": {"BR-E-01"}}


@pytest.mark.parametrize(("code", "expected"), [("L", {"BR-AF-04"}), (" L ", set())])
def test_br_af_04_looks_only_at_charges_coded_exactly_l(code: str, expected: set[str]) -> None:
    # The standard trims the code everywhere in BR-AF-03/04 but in the branch that decides BR-AF-04.
    body = (
        f'<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">10.00</cbc:Amount>'
        f"<cac:TaxCategory><cbc:ID>{code}</cbc:ID><cbc:Percent>7</cbc:Percent>{VAT}</cac:TaxCategory></cac:AllowanceCharge>"
    )
    assert fired(document(body), "BR-AF-04") == both(expected)
