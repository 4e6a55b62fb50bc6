"""Write the EN 16931 model as UBL 2.1 Invoice or CreditNote, valid against the UBL 2.1 XSD.

Each function writes one UBL aggregate, its children in the order of the
schema's sequence. Amounts carry currencyID = BT-5 (BT-111: BT-6). Business
terms are written where the EN 16931 UBL binding (EN 16931-3-2) puts them;
nothing outside the model is invented except what the schema requires and
EN 16931 has no term for: the TaxScheme ID (VAT, or TAX for the seller's
local tax registration), the DocumentTypeCode 130 of object identifiers,
ChargeIndicator, an order reference "NA" when only the sales order (BT-14)
is known, and a card's NetworkID "NA".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from aiguillage.model.errors import InvoiceWriteError
from aiguillage.model.invoice import (
    Buyer,
    DeliverToAddress,
    DocumentTotals,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    PaymentInstructions,
    Seller,
    SupportingDocument,
)
from aiguillage.model.ubl_common import (
    CAC_NS,
    CBC_NS,
    CREDIT_NOTE_NS,
    CREDIT_NOTE_TYPE_CODES,
    INVOICE_NS,
)

_SubElement = etree.SubElement


class _Tags:
    """`B.ID` -> `{cbc namespace}ID`, computed once per name then a plain attribute."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{{{namespace}}}"

    def __getattr__(self, name: str) -> str:
        tag = self._prefix + name
        setattr(self, name, tag)
        return tag


B = _Tags(CBC_NS)
A = _Tags(CAC_NS)


def _text(value: Any) -> str:
    """XML text of a model value: Decimal without exponent, ISO date, string as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decimal(value: Decimal) -> str:
    """An xs:decimal as the model holds it (100.00 stays 100.00; 1E+2 becomes 100)."""
    if not value.is_finite():
        raise InvoiceWriteError(f"{value} is not a number UBL can carry")
    return format(value, "f")


def _leaf(parent: Any, tag: str, value: Any, attrib: dict[str, str | None] | None = None) -> Any:
    """A basic element with text, or nothing when the value is None."""
    if value is None:
        return None
    el = _SubElement(parent, tag)
    el.text = _text(value)
    if attrib:
        for name, attr in attrib.items():
            if attr is not None:
                el.set(name, attr)
    return el


def _ident(parent: Any, tag: str, ident: Identifier | None) -> None:
    if ident is not None:
        _leaf(parent, tag, ident.value or "", {"schemeID": ident.scheme})


def _any(*values: Any) -> bool:
    return any(v is not None for v in values)


class _Writer:
    """Writes one invoice; holds the currencies every amount needs."""

    def __init__(self, invoice: Invoice, credit_note: bool) -> None:
        self.inv = invoice
        self.credit_note = credit_note
        self.currency = invoice.currency_code

    def amount(self, parent: Any, tag: str, value: Decimal | None, currency: str | None = None) -> None:
        if value is not None:
            el = _SubElement(parent, tag)
            el.text = _decimal(value)
            currency = currency or self.currency
            if currency is not None:
                el.set("currencyID", currency)

    # ------------------------------------------------------------------ document

    def document(self) -> Any:
        inv = self.inv
        if self.credit_note:
            root = etree.Element(f"{{{CREDIT_NOTE_NS}}}CreditNote", nsmap={None: CREDIT_NOTE_NS, "cac": CAC_NS, "cbc": CBC_NS})
        else:
            root = etree.Element(f"{{{INVOICE_NS}}}Invoice", nsmap={None: INVOICE_NS, "cac": CAC_NS, "cbc": CBC_NS})
        pc = inv.process_control
        if pc is not None:
            _leaf(root, B.CustomizationID, pc.specification_identifier)
            _leaf(root, B.ProfileID, pc.business_process_type)
        _leaf(root, B.ID, inv.number)
        _leaf(root, B.IssueDate, inv.issue_date)
        if self.credit_note:
            _leaf(root, B.TaxPointDate, inv.vat_point_date)
            _leaf(root, B.CreditNoteTypeCode, inv.type_code)
            self.notes(root)
        else:
            _leaf(root, B.DueDate, inv.due_date)
            _leaf(root, B.InvoiceTypeCode, inv.type_code)
            self.notes(root)
            _leaf(root, B.TaxPointDate, inv.vat_point_date)
        _leaf(root, B.DocumentCurrencyCode, inv.currency_code)
        _leaf(root, B.TaxCurrencyCode, inv.vat_accounting_currency_code)
        _leaf(root, B.AccountingCost, inv.buyer_accounting_reference)
        _leaf(root, B.BuyerReference, inv.buyer_reference)
        self.invoice_period(root)
        self.references(root)
        self.seller(root)
        self.buyer(root)
        self.payee(root)
        self.tax_representative(root)
        self.delivery(root)
        self.payment_means(root)
        if inv.payment_terms is not None:
            _leaf(_SubElement(root, A.PaymentTerms), B.Note, inv.payment_terms)
        for allowance in inv.allowances:
            self.document_allowance_charge(root, "false", allowance)
        for charge in inv.charges:
            self.document_allowance_charge(root, "true", charge)
        self.tax_totals(root)
        self.monetary_total(root, inv.totals)
        for line in inv.lines:
            self.line(root, line)
        return root

    def notes(self, root: Any) -> None:
        for note in self.inv.notes:
            text = note.text or ""
            if note.subject_code is not None:
                text = f"#{note.subject_code}#{text}"
            _leaf(root, B.Note, text)

    def invoice_period(self, root: Any) -> None:
        inv = self.inv
        period = inv.delivery.invoicing_period if inv.delivery is not None else None
        if period is None and inv.vat_point_date_code is None:
            return
        el = _SubElement(root, A.InvoicePeriod)
        if period is not None:
            _leaf(el, B.StartDate, period.start_date)
            _leaf(el, B.EndDate, period.end_date)
        _leaf(el, B.DescriptionCode, inv.vat_point_date_code)

    def references(self, root: Any) -> None:
        """OrderReference … ProjectReference, in the order of the Invoice or CreditNote schema."""
        inv = self.inv
        if _any(inv.order_reference, inv.sales_order_reference):
            el = _SubElement(root, A.OrderReference)
            _leaf(el, B.ID, inv.order_reference if inv.order_reference is not None else "NA")
            _leaf(el, B.SalesOrderID, inv.sales_order_reference)
        for preceding in inv.preceding_invoices:
            ref = _SubElement(_SubElement(root, A.BillingReference), A.InvoiceDocumentReference)
            _leaf(ref, B.ID, preceding.reference)
            _leaf(ref, B.IssueDate, preceding.issue_date)
        self.document_reference(root, A.DespatchDocumentReference, inv.despatch_advice_reference)
        self.document_reference(root, A.ReceiptDocumentReference, inv.receiving_advice_reference)
        if not self.credit_note:
            self.document_reference(root, A.OriginatorDocumentReference, inv.tender_reference)
        self.document_reference(root, A.ContractDocumentReference, inv.contract_reference)
        self.additional_documents(root)
        if self.credit_note:
            self.document_reference(root, A.OriginatorDocumentReference, inv.tender_reference)
        else:
            self.document_reference(root, A.ProjectReference, inv.project_reference)

    @staticmethod
    def document_reference(root: Any, tag: str, value: str | None) -> None:
        if value is not None:
            _leaf(_SubElement(root, tag), B.ID, value)

    def additional_documents(self, root: Any) -> None:
        """BT-18 (type 130), BT-11 of a credit note (type 50), then BG-24."""
        inv = self.inv
        if inv.invoiced_object_identifier is not None:
            el = _SubElement(root, A.AdditionalDocumentReference)
            _ident(el, B.ID, inv.invoiced_object_identifier)
            _leaf(el, B.DocumentTypeCode, "130")
        if self.credit_note and inv.project_reference is not None:
            el = _SubElement(root, A.AdditionalDocumentReference)
            _leaf(el, B.ID, inv.project_reference)
            _leaf(el, B.DocumentTypeCode, "50")
        for document in inv.supporting_documents:
            self.supporting_document(root, document)

    @staticmethod
    def supporting_document(root: Any, document: SupportingDocument) -> None:
        el = _SubElement(root, A.AdditionalDocumentReference)
        _leaf(el, B.ID, document.reference)
        _leaf(el, B.DocumentDescription, document.description)
        attachment = document.attachment
        if attachment is None and document.external_location is None:
            return
        holder = _SubElement(el, A.Attachment)
        if attachment is not None:
            _leaf(holder, B.EmbeddedDocumentBinaryObject, attachment.content or "", {"mimeCode": attachment.mime_code, "filename": attachment.filename})
        if document.external_location is not None:
            _leaf(_SubElement(holder, A.ExternalReference), B.URI, document.external_location)

    # ------------------------------------------------------------------ parties

    def seller(self, root: Any) -> None:
        seller = self.inv.seller
        creditor = self.creditor_identifier()
        if seller is None and creditor is None:
            return
        seller = seller or Seller()
        party = _SubElement(_SubElement(root, A.AccountingSupplierParty), A.Party)
        _ident(party, B.EndpointID, seller.electronic_address)
        for ident in seller.identifiers:
            _ident(_SubElement(party, A.PartyIdentification), B.ID, ident)
        if creditor is not None:
            _leaf(_SubElement(party, A.PartyIdentification), B.ID, creditor, {"schemeID": "SEPA"})
        self.party_name(party, seller.trading_name)
        self.address(party, A.PostalAddress, seller.postal_address)
        self.party_tax_scheme(party, seller.vat_identifier, "VAT")
        self.party_tax_scheme(party, seller.tax_registration_identifier, "TAX")
        if _any(seller.name, seller.legal_registration_identifier, seller.additional_legal_information):
            entity = _SubElement(party, A.PartyLegalEntity)
            _leaf(entity, B.RegistrationName, seller.name)
            _ident(entity, B.CompanyID, seller.legal_registration_identifier)
            _leaf(entity, B.CompanyLegalForm, seller.additional_legal_information)
        self.contact(party, seller.contact)

    def creditor_identifier(self) -> str | None:
        pi = self.inv.payment_instructions
        if pi is None or pi.direct_debit is None:
            return None
        return pi.direct_debit.creditor_identifier

    def buyer(self, root: Any) -> None:
        buyer: Buyer | None = self.inv.buyer
        if buyer is None:
            return
        party = _SubElement(_SubElement(root, A.AccountingCustomerParty), A.Party)
        _ident(party, B.EndpointID, buyer.electronic_address)
        if buyer.identifier is not None:
            _ident(_SubElement(party, A.PartyIdentification), B.ID, buyer.identifier)
        self.party_name(party, buyer.trading_name)
        self.address(party, A.PostalAddress, buyer.postal_address)
        self.party_tax_scheme(party, buyer.vat_identifier, "VAT")
        if _any(buyer.name, buyer.legal_registration_identifier):
            entity = _SubElement(party, A.PartyLegalEntity)
            _leaf(entity, B.RegistrationName, buyer.name)
            _ident(entity, B.CompanyID, buyer.legal_registration_identifier)
        self.contact(party, buyer.contact)

    def payee(self, root: Any) -> None:
        payee = self.inv.payee
        if payee is None:
            return
        party = _SubElement(root, A.PayeeParty)
        if payee.identifier is not None:
            _ident(_SubElement(party, A.PartyIdentification), B.ID, payee.identifier)
        self.party_name(party, payee.name)
        if payee.legal_registration_identifier is not None:
            _ident(_SubElement(party, A.PartyLegalEntity), B.CompanyID, payee.legal_registration_identifier)

    def tax_representative(self, root: Any) -> None:
        rep = self.inv.tax_representative
        if rep is None:
            return
        party = _SubElement(root, A.TaxRepresentativeParty)
        self.party_name(party, rep.name)
        self.address(party, A.PostalAddress, rep.postal_address)
        self.party_tax_scheme(party, rep.vat_identifier, "VAT")

    @staticmethod
    def party_name(party: Any, name: str | None) -> None:
        if name is not None:
            _leaf(_SubElement(party, A.PartyName), B.Name, name)

    @staticmethod
    def party_tax_scheme(party: Any, company_id: str | None, scheme: str) -> None:
        if company_id is not None:
            el = _SubElement(party, A.PartyTaxScheme)
            _leaf(el, B.CompanyID, company_id)
            _leaf(_SubElement(el, A.TaxScheme), B.ID, scheme)

    @staticmethod
    def address(parent: Any, tag: str, address: Any) -> None:
        """Any of the four EN 16931 addresses (BG-5, BG-8, BG-12, BG-15): same fields."""
        if address is None:
            return
        el = _SubElement(parent, tag)
        _leaf(el, B.StreetName, address.line_one)
        _leaf(el, B.AdditionalStreetName, address.line_two)
        _leaf(el, B.CityName, address.city)
        _leaf(el, B.PostalZone, address.post_code)
        _leaf(el, B.CountrySubentity, address.country_subdivision)
        if address.line_three is not None:
            _leaf(_SubElement(el, A.AddressLine), B.Line, address.line_three)
        if address.country_code is not None:
            _leaf(_SubElement(el, A.Country), B.IdentificationCode, address.country_code)

    @staticmethod
    def contact(party: Any, contact: Any) -> None:
        if contact is None:
            return
        el = _SubElement(party, A.Contact)
        _leaf(el, B.Name, contact.point)
        _leaf(el, B.Telephone, contact.telephone)
        _leaf(el, B.ElectronicMail, contact.email)

    # ------------------------------------------------------------------ delivery and payment

    def delivery(self, root: Any) -> None:
        delivery = self.inv.delivery
        if delivery is None:
            return
        address: DeliverToAddress | None = delivery.address
        has_content = _any(delivery.actual_delivery_date, delivery.location_identifier, address, delivery.party_name)
        if not has_content and delivery.invoicing_period is not None:
            return  # only BG-14, written as the root cac:InvoicePeriod
        el = _SubElement(root, A.Delivery)
        _leaf(el, B.ActualDeliveryDate, delivery.actual_delivery_date)
        if delivery.location_identifier is not None or address is not None:
            location = _SubElement(el, A.DeliveryLocation)
            _ident(location, B.ID, delivery.location_identifier)
            self.address(location, A.Address, address)
        if delivery.party_name is not None:
            name = _SubElement(_SubElement(el, A.DeliveryParty), A.PartyName)
            _leaf(name, B.Name, delivery.party_name)

    def payment_means(self, root: Any) -> None:
        """One cac:PaymentMeans per account (BG-17); the rest of BG-16 is on each, @name on the first."""
        pi: PaymentInstructions | None = self.inv.payment_instructions
        due = self.inv.due_date if self.credit_note else None
        if pi is None:
            if due is not None:
                _leaf(_SubElement(root, A.PaymentMeans), B.PaymentDueDate, due)
            return
        mandate = pi.direct_debit
        has_mandate = mandate is not None and _any(mandate.mandate_reference, mandate.debited_account_identifier)
        if not (_any(pi.means_type_code, pi.means_text, pi.remittance_information, pi.card, due) or pi.credit_transfers or has_mandate):
            return
        for index, account in enumerate(pi.credit_transfers or [None]):
            first = index == 0
            el = _SubElement(root, A.PaymentMeans)
            _leaf(el, B.PaymentMeansCode, pi.means_type_code, {"name": pi.means_text if first else None})
            if first:
                _leaf(el, B.PaymentDueDate, due)
            _leaf(el, B.PaymentID, pi.remittance_information)
            if first and pi.card is not None:
                card = _SubElement(el, A.CardAccount)
                _leaf(card, B.PrimaryAccountNumberID, pi.card.primary_account_number or "")
                _leaf(card, B.NetworkID, "NA")
                _leaf(card, B.HolderName, pi.card.holder_name)
            if account is not None:
                financial = _SubElement(el, A.PayeeFinancialAccount)
                _leaf(financial, B.ID, account.account_identifier)
                _leaf(financial, B.Name, account.account_name)
                if account.service_provider_identifier is not None:
                    _leaf(_SubElement(financial, A.FinancialInstitutionBranch), B.ID, account.service_provider_identifier)
            if first and has_mandate:
                element = _SubElement(el, A.PaymentMandate)
                _leaf(element, B.ID, mandate.mandate_reference)
                if mandate.debited_account_identifier is not None:
                    _leaf(_SubElement(element, A.PayerFinancialAccount), B.ID, mandate.debited_account_identifier)

    # ------------------------------------------------------------------ allowances, taxes, totals

    def document_allowance_charge(self, root: Any, indicator: str, item: Any) -> None:
        el = self.allowance_charge(root, indicator, item)
        if _any(item.vat_category_code, item.vat_rate):
            category = _SubElement(el, A.TaxCategory)
            _leaf(category, B.ID, item.vat_category_code)
            _leaf(category, B.Percent, item.vat_rate)
            _leaf(_SubElement(category, A.TaxScheme), B.ID, "VAT")

    def allowance_charge(self, parent: Any, indicator: str, item: Any) -> Any:
        el = _SubElement(parent, A.AllowanceCharge)
        _leaf(el, B.ChargeIndicator, indicator)
        _leaf(el, B.AllowanceChargeReasonCode, item.reason_code)
        _leaf(el, B.AllowanceChargeReason, item.reason)
        _leaf(el, B.MultiplierFactorNumeric, item.percentage)
        self.amount(el, B.Amount, item.amount)
        self.amount(el, B.BaseAmount, item.base_amount)
        return el

    def tax_totals(self, root: Any) -> None:
        inv = self.inv
        totals = inv.totals
        vat = totals.vat_amount if totals is not None else None
        if vat is not None or inv.vat_breakdown:
            el = _SubElement(root, A.TaxTotal)
            self.amount(el, B.TaxAmount, vat)
            for breakdown in inv.vat_breakdown:
                sub = _SubElement(el, A.TaxSubtotal)
                self.amount(sub, B.TaxableAmount, breakdown.taxable_amount)
                self.amount(sub, B.TaxAmount, breakdown.tax_amount)
                category = _SubElement(sub, A.TaxCategory)
                _leaf(category, B.ID, breakdown.category_code)
                _leaf(category, B.Percent, breakdown.rate)
                _leaf(category, B.TaxExemptionReasonCode, breakdown.exemption_reason_code)
                _leaf(category, B.TaxExemptionReason, breakdown.exemption_reason)
                _leaf(_SubElement(category, A.TaxScheme), B.ID, "VAT")
        accounting = totals.vat_amount_in_accounting_currency if totals is not None else None
        if accounting is not None:
            el = _SubElement(root, A.TaxTotal)
            self.amount(el, B.TaxAmount, accounting, inv.vat_accounting_currency_code)

    def monetary_total(self, root: Any, totals: DocumentTotals | None) -> None:
        if totals is None:
            return
        el = _SubElement(root, A.LegalMonetaryTotal)
        amount = self.amount
        amount(el, B.LineExtensionAmount, totals.line_net_amount)
        amount(el, B.TaxExclusiveAmount, totals.amount_without_vat)
        amount(el, B.TaxInclusiveAmount, totals.amount_with_vat)
        amount(el, B.AllowanceTotalAmount, totals.allowance_total_amount)
        amount(el, B.ChargeTotalAmount, totals.charge_total_amount)
        amount(el, B.PrepaidAmount, totals.paid_amount)
        amount(el, B.PayableRoundingAmount, totals.rounding_amount)
        amount(el, B.PayableAmount, totals.amount_due_for_payment)

    # ------------------------------------------------------------------ lines

    def line(self, root: Any, line: InvoiceLine) -> None:
        if self.credit_note:
            el = _SubElement(root, A.CreditNoteLine)
            quantity_tag = B.CreditedQuantity
        else:
            el = _SubElement(root, A.InvoiceLine)
            quantity_tag = B.InvoicedQuantity
        _leaf(el, B.ID, line.identifier)
        _leaf(el, B.Note, line.note)
        _leaf(el, quantity_tag, line.quantity, {"unitCode": line.quantity_unit_code})
        self.amount(el, B.LineExtensionAmount, line.net_amount)
        _leaf(el, B.AccountingCost, line.buyer_accounting_reference)
        if line.period is not None:
            period = _SubElement(el, A.InvoicePeriod)
            _leaf(period, B.StartDate, line.period.start_date)
            _leaf(period, B.EndDate, line.period.end_date)
        if line.order_line_reference is not None:
            _leaf(_SubElement(el, A.OrderLineReference), B.LineID, line.order_line_reference)
        if line.object_identifier is not None:
            reference = _SubElement(el, A.DocumentReference)
            _ident(reference, B.ID, line.object_identifier)
            _leaf(reference, B.DocumentTypeCode, "130")
        for allowance in line.allowances:
            self.allowance_charge(el, "false", allowance)
        for charge in line.charges:
            self.allowance_charge(el, "true", charge)
        if line.item is not None or line.vat is not None:
            self.item(el, line.item or Item(), line)
        self.price(el, line)

    def item(self, parent: Any, item: Item, line: InvoiceLine) -> None:
        el = _SubElement(parent, A.Item)
        _leaf(el, B.Description, item.description)
        _leaf(el, B.Name, item.name)
        if item.buyers_identifier is not None:
            _leaf(_SubElement(el, A.BuyersItemIdentification), B.ID, item.buyers_identifier)
        if item.sellers_identifier is not None:
            _leaf(_SubElement(el, A.SellersItemIdentification), B.ID, item.sellers_identifier)
        if item.standard_identifier is not None:
            _ident(_SubElement(el, A.StandardItemIdentification), B.ID, item.standard_identifier)
        if item.country_of_origin is not None:
            _leaf(_SubElement(el, A.OriginCountry), B.IdentificationCode, item.country_of_origin)
        for code in item.classification_identifiers:
            attrib = {"listID": code.scheme, "listVersionID": code.scheme_version}
            _leaf(_SubElement(el, A.CommodityClassification), B.ItemClassificationCode, code.value or "", attrib)
        if line.vat is not None:
            category = _SubElement(el, A.ClassifiedTaxCategory)
            _leaf(category, B.ID, line.vat.category_code)
            _leaf(category, B.Percent, line.vat.rate)
            _leaf(_SubElement(category, A.TaxScheme), B.ID, "VAT")
        for attribute in item.attributes:
            prop = _SubElement(el, A.AdditionalItemProperty)
            _leaf(prop, B.Name, attribute.name)
            _leaf(prop, B.Value, attribute.value)

    def price(self, parent: Any, line: InvoiceLine) -> None:
        price = line.price
        if price is None:
            return
        el = _SubElement(parent, A.Price)
        self.amount(el, B.PriceAmount, price.net_price)
        _leaf(el, B.BaseQuantity, price.base_quantity, {"unitCode": price.base_quantity_unit_code})
        if _any(price.discount, price.gross_price):
            allowance = _SubElement(el, A.AllowanceCharge)
            _leaf(allowance, B.ChargeIndicator, "false")
            self.amount(allowance, B.Amount, price.discount)
            self.amount(allowance, B.BaseAmount, price.gross_price)


def is_credit_note(invoice: Invoice) -> bool:
    """CreditNote for a credit-note type code (UNTDID 1001), or a UBL CreditNote source."""
    provenance = invoice.provenance
    if provenance is not None and provenance.syntax == "ubl" and provenance.root == "CreditNote":
        return True
    code = invoice.type_code
    return code is not None and code.strip() in CREDIT_NOTE_TYPE_CODES


def write_ubl(invoice: Invoice) -> bytes:
    """The invoice as UBL 2.1 XML bytes (UTF-8, with declaration).

    Raises `InvoiceWriteError` for what XML cannot carry (control characters,
    a Decimal NaN); missing business data is written as missing.
    """
    try:
        root = _Writer(invoice, is_credit_note(invoice)).document()
    except ValueError as exc:  # lxml: "All strings must be XML compatible"
        if isinstance(exc, InvoiceWriteError):
            raise
        raise InvoiceWriteError(f"cannot write UBL: {exc}") from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
