"""Generate a large, valid-looking UBL 2.1 invoice (default 20,000 lines, about 16 MB).

Used to check that reading stays well under a second and the process under
250 MB (`python benchmarks/read_write.py --large PATH`). Totals add up, so the
invoice also exercises the rules. Run:

    python benchmarks/make_large_invoice.py [--lines N] [-o PATH]
"""

from __future__ import annotations

import argparse
import tempfile
from decimal import Decimal
from pathlib import Path

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>LARGE-{lines}</cbc:ID>
  <cbc:IssueDate>2024-03-01</cbc:IssueDate>
  <cbc:DueDate>2024-03-31</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:Note>Generated invoice with {lines} lines</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>BR-LARGE</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>PO-4711</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>
    <cac:PartyName><cbc:Name>Large Supplier</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cbc:StreetName>Main Street 1</cbc:StreetName><cbc:CityName>Lyon</cbc:CityName>
      <cbc:PostalZone>69001</cbc:PostalZone><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR40303265045</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Large Supplier SA</cbc:RegistrationName><cbc:CompanyID schemeID="0002">303265045</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>Harbour Road 2</cbc:StreetName><cbc:CityName>Marseille</cbc:CityName>
      <cbc:PostalZone>13002</cbc:PostalZone><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR82542065479</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Large Buyer SARL</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>LARGE-{lines}</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>30 days net</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">{net}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{net}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{gross}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{gross}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
"""

LINE = """<cac:InvoiceLine><cbc:ID>{n}</cbc:ID>
<cbc:InvoicedQuantity unitCode="C62">{quantity}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount>
<cac:OrderLineReference><cbc:LineID>{n}</cbc:LineID></cac:OrderLineReference>
<cac:Item><cbc:Name>Bolt M{size}x{length} zinc plated</cbc:Name>
<cac:SellersItemIdentification><cbc:ID>SKU-{n:06d}</cbc:ID></cac:SellersItemIdentification>
<cac:CommodityClassification><cbc:ItemClassificationCode listID="STI">31161500</cbc:ItemClassificationCode></cac:CommodityClassification>
<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount><cbc:BaseQuantity unitCode="C62">1</cbc:BaseQuantity></cac:Price></cac:InvoiceLine>
"""


def line_values(n: int) -> dict:
    """Deterministic, varied values for line `n`; amount = quantity x price."""
    quantity = 1 + n % 17
    price = Decimal(50 + (n * 37) % 950) / 100
    return {
        "n": n,
        "batch": n // 100,
        "quantity": quantity,
        "price": f"{price:.2f}",
        "amount": f"{price * quantity:.2f}",
        "size": 4 + n % 9,
        "length": 10 + n % 60,
    }


def generate(lines: int) -> bytes:
    """The whole invoice as bytes; VAT is 20 % of the sum of the line amounts."""
    values = [line_values(n) for n in range(1, lines + 1)]
    net = sum(Decimal(v["amount"]) for v in values)
    tax = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    parts = [HEADER.format(lines=lines, net=f"{net:.2f}", tax=f"{tax:.2f}", gross=f"{net + tax:.2f}")]
    parts.extend(LINE.format(**v) for v in values)
    parts.append("</Invoice>\n")
    return "".join(parts).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("-o", "--output", type=Path, default=Path(tempfile.gettempdir()) / "aiguillage-large-invoice.xml")
    args = parser.parse_args()
    data = generate(args.lines)
    args.output.write_bytes(data)
    print(f"{args.output}: {args.lines:,} lines, {len(data) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
