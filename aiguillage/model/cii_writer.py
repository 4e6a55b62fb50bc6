"""UN/CEFACT CII D16B (EN 16931-3-3 binding): write from the model.

Writing follows the element order of the CII D16B schema (as restricted by
the Factur-X EN 16931 profile), so the output is schema-valid whenever the
invoice is complete. Strings are assembled directly: the order of every
append follows the schema sequence, and values are escaped on the way in.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from aiguillage.model.cii_common import QDT_NS, RAM_NS, RSM_NS, UDT_NS, VAT_POINT_TO_CII
from aiguillage.model.errors import InvoiceWriteError
from aiguillage.model.invoice import (
    Buyer,
    Delivery,
    DocumentTotals,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    PaymentInstructions,
    PriceDetails,
    Seller,
    SupportingDocument,
    VatBreakdown,
)

_ROOT_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<rsm:CrossIndustryInvoice xmlns:rsm="{RSM_NS}" xmlns:qdt="{QDT_NS}" xmlns:ram="{RAM_NS}" xmlns:udt="{UDT_NS}">'
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PROJECT_NAME = "Project reference"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(text: str) -> str:
    return (
        _escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    )


def _attributes(**attributes: str | None) -> str:
    return "".join(f' {name}="{_escape_attribute(value)}"' for name, value in attributes.items() if value is not None)


def _leaf(out: list[str], tag: str, value: str | None, attributes: str = "") -> None:
    if value is not None:
        out.append(f"<ram:{tag}{attributes}>{_escape(value)}</ram:{tag}>")


def _number(out: list[str], tag: str, value: Decimal | None, attributes: str = "") -> None:
    if value is not None:
        out.append(f"<ram:{tag}{attributes}>{value:f}</ram:{tag}>")


def _date_element(out: list[str], tag: str, value: date | None, inner: str = "udt:DateTimeString") -> None:
    if value is not None:
        out.append(f'<ram:{tag}><{inner} format="102">{value.year:04d}{value.month:02d}{value.day:02d}</{inner}></ram:{tag}>')


def _identifier_element(out: list[str], tag: str, identifier: Identifier | None) -> None:
    """An identifier; written even without a value when it carries a scheme."""
    if identifier is None:
        return
    attributes = _attributes(schemeID=identifier.scheme)
    out.append(f"<ram:{tag}{attributes}>{_escape(identifier.value or '')}</ram:{tag}>")


def _reference(out: list[str], tag: str, value: str | None, inner: str = "IssuerAssignedID") -> None:
    if value is not None:
        out.append(f"<ram:{tag}><ram:{inner}>{_escape(value)}</ram:{inner}></ram:{tag}>")


def _address(out: list[str], address: Any) -> None:
    if address is None:
        return
    out.append("<ram:PostalTradeAddress>")
    _leaf(out, "PostcodeCode", address.post_code)
    _leaf(out, "LineOne", address.line_one)
    _leaf(out, "LineTwo", address.line_two)
    _leaf(out, "LineThree", address.line_three)
    _leaf(out, "CityName", address.city)
    _leaf(out, "CountryID", address.country_code)
    _leaf(out, "CountrySubDivisionName", address.country_subdivision)
    out.append("</ram:PostalTradeAddress>")


def _contact(out: list[str], contact: Any) -> None:
    if contact is None:
        return
    out.append("<ram:DefinedTradeContact>")
    _leaf(out, "PersonName", contact.point)
    _reference(out, "TelephoneUniversalCommunication", contact.telephone, "CompleteNumber")
    _reference(out, "EmailURIUniversalCommunication", contact.email, "URIID")
    out.append("</ram:DefinedTradeContact>")


def _party_identifiers(out: list[str], identifiers: list[Identifier]) -> None:
    """Identifiers without a scheme are ram:ID, with one ram:GlobalID (which the schema puts after)."""
    for identifier in identifiers:
        if identifier.scheme is None:
            _identifier_element(out, "ID", identifier)
    for identifier in identifiers:
        if identifier.scheme is not None:
            _identifier_element(out, "GlobalID", identifier)


def _legal_organization(out: list[str], identifier: Identifier | None, trading_name: str | None) -> None:
    if identifier is None and trading_name is None:
        return
    out.append("<ram:SpecifiedLegalOrganization>")
    _identifier_element(out, "ID", identifier)
    _leaf(out, "TradingBusinessName", trading_name)
    out.append("</ram:SpecifiedLegalOrganization>")


def _electronic_address(out: list[str], identifier: Identifier | None) -> None:
    if identifier is not None:
        out.append("<ram:URIUniversalCommunication>")
        _identifier_element(out, "URIID", identifier)
        out.append("</ram:URIUniversalCommunication>")


def _tax_registrations(out: list[str], vat: str | None, local: str | None = None) -> None:
    if vat is not None:
        out.append(f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{_escape(vat)}</ram:ID></ram:SpecifiedTaxRegistration>')
    if local is not None:
        out.append(f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">{_escape(local)}</ram:ID></ram:SpecifiedTaxRegistration>')


def _seller(out: list[str], seller: Seller | None) -> None:
    if seller is None:
        return
    out.append("<ram:SellerTradeParty>")
    _party_identifiers(out, seller.identifiers)
    _leaf(out, "Name", seller.name)
    _leaf(out, "Description", seller.additional_legal_information)
    _legal_organization(out, seller.legal_registration_identifier, seller.trading_name)
    _contact(out, seller.contact)
    _address(out, seller.postal_address)
    _electronic_address(out, seller.electronic_address)
    _tax_registrations(out, seller.vat_identifier, seller.tax_registration_identifier)
    out.append("</ram:SellerTradeParty>")


def _buyer(out: list[str], buyer: Buyer | None) -> None:
    if buyer is None:
        return
    out.append("<ram:BuyerTradeParty>")
    _party_identifiers(out, [buyer.identifier] if buyer.identifier is not None else [])
    _leaf(out, "Name", buyer.name)
    _legal_organization(out, buyer.legal_registration_identifier, buyer.trading_name)
    _contact(out, buyer.contact)
    _address(out, buyer.postal_address)
    _electronic_address(out, buyer.electronic_address)
    _tax_registrations(out, buyer.vat_identifier)
    out.append("</ram:BuyerTradeParty>")


def _tax_representative(out: list[str], invoice: Invoice) -> None:
    representative = invoice.tax_representative
    if representative is None:
        return
    out.append("<ram:SellerTaxRepresentativeTradeParty>")
    _leaf(out, "Name", representative.name)
    _address(out, representative.postal_address)
    _tax_registrations(out, representative.vat_identifier)
    out.append("</ram:SellerTaxRepresentativeTradeParty>")


def _additional_documents(out: list[str], invoice: Invoice) -> None:
    for document in invoice.supporting_documents:
        _supporting_document(out, document)
    if invoice.tender_reference is not None:
        out.append(
            f"<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>{_escape(invoice.tender_reference)}</ram:IssuerAssignedID>"
            "<ram:TypeCode>50</ram:TypeCode></ram:AdditionalReferencedDocument>"
        )
    _object_reference(out, invoice.invoiced_object_identifier)


def _supporting_document(out: list[str], document: SupportingDocument) -> None:
    out.append("<ram:AdditionalReferencedDocument>")
    _leaf(out, "IssuerAssignedID", document.reference)
    _leaf(out, "URIID", document.external_location)
    out.append("<ram:TypeCode>916</ram:TypeCode>")
    _leaf(out, "Name", document.description)
    attachment = document.attachment
    if attachment is not None:
        attributes = _attributes(mimeCode=attachment.mime_code, filename=attachment.filename)
        out.append(f"<ram:AttachmentBinaryObject{attributes}>{_escape(attachment.content or '')}</ram:AttachmentBinaryObject>")
    out.append("</ram:AdditionalReferencedDocument>")


def _object_reference(out: list[str], identifier: Identifier | None) -> None:
    """BT-18 / BT-128: an AdditionalReferencedDocument with TypeCode 130, scheme as ReferenceTypeCode."""
    if identifier is None:
        return
    out.append("<ram:AdditionalReferencedDocument>")
    _leaf(out, "IssuerAssignedID", identifier.value)
    out.append("<ram:TypeCode>130</ram:TypeCode>")
    _leaf(out, "ReferenceTypeCode", identifier.scheme)
    out.append("</ram:AdditionalReferencedDocument>")


def _agreement(out: list[str], invoice: Invoice) -> None:
    out.append("<ram:ApplicableHeaderTradeAgreement>")
    _leaf(out, "BuyerReference", invoice.buyer_reference)
    _seller(out, invoice.seller)
    _buyer(out, invoice.buyer)
    _tax_representative(out, invoice)
    _reference(out, "SellerOrderReferencedDocument", invoice.sales_order_reference)
    _reference(out, "BuyerOrderReferencedDocument", invoice.order_reference)
    _reference(out, "ContractReferencedDocument", invoice.contract_reference)
    _additional_documents(out, invoice)
    if invoice.project_reference is not None:
        out.append(
            f"<ram:SpecifiedProcuringProject><ram:ID>{_escape(invoice.project_reference)}</ram:ID>"
            f"<ram:Name>{_PROJECT_NAME}</ram:Name></ram:SpecifiedProcuringProject>"
        )
    out.append("</ram:ApplicableHeaderTradeAgreement>")


def _delivery(out: list[str], invoice: Invoice) -> None:
    out.append("<ram:ApplicableHeaderTradeDelivery>")
    delivery = invoice.delivery
    if delivery is not None:
        _ship_to(out, delivery)
        if delivery.actual_delivery_date is not None:
            out.append("<ram:ActualDeliverySupplyChainEvent>")
            _date_element(out, "OccurrenceDateTime", delivery.actual_delivery_date)
            out.append("</ram:ActualDeliverySupplyChainEvent>")
    _reference(out, "DespatchAdviceReferencedDocument", invoice.despatch_advice_reference)
    _reference(out, "ReceivingAdviceReferencedDocument", invoice.receiving_advice_reference)
    out.append("</ram:ApplicableHeaderTradeDelivery>")


def _ship_to(out: list[str], delivery: Delivery) -> None:
    """ShipToTradeParty; also written empty for an otherwise empty delivery group."""
    has_party = delivery.party_name is not None or delivery.location_identifier is not None or delivery.address is not None
    if not has_party and (delivery.actual_delivery_date is not None or delivery.invoicing_period is not None):
        return
    out.append("<ram:ShipToTradeParty>")
    if delivery.location_identifier is not None:
        tag = "ID" if delivery.location_identifier.scheme is None else "GlobalID"
        _identifier_element(out, tag, delivery.location_identifier)
    _leaf(out, "Name", delivery.party_name)
    _address(out, delivery.address)
    out.append("</ram:ShipToTradeParty>")


def _payee(out: list[str], invoice: Invoice) -> None:
    payee = invoice.payee
    if payee is None:
        return
    out.append("<ram:PayeeTradeParty>")
    _party_identifiers(out, [payee.identifier] if payee.identifier is not None else [])
    _leaf(out, "Name", payee.name)
    _legal_organization(out, payee.legal_registration_identifier, None)
    out.append("</ram:PayeeTradeParty>")


def _payment_means_elements(out: list[str], instructions: PaymentInstructions) -> None:
    """One SpecifiedTradeSettlementPaymentMeans per account, as CII has one account per means."""
    transfers = instructions.credit_transfers or [None]
    debit = instructions.direct_debit
    for index, transfer in enumerate(transfers):
        out.append("<ram:SpecifiedTradeSettlementPaymentMeans>")
        _leaf(out, "TypeCode", instructions.means_type_code)
        _leaf(out, "Information", instructions.means_text)
        if index == 0:
            card = instructions.card
            if card is not None:
                out.append("<ram:ApplicableTradeSettlementFinancialCard>")
                _leaf(out, "ID", card.primary_account_number)
                _leaf(out, "CardholderName", card.holder_name)
                out.append("</ram:ApplicableTradeSettlementFinancialCard>")
            if debit is not None and (debit.debited_account_identifier is not None or _empty_debit(debit)):
                out.append("<ram:PayerPartyDebtorFinancialAccount>")
                _leaf(out, "IBANID", debit.debited_account_identifier)
                out.append("</ram:PayerPartyDebtorFinancialAccount>")
        if transfer is not None:
            _creditor_account(out, transfer)
        out.append("</ram:SpecifiedTradeSettlementPaymentMeans>")


def _empty_debit(debit: Any) -> bool:
    return debit.mandate_reference is None and debit.creditor_identifier is None and debit.debited_account_identifier is None


_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9 ]{8,34}")


def _creditor_account(out: list[str], transfer: Any) -> None:
    """BT-84 is an IBANID when it looks like an IBAN, a ProprietaryID otherwise."""
    account = transfer.account_identifier
    if account is not None or transfer.account_name is not None or transfer.service_provider_identifier is None:
        out.append("<ram:PayeePartyCreditorFinancialAccount>")
        is_iban = account is not None and _IBAN.fullmatch(account) is not None
        _leaf(out, "IBANID", account if is_iban else None)
        _leaf(out, "AccountName", transfer.account_name)
        _leaf(out, "ProprietaryID", None if is_iban else account)
        out.append("</ram:PayeePartyCreditorFinancialAccount>")
    _reference(out, "PayeeSpecifiedCreditorFinancialInstitution", transfer.service_provider_identifier, "BICID")


def _vat_breakdown(out: list[str], breakdown: VatBreakdown, invoice: Invoice, *, first: bool) -> None:
    """One VAT breakdown; BT-7 goes in the first only (the binding allows one, CII-SR-461)."""
    out.append("<ram:ApplicableTradeTax>")
    _number(out, "CalculatedAmount", breakdown.tax_amount)
    out.append("<ram:TypeCode>VAT</ram:TypeCode>")
    _leaf(out, "ExemptionReason", breakdown.exemption_reason)
    _number(out, "BasisAmount", breakdown.taxable_amount)
    _leaf(out, "CategoryCode", breakdown.category_code)
    _leaf(out, "ExemptionReasonCode", breakdown.exemption_reason_code)
    _date_element(out, "TaxPointDate", invoice.vat_point_date if first else None, "udt:DateString")
    code = invoice.vat_point_date_code
    _leaf(out, "DueDateTypeCode", None if code is None else VAT_POINT_TO_CII.get(code, code))
    _number(out, "RateApplicablePercent", breakdown.rate)
    out.append("</ram:ApplicableTradeTax>")


def _period(out: list[str], period: Any) -> None:
    if period is None:
        return
    out.append("<ram:BillingSpecifiedPeriod>")
    _date_element(out, "StartDateTime", period.start_date)
    _date_element(out, "EndDateTime", period.end_date)
    out.append("</ram:BillingSpecifiedPeriod>")


def _write_allowance_charge(out: list[str], entry: Any, charge: bool, document_level: bool) -> None:
    out.append("<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator>")
    out.append("<udt:Indicator>true</udt:Indicator>" if charge else "<udt:Indicator>false</udt:Indicator>")
    out.append("</ram:ChargeIndicator>")
    _number(out, "CalculationPercent", entry.percentage)
    _number(out, "BasisAmount", entry.base_amount)
    _number(out, "ActualAmount", entry.amount)
    _leaf(out, "ReasonCode", entry.reason_code)
    _leaf(out, "Reason", entry.reason)
    if document_level:
        out.append("<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode>")
        _leaf(out, "CategoryCode", entry.vat_category_code)
        _number(out, "RateApplicablePercent", entry.vat_rate)
        out.append("</ram:CategoryTradeTax>")
    out.append("</ram:SpecifiedTradeAllowanceCharge>")


def _payment_terms(out: list[str], invoice: Invoice) -> None:
    instructions = invoice.payment_instructions
    debit = instructions.direct_debit if instructions is not None else None
    mandate = debit.mandate_reference if debit is not None else None
    if invoice.payment_terms is None and invoice.due_date is None and mandate is None:
        return
    out.append("<ram:SpecifiedTradePaymentTerms>")
    _leaf(out, "Description", invoice.payment_terms)
    _date_element(out, "DueDateDateTime", invoice.due_date)
    _leaf(out, "DirectDebitMandateID", mandate)
    out.append("</ram:SpecifiedTradePaymentTerms>")


def _totals(out: list[str], invoice: Invoice) -> None:
    totals: DocumentTotals | None = invoice.totals
    if totals is None:
        return
    out.append("<ram:SpecifiedTradeSettlementHeaderMonetarySummation>")
    _number(out, "LineTotalAmount", totals.line_net_amount)
    _number(out, "ChargeTotalAmount", totals.charge_total_amount)
    _number(out, "AllowanceTotalAmount", totals.allowance_total_amount)
    _number(out, "TaxBasisTotalAmount", totals.amount_without_vat)
    _number(out, "TaxTotalAmount", totals.vat_amount, _attributes(currencyID=invoice.currency_code))
    accounting_currency = invoice.vat_accounting_currency_code
    _number(out, "TaxTotalAmount", totals.vat_amount_in_accounting_currency, _attributes(currencyID=accounting_currency))
    _number(out, "RoundingAmount", totals.rounding_amount)
    _number(out, "GrandTotalAmount", totals.amount_with_vat)
    _number(out, "TotalPrepaidAmount", totals.paid_amount)
    _number(out, "DuePayableAmount", totals.amount_due_for_payment)
    out.append("</ram:SpecifiedTradeSettlementHeaderMonetarySummation>")


def _settlement(out: list[str], invoice: Invoice) -> None:
    out.append("<ram:ApplicableHeaderTradeSettlement>")
    instructions = invoice.payment_instructions
    debit = instructions.direct_debit if instructions is not None else None
    if debit is not None:
        _leaf(out, "CreditorReferenceID", debit.creditor_identifier)
    if instructions is not None:
        _leaf(out, "PaymentReference", instructions.remittance_information)
    _leaf(out, "TaxCurrencyCode", invoice.vat_accounting_currency_code)
    _leaf(out, "InvoiceCurrencyCode", invoice.currency_code)
    _payee(out, invoice)
    if instructions is not None and _has_means(instructions):
        _payment_means_elements(out, instructions)
    for number, breakdown in enumerate(invoice.vat_breakdown):
        _vat_breakdown(out, breakdown, invoice, first=number == 0)
    _period(out, invoice.delivery.invoicing_period if invoice.delivery is not None else None)
    for allowance in invoice.allowances:
        _write_allowance_charge(out, allowance, False, True)
    for charge in invoice.charges:
        _write_allowance_charge(out, charge, True, True)
    _payment_terms(out, invoice)
    _totals(out, invoice)
    for preceding in invoice.preceding_invoices:
        out.append("<ram:InvoiceReferencedDocument>")
        _leaf(out, "IssuerAssignedID", preceding.reference)
        _date_element(out, "FormattedIssueDateTime", preceding.issue_date, "qdt:DateTimeString")
        out.append("</ram:InvoiceReferencedDocument>")
    _reference(out, "ReceivableSpecifiedTradeAccountingAccount", invoice.buyer_accounting_reference, "ID")
    out.append("</ram:ApplicableHeaderTradeSettlement>")


def _has_means(instructions: PaymentInstructions) -> bool:
    """Whether a payment means element is needed (else the group lives elsewhere in CII)."""
    debit = instructions.direct_debit
    return (
        instructions.means_type_code is not None
        or instructions.means_text is not None
        or bool(instructions.credit_transfers)
        or instructions.card is not None
        or (debit is not None and (debit.debited_account_identifier is not None or _empty_debit(debit)))
        or (instructions.remittance_information is None and debit is None)
    )


def _item(out: list[str], item: Item | None) -> None:
    if item is None:
        return
    out.append("<ram:SpecifiedTradeProduct>")
    _identifier_element(out, "GlobalID", item.standard_identifier)
    _leaf(out, "SellerAssignedID", item.sellers_identifier)
    _leaf(out, "BuyerAssignedID", item.buyers_identifier)
    _leaf(out, "Name", item.name)
    _leaf(out, "Description", item.description)
    for attribute in item.attributes:
        out.append("<ram:ApplicableProductCharacteristic>")
        _leaf(out, "Description", attribute.name)
        _leaf(out, "Value", attribute.value)
        out.append("</ram:ApplicableProductCharacteristic>")
    for classification in item.classification_identifiers:
        attributes = _attributes(listID=classification.scheme, listVersionID=classification.scheme_version)
        out.append("<ram:DesignatedProductClassification>")
        out.append(f"<ram:ClassCode{attributes}>{_escape(classification.value or '')}</ram:ClassCode>")
        out.append("</ram:DesignatedProductClassification>")
    _reference(out, "OriginTradeCountry", item.country_of_origin, "ID")
    out.append("</ram:SpecifiedTradeProduct>")


def _price(out: list[str], price: PriceDetails | None) -> None:
    if price is None:
        return
    base = _attributes(unitCode=price.base_quantity_unit_code)
    has_base = price.base_quantity is not None or price.base_quantity_unit_code is not None
    if price.gross_price is not None or price.discount is not None:
        # A discount without a gross price (BT-147 without BT-148) has no schema-valid
        # CII form: ChargeAmount is mandatory. It is written without, so no term is lost.
        out.append("<ram:GrossPriceProductTradePrice>")
        _number(out, "ChargeAmount", price.gross_price)
        if has_base and price.gross_price is not None:
            out.append(f"<ram:BasisQuantity{base}>{_format(price.base_quantity)}</ram:BasisQuantity>")
        if price.discount is not None:
            out.append(
                "<ram:AppliedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>"
                f"<ram:ActualAmount>{price.discount:f}</ram:ActualAmount></ram:AppliedTradeAllowanceCharge>"
            )
        out.append("</ram:GrossPriceProductTradePrice>")
    out.append("<ram:NetPriceProductTradePrice>")
    _number(out, "ChargeAmount", price.net_price)
    if has_base:
        out.append(f"<ram:BasisQuantity{base}>{_format(price.base_quantity)}</ram:BasisQuantity>")
    out.append("</ram:NetPriceProductTradePrice>")


def _format(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _line(out: list[str], line: InvoiceLine) -> None:
    out.append("<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>")
    _leaf(out, "LineID", line.identifier)
    _reference(out, "IncludedNote", line.note, "Content")
    out.append("</ram:AssociatedDocumentLineDocument>")
    _item(out, line.item)
    out.append("<ram:SpecifiedLineTradeAgreement>")
    _reference(out, "BuyerOrderReferencedDocument", line.order_line_reference, "LineID")
    _price(out, line.price)
    out.append("</ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery>")
    if line.quantity is not None or line.quantity_unit_code is not None:
        unit = _attributes(unitCode=line.quantity_unit_code)
        out.append(f"<ram:BilledQuantity{unit}>{_format(line.quantity)}</ram:BilledQuantity>")
    out.append("</ram:SpecifiedLineTradeDelivery><ram:SpecifiedLineTradeSettlement>")
    if line.vat is not None:
        out.append("<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>")
        _leaf(out, "CategoryCode", line.vat.category_code)
        _number(out, "RateApplicablePercent", line.vat.rate)
        out.append("</ram:ApplicableTradeTax>")
    _period(out, line.period)
    for allowance in line.allowances:
        _write_allowance_charge(out, allowance, False, False)
    for charge in line.charges:
        _write_allowance_charge(out, charge, True, False)
    out.append("<ram:SpecifiedTradeSettlementLineMonetarySummation>")
    _number(out, "LineTotalAmount", line.net_amount)
    out.append("</ram:SpecifiedTradeSettlementLineMonetarySummation>")
    _object_reference(out, line.object_identifier)
    _reference(out, "ReceivableSpecifiedTradeAccountingAccount", line.buyer_accounting_reference, "ID")
    out.append("</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>")


def _header(out: list[str], invoice: Invoice) -> None:
    out.append("<rsm:ExchangedDocumentContext>")
    control = invoice.process_control
    if control is not None:
        _reference(out, "BusinessProcessSpecifiedDocumentContextParameter", control.business_process_type, "ID")
        out.append("<ram:GuidelineSpecifiedDocumentContextParameter>")
        _leaf(out, "ID", control.specification_identifier)
        out.append("</ram:GuidelineSpecifiedDocumentContextParameter>")
    out.append("</rsm:ExchangedDocumentContext><rsm:ExchangedDocument>")
    _leaf(out, "ID", invoice.number)
    _leaf(out, "TypeCode", invoice.type_code)
    _date_element(out, "IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        out.append("<ram:IncludedNote>")
        _leaf(out, "Content", note.text)
        _leaf(out, "SubjectCode", note.subject_code)
        out.append("</ram:IncludedNote>")
    out.append("</rsm:ExchangedDocument>")


def write_cii(invoice: Invoice) -> bytes:
    """Write the invoice as CII D16B, elements in schema order, UTF-8."""
    out = [_ROOT_OPEN]
    _header(out, invoice)
    out.append("<rsm:SupplyChainTradeTransaction>")
    for line in invoice.lines:
        _line(out, line)
    _agreement(out, invoice)
    _delivery(out, invoice)
    _settlement(out, invoice)
    out.append("</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>\n")
    text = "".join(out)
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise InvoiceWriteError(f"the invoice holds a character XML cannot carry: U+{ord(bad.group()):04X}")
    return text.encode("utf-8")
