"""The EN 16931 semantic invoice (EN 16931-1:2017 + A1:2019), in pydantic v2.

One model whatever the syntax the invoice came in. Every business term
BT-1 … BT-165 and group BG-1 … BG-32 is a field named in words; its id, data
type and cardinality are field metadata (see `terms.py`), from which the field
catalogue (`catalogue.py`) is derived.

Nothing here is required: partial documents (the official unit tests are
fragments) must read, and judging missing or wrong data is the rulesets' job.
Money, quantities and percentages are `Decimal` as written ("100.00" stays
two decimals); dates are `date`. What the XML said that this model cannot hold
is kept beside it as syntax facts (`facts.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from aiguillage.model.facts import Provenance, SyntaxFact
from aiguillage.model.terms import binding, binding_group, extended, group, term


class Part(BaseModel):
    """Base of every model class: unknown fields are an error, assignment is cheap."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)


# --------------------------------------------------------------------------- values


class Identifier(Part):
    """An identifier with its optional identification scheme (e.g. 0088 for GLN)."""

    value: str | None = None
    scheme: str | None = None
    scheme_version: str | None = None


class BinaryObject(Part):
    """An attached document (BT-125), kept base64-encoded exactly as received."""

    content: str | None = None
    mime_code: str | None = None
    filename: str | None = None


# --------------------------------------------------------------------------- shared groups
# Several groups have the same shape but different BT ids per context (seller
# address BG-5 is BT-35…BT-40, buyer address BG-8 is BT-50…BT-55). Each context
# gets its own class so the metadata is exact.


class SellerPostalAddress(Part):
    """BG-5: the seller's address; the country is what VAT rules depend on."""

    line_one: str | None = term("BT-35", "text", "0..1", "Main address line")
    line_two: str | None = term("BT-36", "text", "0..1", "Additional address line")
    line_three: str | None = term("BT-162", "text", "0..1", "Third address line")
    city: str | None = term("BT-37", "text", "0..1", "City or town")
    post_code: str | None = term("BT-38", "text", "0..1", "Postal code")
    country_subdivision: str | None = term("BT-39", "text", "0..1", "Region, county, state or province")
    country_code: str | None = term("BT-40", "code", "1..1", "Country, ISO 3166-1 alpha-2")


class BuyerPostalAddress(Part):
    """BG-8: the buyer's address."""

    line_one: str | None = term("BT-50", "text", "0..1", "Main address line")
    line_two: str | None = term("BT-51", "text", "0..1", "Additional address line")
    line_three: str | None = term("BT-163", "text", "0..1", "Third address line")
    city: str | None = term("BT-52", "text", "0..1", "City or town")
    post_code: str | None = term("BT-53", "text", "0..1", "Postal code")
    country_subdivision: str | None = term("BT-54", "text", "0..1", "Region, county, state or province")
    country_code: str | None = term("BT-55", "code", "1..1", "Country, ISO 3166-1 alpha-2")


class TaxRepresentativePostalAddress(Part):
    """BG-12: the address of the seller's tax representative."""

    line_one: str | None = term("BT-64", "text", "0..1", "Main address line")
    line_two: str | None = term("BT-65", "text", "0..1", "Additional address line")
    line_three: str | None = term("BT-164", "text", "0..1", "Third address line")
    city: str | None = term("BT-66", "text", "0..1", "City or town")
    post_code: str | None = term("BT-67", "text", "0..1", "Postal code")
    country_subdivision: str | None = term("BT-68", "text", "0..1", "Region, county, state or province")
    country_code: str | None = term("BT-69", "code", "1..1", "Country, ISO 3166-1 alpha-2")


class DeliverToAddress(Part):
    """BG-15: where the goods or services were delivered."""

    line_one: str | None = term("BT-75", "text", "0..1", "Main address line")
    line_two: str | None = term("BT-76", "text", "0..1", "Additional address line")
    line_three: str | None = term("BT-165", "text", "0..1", "Third address line")
    city: str | None = term("BT-77", "text", "0..1", "City or town")
    post_code: str | None = term("BT-78", "text", "0..1", "Postal code")
    country_subdivision: str | None = term("BT-79", "text", "0..1", "Region, county, state or province")
    country_code: str | None = term("BT-80", "code", "1..1", "Country, ISO 3166-1 alpha-2")


class SellerContact(Part):
    """BG-6: who to call at the seller about this invoice."""

    point: str | None = term("BT-41", "text", "0..1", "Contact person or department")
    telephone: str | None = term("BT-42", "text", "0..1", "Telephone number")
    email: str | None = term("BT-43", "text", "0..1", "E-mail address")


class BuyerContact(Part):
    """BG-9: who to call at the buyer about this invoice."""

    point: str | None = term("BT-56", "text", "0..1", "Contact person or department")
    telephone: str | None = term("BT-57", "text", "0..1", "Telephone number")
    email: str | None = term("BT-58", "text", "0..1", "E-mail address")


# --------------------------------------------------------------------------- header groups


class Note(Part):
    """BG-1: free text about the whole invoice, optionally with a subject code."""

    subject_code: str | None = term("BT-21", "code", "0..1", "Subject of the note (UNTDID 4451)")
    text: str | None = term("BT-22", "text", "1..1", "The note itself")


class ProcessControl(Part):
    """BG-2: which business process and which specification (CIUS) the invoice follows."""

    business_process_type: str | None = term("BT-23", "text", "0..1", "Business process the invoice belongs to")
    specification_identifier: str | None = term("BT-24", "identifier", "1..1", "Specification (customisation) the invoice conforms to")


class PrecedingInvoice(Part):
    """BG-3: an earlier invoice this one corrects or refers to."""

    reference: str | None = term("BT-25", "document_reference", "1..1", "Number of the earlier invoice")
    issue_date: date | None = term("BT-26", "date", "0..1", "Issue date of the earlier invoice")
    type_code: str | None = extended(term("EXT-FR-FE-02", "code", "0..1", "Type of the earlier invoice (UNTDID 1001, EXTENDED-CTC-FR)"))


class Seller(Part):
    """BG-4: who sells and invoices."""

    name: str | None = term("BT-27", "text", "1..1", "Registered name of the seller")
    trading_name: str | None = term("BT-28", "text", "0..1", "Name the seller trades under")
    identifiers: list[Identifier] = term("BT-29", "identifier", "0..n", "Seller identifiers (e.g. GLN)")
    legal_registration_identifier: Identifier | None = term("BT-30", "identifier", "0..1", "Company registration number (e.g. SIRET)")
    vat_identifier: str | None = term("BT-31", "identifier", "0..1", "VAT number, with country prefix")
    tax_registration_identifier: str | None = term("BT-32", "identifier", "0..1", "Local tax registration number")
    additional_legal_information: str | None = term("BT-33", "text", "0..1", "Share capital and other legal notes")
    electronic_address: Identifier | None = term("BT-34", "identifier", "0..1", "Where the seller receives e-documents (Peppol id)")
    postal_address: SellerPostalAddress | None = group("BG-5", "1..1", "The seller's address")
    contact: SellerContact | None = group("BG-6", "0..1", "Seller contact")


class Buyer(Part):
    """BG-7: who buys and is invoiced."""

    name: str | None = term("BT-44", "text", "1..1", "Registered name of the buyer")
    trading_name: str | None = term("BT-45", "text", "0..1", "Name the buyer trades under")
    identifier: Identifier | None = term("BT-46", "identifier", "0..1", "Buyer identifier (e.g. GLN)")
    additional_identifiers: list[Identifier] = extended(term("BT-46-REPEATED", "identifier", "0..n", "Further buyer identifiers, after the first (the syntaxes allow several)"))
    legal_registration_identifier: Identifier | None = term("BT-47", "identifier", "0..1", "Company registration number (e.g. SIRET)")
    vat_identifier: str | None = term("BT-48", "identifier", "0..1", "VAT number, with country prefix")
    electronic_address: Identifier | None = term("BT-49", "identifier", "0..1", "Where the buyer receives e-documents (Peppol id)")
    postal_address: BuyerPostalAddress | None = group("BG-8", "1..1", "The buyer's address")
    contact: BuyerContact | None = group("BG-9", "0..1", "Buyer contact")


class Payee(Part):
    """BG-10: who receives the payment, when not the seller (e.g. a factor)."""

    name: str | None = term("BT-59", "text", "1..1", "Name of the payee")
    identifier: Identifier | None = term("BT-60", "identifier", "0..1", "Payee identifier")
    additional_identifiers: list[Identifier] = extended(term("BT-60-REPEATED", "identifier", "0..n", "Further payee identifiers, after the first (EXTENDED-CTC-FR allows several)"))
    legal_registration_identifier: Identifier | None = term("BT-61", "identifier", "0..1", "Payee company registration number")
    electronic_address: Identifier | None = extended(term("EXT-FR-FE-29", "identifier", "0..1", "Where the payee receives e-documents (EXTENDED-CTC-FR)"))


class TaxRepresentative(Part):
    """BG-11: who accounts for VAT on the seller's behalf."""

    name: str | None = term("BT-62", "text", "1..1", "Name of the tax representative")
    vat_identifier: str | None = term("BT-63", "identifier", "1..1", "VAT number of the tax representative")
    postal_address: TaxRepresentativePostalAddress | None = group("BG-12", "1..1", "The tax representative's address")


class InvoicingPeriod(Part):
    """BG-14: the period the whole invoice covers."""

    start_date: date | None = term("BT-73", "date", "0..1", "First day of the period")
    end_date: date | None = term("BT-74", "date", "0..1", "Last day of the period")
    #: Bindings, not terms: what the syntax wrote for a date the reader took no date from, which
    #: the official rules compare as written. `*_text`: the date string's text when it is not a
    #: date (CII udt:DateTimeString, "" when that element is empty; UBL cbc:StartDate when it has
    #: text). `*_blank`: the date element's name when it is there with no value at all (CII a
    #: ram:StartDateTime without udt:DateTimeString, UBL an empty cbc:StartDate). Both are None
    #: when the date was read or its element is not there.
    start_date_text: str | None = binding("text", "Start date as written when it is no date (\"\" when empty)")
    end_date_text: str | None = binding("text", "End date as written when it is no date (\"\" when empty)")
    start_date_blank: str | None = binding("code", "The start date's element, when it is there without a value")
    end_date_blank: str | None = binding("code", "The end date's element, when it is there without a value")


class Delivery(Part):
    """BG-13: where and when goods or services were delivered."""

    party_name: str | None = term("BT-70", "text", "0..1", "Name of the party delivered to")
    location_identifier: Identifier | None = term("BT-71", "identifier", "0..1", "Delivery location (e.g. GLN)")
    additional_location_identifiers: list[Identifier] = extended(term("BT-71-REPEATED", "identifier", "0..n", "Further delivery location identifiers, after the first (CII allows several)"))
    actual_delivery_date: date | None = term("BT-72", "date", "0..1", "Day of delivery")
    invoicing_period: InvoicingPeriod | None = group("BG-14", "0..1", "Period the invoice covers")
    address: DeliverToAddress | None = group("BG-15", "0..1", "Delivery address")


class CreditTransfer(Part):
    """BG-17: an account to pay into."""

    account_identifier: str | None = term("BT-84", "identifier", "1..1", "Account to pay into (IBAN)")
    account_name: str | None = term("BT-85", "text", "0..1", "Name of the account")
    service_provider_identifier: str | None = term("BT-86", "identifier", "0..1", "Bank (BIC)")


class PaymentCard(Part):
    """BG-18: the card used to pay."""

    primary_account_number: str | None = term("BT-87", "text", "1..1", "Card number (masked, last digits only)")
    holder_name: str | None = term("BT-88", "text", "0..1", "Card holder")


class DirectDebit(Part):
    """BG-19: a direct debit mandate."""

    mandate_reference: str | None = term("BT-89", "identifier", "0..1", "Mandate reference")
    creditor_identifier: str | None = term("BT-90", "identifier", "0..1", "Bank-assigned creditor identifier")
    debited_account_identifier: str | None = term("BT-91", "identifier", "0..1", "Account to be debited")


class PaymentInstructions(Part):
    """BG-16: how the buyer is to pay."""

    means_type_code: str | None = term("BT-81", "code", "1..1", "Payment means (UNTDID 4461)")
    means_text: str | None = term("BT-82", "text", "0..1", "Payment means in words")
    remittance_information: str | None = term("BT-83", "text", "0..1", "Reference to quote with the payment")
    credit_transfers: list[CreditTransfer] = group("BG-17", "0..n", "Accounts to pay into")
    card: PaymentCard | None = group("BG-18", "0..1", "Payment card")
    direct_debit: DirectDebit | None = group("BG-19", "0..1", "Direct debit")


class DocumentAllowance(Part):
    """BG-20: a discount on the whole invoice."""

    amount: Decimal | None = term("BT-92", "amount", "1..1", "Allowance amount, without VAT")
    base_amount: Decimal | None = term("BT-93", "amount", "0..1", "Base the percentage applies to")
    percentage: Decimal | None = term("BT-94", "percentage", "0..1", "Percentage of the base")
    vat_category_code: str | None = term("BT-95", "code", "1..1", "VAT category of the allowance")
    vat_rate: Decimal | None = term("BT-96", "percentage", "0..1", "VAT rate of the allowance")
    #: The tax scheme as written when it is not exactly "VAT" (UBL cac:TaxScheme/cbc:ID,
    #: CII ram:TypeCode), "" when there is none; None for VAT.
    vat_tax_scheme: str | None = binding("code", "Tax scheme of the allowance's VAT category, when not VAT (\"\" when none is given)")
    #: The charge indicator as written (UBL cbc:ChargeIndicator, CII udt:Indicator) when it is
    #: not exactly "false", "" when there is none; None for "false". The reader puts an
    #: allowance or charge without a readable indicator in the allowances.
    charge_indicator: str | None = binding("code", "Charge indicator as written, when not \"false\" (\"\" when none is given)")
    #: UBL: the sum of the cbc:Amount written after the first (a repeated amount), which the
    #: official sums (PEPPOL-EN16931-R120) add while the model keeps the first; None when one.
    repeated_amount: Decimal | None = binding("amount", "Sum of the amounts written after the first (UBL), when the amount is repeated")
    vat_exemption_reason: str | None = extended(term("BT-95-EXEMPTION-REASON", "text", "0..1", "VAT exemption reason of the allowance's category, in words (EXTENDED-CTC-FR: one VAT breakdown per reason)"))
    vat_exemption_reason_code: str | None = extended(term("BT-95-EXEMPTION-REASON-CODE", "code", "0..1", "VAT exemption reason of the allowance's category, as a code (EXTENDED-CTC-FR)"))
    reason: str | None = term("BT-97", "text", "0..1", "Reason in words")
    reason_code: str | None = term("BT-98", "code", "0..1", "Reason (UNTDID 5189)")


class DocumentCharge(Part):
    """BG-21: a charge on the whole invoice (freight, packing, …)."""

    amount: Decimal | None = term("BT-99", "amount", "1..1", "Charge amount, without VAT")
    base_amount: Decimal | None = term("BT-100", "amount", "0..1", "Base the percentage applies to")
    percentage: Decimal | None = term("BT-101", "percentage", "0..1", "Percentage of the base")
    vat_category_code: str | None = term("BT-102", "code", "1..1", "VAT category of the charge")
    vat_rate: Decimal | None = term("BT-103", "percentage", "0..1", "VAT rate of the charge")
    #: The tax scheme as written when it is not exactly "VAT" (UBL cac:TaxScheme/cbc:ID,
    #: CII ram:TypeCode), "" when there is none; None for VAT.
    vat_tax_scheme: str | None = binding("code", "Tax scheme of the charge's VAT category, when not VAT (\"\" when none is given)")
    #: The charge indicator as written (UBL cbc:ChargeIndicator, CII udt:Indicator) when it is
    #: not exactly "true", "" when there is none; None for "true". The reader puts an
    #: allowance or charge without a readable indicator in the allowances.
    charge_indicator: str | None = binding("code", "Charge indicator as written, when not \"true\" (\"\" when none is given)")
    #: UBL: the sum of the cbc:Amount written after the first (a repeated amount), which the
    #: official sums (PEPPOL-EN16931-R120) add while the model keeps the first; None when one.
    repeated_amount: Decimal | None = binding("amount", "Sum of the amounts written after the first (UBL), when the amount is repeated")
    vat_exemption_reason: str | None = extended(term("BT-102-EXEMPTION-REASON", "text", "0..1", "VAT exemption reason of the charge's category, in words (EXTENDED-CTC-FR: one VAT breakdown per reason)"))
    vat_exemption_reason_code: str | None = extended(term("BT-102-EXEMPTION-REASON-CODE", "code", "0..1", "VAT exemption reason of the charge's category, as a code (EXTENDED-CTC-FR)"))
    reason: str | None = term("BT-104", "text", "0..1", "Reason in words")
    reason_code: str | None = term("BT-105", "code", "0..1", "Reason (UNTDID 7161)")
    #: The list id of the reason code as written (UBL cbc:AllowanceChargeReasonCode/@listID, CII
    #: ram:ReasonCode/@listID), None when there is none: EXTENDED-CTC-FR tells a charge reason
    #: (UNTDID 7161) from a non-VAT tax reason (UNTDID 5153) by it (BR-FREXT-CL-20, 20-TAX, 20-LISTID).
    reason_code_list_id: str | None = extended(binding("code", "List id of the reason code as written (7161, or 5153 for a non-VAT tax: EXTENDED-CTC-FR)"))


class DocumentTotals(Part):
    """BG-22: the invoice's totals."""

    line_net_amount: Decimal | None = term("BT-106", "amount", "1..1", "Sum of the lines' net amounts")
    allowance_total_amount: Decimal | None = term("BT-107", "amount", "0..1", "Sum of document-level allowances")
    charge_total_amount: Decimal | None = term("BT-108", "amount", "0..1", "Sum of document-level charges")
    amount_without_vat: Decimal | None = term("BT-109", "amount", "1..1", "Total without VAT")
    vat_amount: Decimal | None = term("BT-110", "amount", "0..1", "Total VAT, invoice currency")
    vat_amount_in_accounting_currency: Decimal | None = term("BT-111", "amount", "0..1", "Total VAT, VAT accounting currency")
    amount_with_vat: Decimal | None = term("BT-112", "amount", "1..1", "Total with VAT")
    paid_amount: Decimal | None = term("BT-113", "amount", "0..1", "Already paid")
    rounding_amount: Decimal | None = term("BT-114", "amount", "0..1", "Rounding added to the total")
    amount_due_for_payment: Decimal | None = term("BT-115", "amount", "1..1", "Amount still to pay")


class RepeatedTaxCategory(Part):
    """Not a business group: a UBL cac:TaxCategory given again in one cac:TaxSubtotal.

    The breakdown keeps the first as its category; the UBL artefact still counts
    the others (BR-O-01 counts categories O, UBL-SR-32 exemption reasons).
    """

    category_code: str | None = binding("code", "The repeated category's cbc:ID")
    exemption_reason: str | None = binding("text", "Its cbc:TaxExemptionReason")
    #: As `VatBreakdown.tax_scheme`: None for VAT.
    tax_scheme: str | None = binding("code", "Its tax scheme, when not VAT (\"\" when none is given)")


class VatBreakdown(Part):
    """BG-23: the VAT for one category and rate."""

    taxable_amount: Decimal | None = term("BT-116", "amount", "1..1", "Base for this category and rate")
    tax_amount: Decimal | None = term("BT-117", "amount", "1..1", "VAT for this category and rate")
    category_code: str | None = term("BT-118", "code", "1..1", "VAT category (UNCL 5305)")
    rate: Decimal | None = term("BT-119", "percentage", "0..1", "VAT rate")
    exemption_reason: str | None = term("BT-120", "text", "0..1", "Why VAT is not charged, in words")
    exemption_reason_code: str | None = term("BT-121", "code", "0..1", "Why VAT is not charged (VATEX)")
    #: The tax scheme as written when it is not exactly "VAT" (UBL cac:TaxScheme/cbc:ID,
    #: CII ram:TypeCode), "" when there is none; None for VAT.
    tax_scheme: str | None = binding("code", "Tax scheme of the breakdown's category, when not VAT (\"\" when none is given)")
    #: UBL: a subtotal whose cac:TaxScheme/cbc:ID is not VAT has no VAT category (category_code
    #: and rate are None), yet the UBL artefact's BR-S-01 counts categories S whatever the scheme.
    other_tax_category_code: str | None = binding("code", "UBL: the category cbc:ID of a subtotal whose tax scheme is not VAT (no VAT category then)")
    repeated_categories: list[RepeatedTaxCategory] = binding_group("UBL: further cac:TaxCategory in the same cac:TaxSubtotal")


class TaxSubtotal(Part):
    """Not a business group: one UBL cac:TaxSubtotal as its cac:TaxTotal holds it (each is also in BG-23)."""

    tax_amount: Decimal | None = binding("amount", "The subtotal's cbc:TaxAmount")


class TaxTotal(Part):
    """Not a business group: a VAT total as the syntax writes it.

    UBL: each cac:TaxTotal, with its cbc:TaxAmount and its own subtotals. CII: each
    ram:TaxTotalAmount, of every ram:SpecifiedTradeSettlementHeaderMonetarySummation
    (a repeated one too), without subtotals. The model's BT-110 and BT-111 are picked
    from them by currency; official rules judge them one by one (UBL BR-CO-14, CII
    BR-CO-15, Peppol's R053 to R055).
    """

    amount: Decimal | None = binding("amount", "The tax amount (None when missing or not a number)")
    currency_id: str | None = binding("code", "Its currencyID as written (None when missing)")
    subtotals: list[TaxSubtotal] = binding_group("UBL: its cac:TaxSubtotal")
    settlement: int | None = binding("quantity", "CII: position of its ram:ApplicableHeaderTradeSettlement (1 the first), as the artefacts judge each")


class SupportingDocument(Part):
    """BG-24: a document that backs the invoice (timesheet, delivery note, …)."""

    reference: str | None = term("BT-122", "document_reference", "1..1", "Identifier of the document")
    description: str | None = term("BT-123", "text", "0..1", "What the document is")
    external_location: str | None = term("BT-124", "text", "0..1", "URL where the document can be found")
    attachment: BinaryObject | None = term("BT-125", "binary", "0..1", "The document itself")


# --------------------------------------------------------------------------- line groups


# --------------------------------------------------------------------------- EXTENDED-CTC-FR
# Terms only the French EXTENDED-CTC-FR profile (XP Z12-012) carries, which the FNFE-MPE BR-FR
# rules judge: the agents of the seller and the buyer, the invoicer, the invoicee and the payer;
# line-level references to earlier invoices and line delivery places. Ids are the profile's
# (EXT-FR-FE-n) where the artefacts name them; the groups and the SIRENs have no id in the
# artefacts, so theirs are ours ("EXT-FR-FE-BG-<name>", "<identifier id>-SIREN"). The EN 16931
# writers do not write these terms (`extended()` marks them); the readers read them and still
# record the elements as unused by EN 16931, as before.


class _ExtendedPartyBase(Part):
    """Shape shared by the EXTENDED-CTC-FR parties (each subclass carries its own ids)."""


def _extended_party(name: str, who: str, ids: str, address: str) -> type[Part]:
    """A party of the profile: identifiers (SIRET: scheme 0009), SIREN (scheme 0002), electronic address."""
    from pydantic import create_model

    return create_model(
        name,
        __base__=_ExtendedPartyBase,
        __doc__=f"The {who} (EXTENDED-CTC-FR).",
        identifiers=(list[Identifier], extended(term(ids, "identifier", "0..n", f"Identifiers of the {who} (SIRET: scheme 0009)"))),
        legal_registration_identifier=(Identifier | None, extended(term(f"{ids}-SIREN", "identifier", "0..1", f"Legal registration of the {who} (SIREN: scheme 0002)"))),
        electronic_address=(Identifier | None, extended(term(address, "identifier", "0..1", f"Where the {who} receives e-documents"))),
    )


SellerAgent = _extended_party("SellerAgent", "seller's agent", "EXT-FR-FE-69", "EXT-FR-FE-75")
BuyerAgent = _extended_party("BuyerAgent", "buyer's agent", "EXT-FR-FE-06", "EXT-FR-FE-12")
Invoicer = _extended_party("Invoicer", "invoicer (who issues the invoice for the seller)", "EXT-FR-FE-115", "EXT-FR-FE-121")
Invoicee = _extended_party("Invoicee", "invoicee (who receives the invoice for the buyer)", "EXT-FR-FE-92", "EXT-FR-FE-98")
Payer = _extended_party("Payer", "payer", "EXT-FR-FE-46", "EXT-FR-FE-52")


class LinePrecedingInvoice(Part):
    """An earlier invoice a line refers to (EXTENDED-CTC-FR)."""

    reference: str | None = extended(term("EXT-FR-FE-136", "document_reference", "1..1", "Number of the earlier invoice"))
    type_code: str | None = extended(term("EXT-FR-FE-137", "code", "0..1", "Type of the earlier invoice (UNTDID 1001)"))
    issue_date: date | None = extended(term("EXT-FR-FE-138", "date", "0..1", "Issue date of the earlier invoice"))


class LineDelivery(Part):
    """Where and when a line was delivered (EXTENDED-CTC-FR)."""

    location_identifiers: list[Identifier] = extended(term("EXT-FR-FE-146", "identifier", "0..n", "Delivery place of the line (SIRET: scheme 0009)"))
    legal_registration_identifier: Identifier | None = extended(term("EXT-FR-FE-146-SIREN", "identifier", "0..1", "Legal registration of the party delivered to (SIREN: scheme 0002)"))
    actual_delivery_date: date | None = extended(term("EXT-FR-FE-158", "date", "0..1", "Day the line was delivered"))


class ItemSeller(Part):
    """The vendor of a line of a multi-vendor (B8, S8, M8) or bidirectional (B9, S9, M9) invoice
    (EXTENDED-CTC-FR: UBL cac:Item/cac:ManufacturerParty, CII ram:ItemSellerTradeParty)."""

    name: str | None = extended(term("EXT-FR-FE-164", "text", "0..1", "Name of the line's vendor"))
    legal_registration_identifier: Identifier | None = extended(term("EXT-FR-FE-167", "identifier", "0..1", "Legal registration of the line's vendor (SIREN: scheme 0002)"))
    country_code: str | None = extended(term("EXT-FR-FE-177", "code", "0..1", "Country of the line's vendor"))


class LineVatTotal(Part):
    """A line's VAT total in one currency (EXTENDED-CTC-FR): EXT-FR-FE-181 in the invoice's
    currency (BT-5), EXT-FR-FE-182 in the VAT accounting currency (BT-6)."""

    amount: Decimal | None = extended(term("EXT-FR-FE-181", "amount", "1..1", "VAT of the line (of a GROUP line: of its sub-invoice)"))
    currency_code: str | None = extended(term("EXT-FR-FE-181-CURRENCY", "code", "1..1", "Currency of the amount (ISO 4217)"))


class LineDocumentReference(Part):
    """A document a line refers to (EXTENDED-CTC-FR allows several): with type 130 an invoiced
    object, BT-128 (scheme AFL: the number of the vendor's sub-invoice; AVV: the vendor's framework)."""

    reference: str | None = extended(term("EXT-FR-FE-BT-128", "document_reference", "1..1", "Identifier of the document or object"))
    scheme: str | None = extended(term("EXT-FR-FE-BT-128-1", "code", "0..1", "Scheme of the identifier (AFL, AVV, ...)"))
    type_code: str | None = extended(term("EXT-FR-FE-BT-128-TYPE", "code", "0..1", "Type of the document (UNTDID 1001; 130 for an invoiced object)"))
    issue_date: date | None = extended(term("EXT-FR-FE-138-DOCUMENT", "date", "0..1", "Issue date of the document (UBL cbc:IssueDate)"))


class LinePeriod(Part):
    """BG-26: the period one line covers."""

    start_date: date | None = term("BT-134", "date", "0..1", "First day of the period")
    end_date: date | None = term("BT-135", "date", "0..1", "Last day of the period")
    # What the syntax wrote for a date the reader took no date from, as for BG-14.
    start_date_text: str | None = binding("text", "Start date as written when it is no date (\"\" when empty)")
    end_date_text: str | None = binding("text", "End date as written when it is no date (\"\" when empty)")
    start_date_blank: str | None = binding("code", "The start date's element, when it is there without a value")
    end_date_blank: str | None = binding("code", "The end date's element, when it is there without a value")


class LineAllowance(Part):
    """BG-27: a discount on one line."""

    amount: Decimal | None = term("BT-136", "amount", "1..1", "Allowance amount, without VAT")
    base_amount: Decimal | None = term("BT-137", "amount", "0..1", "Base the percentage applies to")
    percentage: Decimal | None = term("BT-138", "percentage", "0..1", "Percentage of the base")
    #: The charge indicator as written (UBL cbc:ChargeIndicator, CII udt:Indicator) when it is
    #: not exactly "false", "" when there is none; None for "false". The reader puts an
    #: allowance or charge without a readable indicator in the allowances.
    charge_indicator: str | None = binding("code", "Charge indicator as written, when not \"false\" (\"\" when none is given)")
    #: UBL: the sum of the cbc:Amount written after the first (a repeated amount), which the
    #: official sums (PEPPOL-EN16931-R120) add while the model keeps the first; None when one.
    repeated_amount: Decimal | None = binding("amount", "Sum of the amounts written after the first (UBL), when the amount is repeated")
    reason: str | None = term("BT-139", "text", "0..1", "Reason in words")
    reason_code: str | None = term("BT-140", "code", "0..1", "Reason (UNTDID 5189)")


class LineCharge(Part):
    """BG-28: a charge on one line."""

    amount: Decimal | None = term("BT-141", "amount", "1..1", "Charge amount, without VAT")
    base_amount: Decimal | None = term("BT-142", "amount", "0..1", "Base the percentage applies to")
    percentage: Decimal | None = term("BT-143", "percentage", "0..1", "Percentage of the base")
    #: The charge indicator as written (UBL cbc:ChargeIndicator, CII udt:Indicator) when it is
    #: not exactly "true", "" when there is none; None for "true". The reader puts an
    #: allowance or charge without a readable indicator in the allowances.
    charge_indicator: str | None = binding("code", "Charge indicator as written, when not \"true\" (\"\" when none is given)")
    #: UBL: the sum of the cbc:Amount written after the first (a repeated amount), which the
    #: official sums (PEPPOL-EN16931-R120) add while the model keeps the first; None when one.
    repeated_amount: Decimal | None = binding("amount", "Sum of the amounts written after the first (UBL), when the amount is repeated")
    reason: str | None = term("BT-144", "text", "0..1", "Reason in words")
    reason_code: str | None = term("BT-145", "code", "0..1", "Reason (UNTDID 7161)")
    #: The list id of the reason code as written (UBL cbc:AllowanceChargeReasonCode/@listID, CII
    #: ram:ReasonCode/@listID), None when there is none: EXTENDED-CTC-FR tells a charge reason
    #: (UNTDID 7161) from a non-VAT tax reason (UNTDID 5153) by it (BR-FREXT-CL-20, 20-TAX, 20-LISTID).
    reason_code_list_id: str | None = extended(binding("code", "List id of the reason code as written (7161, or 5153 for a non-VAT tax: EXTENDED-CTC-FR)"))


class PriceDetails(Part):
    """BG-29: the price of one unit of the item."""

    net_price: Decimal | None = term("BT-146", "unit_price", "1..1", "Net price per base quantity, without VAT")
    discount: Decimal | None = term("BT-147", "unit_price", "0..1", "Discount giving the net from the gross price")
    gross_price: Decimal | None = term("BT-148", "unit_price", "0..1", "Price before discount")
    base_quantity: Decimal | None = term("BT-149", "quantity", "0..1", "Number of units the price is for")
    base_quantity_unit_code: str | None = term("BT-150", "code", "0..1", "Unit of the base quantity (UN/ECE Rec 20/21)")
    #: CII may give the gross price a base quantity of its own (BT-149/150 are the net price's):
    #: its unit as written, None without one. Peppol's CII R130 compares it too.
    gross_base_quantity_unit_code: str | None = binding("code", "Unit of the gross price's own base quantity (CII), when it has one")
    #: The charge indicator of the price's allowance (UBL cac:Price/cac:AllowanceCharge, CII
    #: the gross price's ram:AppliedTradeAllowanceCharge) as written when it is not exactly
    #: "false", "" when there is none; None for "false" or when the price has no allowance.
    discount_charge_indicator: str | None = binding("code", "Charge indicator of the price's allowance as written, when not \"false\" (\"\" when none is given)")


class LineVat(Part):
    """BG-30: the VAT that applies to one line."""

    category_code: str | None = term("BT-151", "code", "1..1", "VAT category (UNCL 5305)")
    rate: Decimal | None = term("BT-152", "percentage", "0..1", "VAT rate")
    #: The tax scheme as written when it is not exactly "VAT" (UBL cac:TaxScheme/cbc:ID,
    #: CII ram:TypeCode), "" when there is none; None for VAT.
    tax_scheme: str | None = binding("code", "Tax scheme of the line's category, when not VAT (\"\" when none is given)")
    exemption_reason: str | None = extended(term("BT-151-EXEMPTION-REASON", "text", "0..1", "VAT exemption reason of the line's category, in words (EXTENDED-CTC-FR; on a multi-vendor line it starts with #sub-invoice number#)"))
    exemption_reason_code: str | None = extended(term("BT-151-EXEMPTION-REASON-CODE", "code", "0..1", "VAT exemption reason of the line's category, as a code (EXTENDED-CTC-FR)"))


class ItemAttribute(Part):
    """BG-32: one property of the item (colour, size, …)."""

    name: str | None = term("BT-160", "text", "1..1", "Property name")
    value: str | None = term("BT-161", "text", "1..1", "Property value")
    name_code: str | None = extended(term("EXT-FR-FE-159", "code", "0..1", "Property as a code (EXTENDED-CTC-FR)"))


class Item(Part):
    """BG-31: what is sold on the line."""

    name: str | None = term("BT-153", "text", "1..1", "Name of the item")
    description: str | None = term("BT-154", "text", "0..1", "Description of the item")
    sellers_identifier: str | None = term("BT-155", "identifier", "0..1", "Seller's article number")
    buyers_identifier: str | None = term("BT-156", "identifier", "0..1", "Buyer's article number")
    standard_identifier: Identifier | None = term("BT-157", "identifier", "0..1", "Standard identifier (e.g. GTIN)")
    classification_identifiers: list[Identifier] = term("BT-158", "identifier", "0..n", "Classification codes (e.g. CPV, UNSPSC)")
    country_of_origin: str | None = term("BT-159", "code", "0..1", "Country of origin, ISO 3166-1 alpha-2")
    attributes: list[ItemAttribute] = group("BG-32", "0..n", "Item properties")
    seller: ItemSeller | None = extended(group("EXT-FR-FE-BG-ITEM-SELLER", "0..1", "The line's vendor (EXTENDED-CTC-FR, multi-vendor and bidirectional frameworks)"))


class InvoiceLine(Part):
    """BG-25: one line of the invoice."""

    identifier: str | None = term("BT-126", "identifier", "1..1", "Line number or id")
    note: str | None = term("BT-127", "text", "0..1", "Free text about the line")
    object_identifier: Identifier | None = term("BT-128", "identifier", "0..1", "Object the line is about (subscription, meter, …)")
    quantity: Decimal | None = term("BT-129", "quantity", "1..1", "Quantity invoiced")
    quantity_unit_code: str | None = term("BT-130", "code", "1..1", "Unit of the quantity (UN/ECE Rec 20/21)")
    net_amount: Decimal | None = term("BT-131", "amount", "1..1", "Line total without VAT, after line allowances and charges")
    order_line_reference: str | None = term("BT-132", "document_reference", "0..1", "Line of the buyer's purchase order")
    buyer_accounting_reference: str | None = term("BT-133", "text", "0..1", "Buyer's accounting code for this line")
    period: LinePeriod | None = group("BG-26", "0..1", "Period the line covers")
    allowances: list[LineAllowance] = group("BG-27", "0..n", "Line allowances")
    charges: list[LineCharge] = group("BG-28", "0..n", "Line charges")
    price: PriceDetails | None = group("BG-29", "1..1", "Price details")
    vat: LineVat | None = group("BG-30", "1..1", "VAT of the line")
    item: Item | None = group("BG-31", "1..1", "The item")
    preceding_invoices: list[LinePrecedingInvoice] = extended(group("EXT-FR-FE-BG-LINE-PRECEDING-INVOICE", "0..n", "Earlier invoices the line refers to (EXTENDED-CTC-FR)"))
    delivery: LineDelivery | None = extended(group("EXT-FR-FE-BG-LINE-DELIVERY", "0..1", "Delivery of the line (EXTENDED-CTC-FR)"))
    #: The type code of the line's document references (UBL cac:DocumentReference/
    #: cbc:DocumentTypeCode, CII ram:AdditionalReferencedDocument/ram:TypeCode) as written when
    #: none of them says exactly 130, "" when the first has none; None without a reference or
    #: with one of type 130. Peppol's R101 reads it; BT-128 is read as each binding says.
    object_reference_type_code: str | None = binding("code", "Type code of the line's document references, when none is 130 (\"\" when none is given)")
    # Sub-lines (EXTENDED-CTC-FR): a line of type GROUP gathers the lines whose parent it is
    # (a vendor's sub-invoice on a multi-vendor invoice); DETAIL lines count in the totals, GROUP
    # and INFORMATION lines do not. UBL says it in a cac:BillingReference to the invoice itself.
    status: str | None = extended(term("EXT-FR-FE-163", "code", "0..1", "Sub-type of the line: GROUP, DETAIL or INFORMATION"))
    parent_line_identifier: str | None = extended(term("EXT-FR-FE-162", "identifier", "0..1", "Identifier (BT-126) of the line's parent line"))
    #: UBL: the invoice number of the line's cac:BillingReference to the invoice itself, which makes
    #: the line a sub-line for the UBL artefacts even without a sub-type; None in CII.
    self_reference: str | None = binding("identifier", "UBL: the line refers to the invoice itself in a billing reference (an EXTENDED-CTC-FR sub-line)")
    vat_totals: list[LineVatTotal] = extended(group("EXT-FR-FE-BG-LINE-VAT-TOTAL", "0..n", "VAT of the line, per currency (EXTENDED-CTC-FR)"))
    amount_with_vat: Decimal | None = extended(term("EXT-FR-FE-184", "amount", "0..1", "Line total with VAT (CII ram:GrandTotalAmount, UBL cbc:TaxInclusiveLineExtensionAmount)"))
    document_references: list[LineDocumentReference] = extended(group("EXT-FR-FE-BG-LINE-DOCUMENT", "0..n", "Every document the line refers to, the first invoiced object (BT-128) included (EXTENDED-CTC-FR)"))


# --------------------------------------------------------------------------- the invoice


class Invoice(Part):
    """The EN 16931 invoice (the whole semantic model, BG-0)."""

    number: str | None = term("BT-1", "identifier", "1..1", "Invoice number")
    issue_date: date | None = term("BT-2", "date", "1..1", "Invoice date")
    type_code: str | None = term("BT-3", "code", "1..1", "Invoice, credit note, … (UNTDID 1001)")
    currency_code: str | None = term("BT-5", "code", "1..1", "Currency of all amounts (ISO 4217)")
    vat_accounting_currency_code: str | None = term("BT-6", "code", "0..1", "Currency VAT is accounted in, when different")
    vat_point_date: date | None = term("BT-7", "date", "0..1", "Date VAT becomes due, when not the issue date")
    vat_point_date_code: str | None = term("BT-8", "code", "0..1", "Event that makes VAT due (UNTDID 2005)")
    due_date: date | None = term("BT-9", "date", "0..1", "Payment due date")
    buyer_reference: str | None = term("BT-10", "text", "0..1", "Reference the buyer asked for (routing id)")
    project_reference: str | None = term("BT-11", "document_reference", "0..1", "Project")
    contract_reference: str | None = term("BT-12", "document_reference", "0..1", "Contract")
    order_reference: str | None = term("BT-13", "document_reference", "0..1", "Buyer's purchase order")
    sales_order_reference: str | None = term("BT-14", "document_reference", "0..1", "Seller's sales order")
    receiving_advice_reference: str | None = term("BT-15", "document_reference", "0..1", "Receiving advice")
    despatch_advice_reference: str | None = term("BT-16", "document_reference", "0..1", "Despatch advice")
    tender_reference: str | None = term("BT-17", "document_reference", "0..1", "Tender or lot")
    invoiced_object_identifier: Identifier | None = term("BT-18", "identifier", "0..1", "Object invoiced (subscription, meter, …)")
    additional_object_identifiers: list[Identifier] = extended(term("BT-18-REPEATED", "identifier", "0..n", "Further invoiced objects, after the first (EXTENDED-CTC-FR CII allows several)"))
    buyer_accounting_reference: str | None = term("BT-19", "text", "0..1", "Buyer's accounting code for the invoice")
    payment_terms: str | None = term("BT-20", "text", "0..1", "Payment terms in words")
    notes: list[Note] = group("BG-1", "0..n", "Notes")
    process_control: ProcessControl | None = group("BG-2", "1..1", "Process and specification")
    preceding_invoices: list[PrecedingInvoice] = group("BG-3", "0..n", "Earlier invoices referred to")
    seller: Seller | None = group("BG-4", "1..1", "The seller")
    buyer: Buyer | None = group("BG-7", "1..1", "The buyer")
    payee: Payee | None = group("BG-10", "0..1", "The payee, when not the seller")
    tax_representative: TaxRepresentative | None = group("BG-11", "0..1", "The seller's tax representative")
    delivery: Delivery | None = group("BG-13", "0..1", "Delivery information")
    payment_instructions: PaymentInstructions | None = group("BG-16", "0..1", "How to pay")
    allowances: list[DocumentAllowance] = group("BG-20", "0..n", "Document-level allowances")
    charges: list[DocumentCharge] = group("BG-21", "0..n", "Document-level charges")
    totals: DocumentTotals | None = group("BG-22", "1..1", "Totals")
    vat_breakdown: list[VatBreakdown] = group("BG-23", "1..n", "VAT breakdown")
    tax_totals: list[TaxTotal] = binding_group("The VAT totals as the syntax writes them (UBL cac:TaxTotal, CII ram:TaxTotalAmount)")
    supporting_documents: list[SupportingDocument] = group("BG-24", "0..n", "Supporting documents")
    lines: list[InvoiceLine] = group("BG-25", "1..n", "Invoice lines")
    seller_agent: SellerAgent | None = extended(group("EXT-FR-FE-BG-SELLER-AGENT", "0..1", "The seller's agent (EXTENDED-CTC-FR)"))  # type: ignore[valid-type]
    buyer_agent: BuyerAgent | None = extended(group("EXT-FR-FE-BG-BUYER-AGENT", "0..1", "The buyer's agent (EXTENDED-CTC-FR)"))  # type: ignore[valid-type]
    invoicer: Invoicer | None = extended(group("EXT-FR-FE-BG-INVOICER", "0..1", "Who issues the invoice for the seller (EXTENDED-CTC-FR)"))  # type: ignore[valid-type]
    invoicee: Invoicee | None = extended(group("EXT-FR-FE-BG-INVOICEE", "0..1", "Who receives the invoice for the buyer (EXTENDED-CTC-FR)"))  # type: ignore[valid-type]
    payer: Payer | None = extended(group("EXT-FR-FE-BG-PAYER", "0..1", "Who pays, when not the buyer (EXTENDED-CTC-FR)"))  # type: ignore[valid-type]

    # Not business terms: where the invoice came from, and what its syntax said
    # that the semantic model cannot hold. Excluded from "no term is lost" checks.
    provenance: Provenance | None = Field(default=None, description="Where and how the invoice was read")
    syntax_facts: list[SyntaxFact] = Field(default_factory=list, description="What the syntax said beyond the semantic model")


#: Fields of `Invoice` that are not business terms.
NON_BUSINESS_FIELDS = frozenset({"provenance", "syntax_facts"})
#: Fields below the invoice that are not business terms either: what a syntax binding said
#: (the tax scheme of a category, a line reference's type code, an allowance's or charge's indicator, VAT totals as grouped, `terms.binding`).
#: A writer gives the binding's own value; what was written instead of a period's date (`*_text`,
#: `*_blank`) it leaves out.
BINDING_FIELDS = frozenset(
    {
        "tax_scheme",
        "vat_tax_scheme",
        "object_reference_type_code",
        "gross_base_quantity_unit_code",
        "other_tax_category_code",
        "repeated_categories",
        "tax_totals",
        "start_date_text",
        "end_date_text",
        "start_date_blank",
        "end_date_blank",
        "charge_indicator",
        "discount_charge_indicator",
        "repeated_amount",
        "self_reference",
    }
)
#: EXTENDED-CTC-FR terms that repeat an EN 16931 term as the syntax wrote it: a line's document
#: references hold its BT-128 (object_identifier) with the type code as written (or none), which
#: the EN 16931 writers write as BT-128 with type 130. A round trip keeps BT-128, not these.
SYNTAX_ECHO_FIELDS = frozenset({"document_references"})


def _without_bindings(value: object, *, drop_empty: bool) -> object:
    """The value with what a syntax binding said (BINDING_FIELDS, SYNTAX_ECHO_FIELDS) left out at
    any depth, and, with `drop_empty`, empty values (None, [], {}) too."""
    if isinstance(value, dict):
        kept = {}
        for k, v in value.items():
            if k in BINDING_FIELDS or k in SYNTAX_ECHO_FIELDS:
                continue
            v = _without_bindings(v, drop_empty=drop_empty)
            if not drop_empty or v not in (None, [], {}):
                kept[k] = v
        return kept
    if isinstance(value, list):
        return [_without_bindings(v, drop_empty=drop_empty) for v in value]
    return value


def business_terms(invoice: Invoice) -> dict:
    """The invoice's business terms as JSON data: what a conversion or a round trip must keep."""
    data = _without_bindings(invoice.model_dump(mode="json", exclude=set(NON_BUSINESS_FIELDS)), drop_empty=False)
    assert isinstance(data, dict)
    return data


def business_content(document: dict) -> dict:
    """The business terms of a stored model document (JSON data), empty values left out: what
    "the same invoice again" compares. The same in any syntax (no binding field), and unchanged
    when the model gains an optional term (an empty value is no value)."""
    data = _without_bindings({k: v for k, v in document.items() if k not in NON_BUSINESS_FIELDS}, drop_empty=True)
    assert isinstance(data, dict)
    return data
