"""Write the French sample invoices of samples/fr/ (UBL, CII, Factur-X) from the cases below.

Each sample is one French B2B situation under the reform (goods, services, self-billing,
credit note, several VAT rates, an exemption with its VATEX code, down payment and the final
invoice after it, an already-paid invoice, foreign currency ...), written through the
project's own writers. tests/test_fr_samples.py checks every file against the official
BR-FR and EN 16931 XSLTs and against the fr-ctc ruleset.

    python samples/fr/build.py            # rewrites the files that changed
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import write_invoice

HERE = Path(__file__).resolve().parent
EXTENSION = {"ubl": "xml", "cii": "xml", "facturx": "pdf"}

# SIRENs and SIRETs with valid check keys (Luhn), invented for the samples.
SELLER = {
    "name": "Atelier Lumière SAS",
    "trading_name": "Atelier Lumière",
    "identifiers": [{"value": "41234567000019", "scheme": "0009"}],
    "legal_registration_identifier": {"value": "412345670", "scheme": "0002"},
    "vat_identifier": "FR32412345670",
    "additional_legal_information": "SAS au capital de 50 000 EUR, RCS Lyon 412 345 670",
    "electronic_address": {"value": "412345670", "scheme": "0225"},
    "postal_address": {"line_one": "12 rue des Tanneurs", "city": "Lyon", "post_code": "69002", "country_code": "FR"},
    "contact": {"point": "Service facturation", "email": "facturation@atelier-lumiere.example"},
}
BUYER = {
    "name": "Maison Dufresne SA",
    "identifier": {"value": "52198765100010", "scheme": "0009"},
    "legal_registration_identifier": {"value": "521987651", "scheme": "0002"},
    "vat_identifier": "FR15521987651",
    "electronic_address": {"value": "521987651_FACTURES", "scheme": "0225"},
    "postal_address": {"line_one": "40 boulevard Haussmann", "city": "Paris", "post_code": "75009", "country_code": "FR"},
}
NOTES = [
    {"subject_code": "PMT", "text": "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 EUR."},
    {"subject_code": "PMD", "text": "Pénalités de retard : trois fois le taux d'intérêt légal."},
    {"subject_code": "AAB", "text": "Pas d'escompte pour paiement anticipé."},
    {"subject_code": "BAR", "text": "B2B"},
]
PAYMENT = {
    "means_type_code": "58",
    "remittance_information": "",
    "credit_transfers": [{"account_identifier": "FR7630006000011234567890189", "account_name": "Atelier Lumière SAS"}],
}


def line(n: int, name: str, qty: str, price: str, rate: str, category: str = "S", unit: str = "C62") -> dict[str, Any]:
    net = (Decimal(qty) * Decimal(price)).quantize(Decimal("0.01"))
    vat: dict[str, Any] = {"category_code": category, "rate": rate}
    return {"identifier": str(n), "quantity": qty, "quantity_unit_code": unit, "net_amount": str(net),
            "price": {"net_price": price}, "vat": vat, "item": {"name": name}}


def invoice(number: str, framework: str, lines: list[dict], *, type_code: str = "380", issue: str = "2026-11-20",
            due: str | None = "2026-12-20", exemption: dict[str, tuple[str, str]] | None = None,
            paid: str | None = None, **extra: Any) -> dict[str, Any]:
    """A complete invoice: totals and VAT breakdown computed from the lines."""
    groups: dict[tuple[str, str], Decimal] = {}
    for item in lines:
        key = (item["vat"]["category_code"], item["vat"]["rate"])
        groups[key] = groups.get(key, Decimal("0")) + Decimal(item["net_amount"])
    breakdown = []
    vat_total = Decimal("0")
    for (category, rate), base in groups.items():
        tax = (base * Decimal(rate) / 100).quantize(Decimal("0.01"))
        vat_total += tax
        entry: dict[str, Any] = {"taxable_amount": str(base), "tax_amount": str(tax), "category_code": category, "rate": rate}
        if exemption and category in exemption:
            entry["exemption_reason_code"], entry["exemption_reason"] = exemption[category]
        breakdown.append(entry)
    net = sum((Decimal(i["net_amount"]) for i in lines), Decimal("0"))
    gross = net + vat_total
    totals: dict[str, Any] = {"line_net_amount": str(net), "amount_without_vat": str(net), "vat_amount": str(vat_total),
                              "amount_with_vat": str(gross), "amount_due_for_payment": str(gross - Decimal(paid or "0"))}
    if paid is not None:
        totals["paid_amount"] = paid
    payment = copy.deepcopy(PAYMENT)
    payment["remittance_information"] = number
    doc: dict[str, Any] = {
        "number": number, "issue_date": issue, "type_code": type_code, "currency_code": "EUR",
        "buyer_reference": "DUF-ACH-LUM", "order_reference": "DUF-2610417",
        "notes": copy.deepcopy(NOTES),
        "process_control": {"business_process_type": framework, "specification_identifier": "urn:cen.eu:en16931:2017"},
        "seller": copy.deepcopy(SELLER), "buyer": copy.deepcopy(BUYER),
        "payment_instructions": payment,
        "delivery": {"actual_delivery_date": "2026-11-18"},
        "totals": totals, "vat_breakdown": breakdown, "lines": lines,
    }
    if due is not None:
        doc["due_date"] = due
        doc["payment_terms"] = "Paiement à 30 jours"
    doc.update(extra)
    return doc


def samples() -> dict[str, tuple[str, dict[str, Any]]]:
    """File stem -> (format, invoice)."""
    lamps = [line(1, "Lampe d'atelier laiton", "4", "185.00", "20"), line(2, "Abat-jour lin naturel", "6", "42.50", "20")]
    service = [line(1, "Étude d'éclairage du magasin", "3", "650.00", "20", unit="DAY")]
    mixed = [line(1, "Suspension verre soufflé", "2", "320.00", "20"), line(2, "Pose et raccordement", "4", "55.00", "20", unit="HUR")]
    rates = [line(1, "Lampe de bureau", "3", "120.00", "20"), line(2, "Installation dans un logement ancien", "1", "400.00", "10"),
             line(3, "Travaux d'isolation lumineuse (rénovation énergétique)", "1", "250.00", "5.5"),
             line(4, "Catalogue imprimé", "10", "4.20", "2.1")]
    out: dict[str, tuple[str, dict[str, Any]]] = {
        "fr-goods-B1-ubl": ("ubl", invoice("FR2026-0101", "B1", lamps)),
        "fr-goods-B1-cii": ("cii", invoice("FR2026-0102", "B1", copy.deepcopy(lamps))),
        "fr-services-S1-cii": ("cii", invoice("FR2026-0103", "S1", service)),
        "fr-mixed-M1-facturx": ("facturx", invoice("FR2026-0104", "M1", mixed)),
        "fr-multirate-B1-ubl": ("ubl", invoice("FR2026-0105", "M1", rates)),
        "fr-multirate-M1-facturx": ("facturx", invoice("FR2026-0106", "M1", copy.deepcopy(rates))),
    }
    # A credit note for part of an invoice, in both syntaxes (UBL CreditNote document).
    credit = invoice("AV2026-0007", "B1", [line(1, "Retour abat-jour lin naturel", "2", "42.50", "20")], type_code="381",
                     due=None, preceding_invoices=[{"reference": "FR2026-0101", "issue_date": "2026-11-20"}])
    out["fr-credit-note-381-ubl"] = ("ubl", credit)
    out["fr-credit-note-381-cii"] = ("cii", copy.deepcopy(credit))
    # Self-billing: the buyer issues the invoice in the seller's name (389); the seller's
    # SIREN-based address (scheme 0225) is where the platform returns it.
    self_billed = invoice("AF-DUF-2026-118", "S1", [line(1, "Redevance de licence de marque, novembre", "1", "1200.00", "20")],
                          type_code="389")
    out["fr-self-billing-389-ubl"] = ("ubl", self_billed)
    out["fr-self-billing-389-cii"] = ("cii", copy.deepcopy(self_billed))
    # Exempt: training by a registered body (CGI art. 261-4-4°), category E with its VATEX code.
    exempt = invoice("FR2026-0110", "S1", [line(1, "Formation « Éclairage et sécurité », 2 jours", "2", "700.00", "0", category="E", unit="DAY")],
                     exemption={"E": ("VATEX-FR-CGI261-4", "Exonération de TVA, article 261-4-4° du CGI")})
    out["fr-exempt-VATEX-cii"] = ("cii", exempt)
    out["fr-exempt-VATEX-ubl"] = ("ubl", copy.deepcopy(exempt))
    # A down payment (386), then the final invoice (framework B4) that deducts it.
    deposit_lines = [line(1, "Acompte de 30 % sur commande DUF-2610417", "1", "900.00", "20")]
    out["fr-down-payment-386-cii"] = ("cii", invoice("AC2026-0012", "B1", deposit_lines, type_code="386", due="2026-11-20"))
    final_lines = [line(1, "Luminaires sur mesure, hall d'accueil", "1", "3000.00", "20")]
    out["fr-final-after-down-payment-B4-ubl"] = ("ubl", invoice(
        "FR2026-0120", "B4", final_lines, paid="1080.00",
        preceding_invoices=[{"reference": "AC2026-0012", "issue_date": "2026-11-20"}]))
    # Already paid at ordering (S2): nothing left to pay, the payment date as due date.
    out["fr-already-paid-S2-facturx"] = ("facturx", invoice("FR2026-0121", "S2", copy.deepcopy(service), paid="2340.00",
                                                            due="2026-11-15"))
    # Quincaillerie Martin, the French B2B customer of rulesets/customers/quincaillerie-martin.
    martin = invoice("FR2026-0131", "B1", [line(1, "Applique murale laiton", "12", "64.00", "20"),
                                            line(2, "Ampoule LED filament E27", "40", "6.90", "20")],
                     buyer_reference="QM-LYO", order_reference="QM-2026-0457")
    martin["buyer"] = {
        "name": "Quincaillerie Martin SAS",
        "identifier": {"value": "52345678800026", "scheme": "0009"},
        "legal_registration_identifier": {"value": "523456788", "scheme": "0002"},
        "vat_identifier": "FR07523456788",
        "electronic_address": {"value": "523456788", "scheme": "0225"},
        "postal_address": {"line_one": "8 rue Mercière", "city": "Lyon", "post_code": "69002", "country_code": "FR"},
    }
    out["fr-quincaillerie-martin-B1-ubl"] = ("ubl", martin)
    # EXTENDED-CTC-FR (BT-24): the parties only the profile carries (agents, invoicer, invoicee,
    # payer, the payee's address) and line references to an earlier invoice with the line's
    # delivery place; the writers give the EN 16931 part, `extended_xml` adds the rest.
    for syntax in ("ubl", "cii"):
        ext = invoice(f"FR2026-014{1 if syntax == 'ubl' else 2}", "B1", copy.deepcopy(lamps),
                      payee={"name": "Lumière Affacturage SA", "identifier": {"value": "38765432000010", "scheme": "0009"},
                             "legal_registration_identifier": {"value": "387654320", "scheme": "0002"}})
        ext["process_control"]["specification_identifier"] = EXTENDED_ID
        ext["payment_instructions"]["direct_debit"] = {"mandate_reference": "MDT-DUF-0042", "debited_account_identifier": "FR7610107001011234567890129"}
        out[f"fr-extended-agents-B1-{syntax}"] = (syntax, ext)
    # Multi-vendor (B8), EXTENDED-CTC-FR: one GROUP line per vendor (its sub-invoice: number with
    # scheme AFL, the vendor's own framework with scheme AVV, the vendor, the sub-invoice's VAT) and
    # DETAIL lines under it; one VAT breakdown per sub-invoice, its exemption reason starting with
    # #sub-invoice number#. `sub_lines_xml` adds what the writers leave out.
    for syntax in ("ubl", "cii"):
        number = f"FR2026-015{1 if syntax == 'ubl' else 2}"
        sub = [dict(line(1, "Atelier Lumière : luminaires", "1", "740.00", "20"), object_identifier={"value": number, "scheme": "AFL"}),
               dict(line(2, "Lampe d'atelier laiton", "4", "185.00", "20"), object_identifier={"value": number, "scheme": "AFL"}),
               dict(line(3, "Verrerie Duval : abat-jour", "1", "255.00", "10"), object_identifier={"value": SUB_VENDOR["invoice"], "scheme": "AFL"}),
               dict(line(4, "Abat-jour verre soufflé", "6", "42.50", "10"), object_identifier={"value": SUB_VENDOR["invoice"], "scheme": "AFL"})]
        multi = invoice(number, "B8", sub)
        multi["process_control"]["specification_identifier"] = EXTENDED_ID
        # the GROUP lines do not count in the totals and the VAT breakdown: only their DETAIL lines do
        counted = [sub[1], sub[3]]
        net = sum((Decimal(i["net_amount"]) for i in counted), Decimal("0"))
        multi["vat_breakdown"] = [
            {"taxable_amount": "740.00", "tax_amount": "148.00", "category_code": "S", "rate": "20", "exemption_reason": f"#{number}#Atelier Lumière SAS"},
            {"taxable_amount": "255.00", "tax_amount": "25.50", "category_code": "S", "rate": "10", "exemption_reason": f"#{SUB_VENDOR['invoice']}#{SUB_VENDOR['name']}"},
        ]
        vat = Decimal("173.50")
        multi["totals"].update(line_net_amount=str(net), amount_without_vat=str(net), vat_amount=str(vat),
                               amount_with_vat=str(net + vat), amount_due_for_payment=str(net + vat))
        out[f"fr-multivendor-sub-lines-B8-{syntax}"] = (syntax, multi)
    return out


#: The second vendor of the multi-vendor sample: its SIREN (valid key), name and sub-invoice number.
SUB_VENDOR = {"siren": "732829320", "name": "Verrerie Duval SARL", "invoice": "VD-2026-0077"}
#: Line id -> (status, parent line, vendor SIREN or None for the seller, VAT of a GROUP line).
SUB_LINES = {"1": ("GROUP", None, None, "148.00"), "2": ("DETAIL", "1", None, None),
             "3": ("GROUP", None, SUB_VENDOR["siren"], "25.50"), "4": ("DETAIL", "3", SUB_VENDOR["siren"], None)}


EXTENDED_ID = "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr"
#: Parties of the EXTENDED-CTC-FR samples: (SIRET, SIREN, electronic address), valid check keys.
EXTENDED_PARTIES = {
    "seller_agent": ("44306184100047", "443061841", "443061841_AGENT"),
    "buyer_agent": ("73282932000074", "732829320", "732829320"),
    "invoicer": ("35600000000048", "356000000", "356000000_FACT"),
    "invoicee": ("55203253400646", "552032534", "552032534"),
    "payer": ("54210765113030", "542107651", "542107651"),
}
PAYEE_ADDRESS = "387654320"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


def _el(tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    prefix, local = tag.split(":")
    el = etree.Element(f"{{{NS[prefix]}}}{local}", attributes)
    el.text = text
    return el


def _tree(tag: str, *children: etree._Element, text: str | None = None, **attributes: str) -> etree._Element:
    el = _el(tag, text, **attributes)
    el.extend(children)
    return el


def _insert(parent: etree._Element, child: etree._Element, before: tuple[str, ...] = ()) -> None:
    """Insert `child` before the first of `before` present in `parent` (schema order), else last."""
    for tag in before:
        found = parent.find(tag, NS)
        if found is not None:
            found.addprevious(child)
            return
    parent.append(child)


def _ubl_party(tag: str, role: str) -> etree._Element:
    siret, siren, address = EXTENDED_PARTIES[role]
    return _tree(tag, _el("cbc:EndpointID", address, schemeID="0225"),
                 _tree("cac:PartyIdentification", _el("cbc:ID", siret, schemeID="0009")),
                 _tree("cac:PartyLegalEntity", _el("cbc:RegistrationName", role.replace("_", " ").title()), _el("cbc:CompanyID", siren, schemeID="0002")))


def _cii_party(tag: str, role: str) -> etree._Element:
    siret, siren, address = EXTENDED_PARTIES[role]
    return _tree(tag, _el("ram:GlobalID", siret, schemeID="0009"), _el("ram:Name", role.replace("_", " ").title()),
                 _tree("ram:SpecifiedLegalOrganization", _el("ram:ID", siren, schemeID="0002")),
                 _tree("ram:URIUniversalCommunication", _el("ram:URIID", address, schemeID="0225")))


def extended_xml(content: bytes, syntax: str) -> bytes:
    """The EXTENDED-CTC-FR parts the writers leave out, added to a written invoice."""
    root = etree.fromstring(content)
    if syntax == "ubl":
        for party_tag, agent, provider in (("cac:AccountingSupplierParty", "seller_agent", "invoicer"), ("cac:AccountingCustomerParty", "buyer_agent", "invoicee")):
            party = root.find(f"{party_tag}/cac:Party", NS)
            party.append(_ubl_party("cac:AgentParty", agent))
            party.append(_tree("cac:ServiceProviderParty", _ubl_party("cac:Party", provider)))
        mandate = root.find("cac:PaymentMeans/cac:PaymentMandate", NS)
        _insert(mandate, _ubl_party("cac:PayerParty", "payer"), ("cac:PayerFinancialAccount",))
        root.find("cac:PayeeParty", NS).insert(0, _el("cbc:EndpointID", PAYEE_ADDRESS, schemeID="0225"))
        for line in root.iterfind("cac:InvoiceLine", NS):
            reference = _tree("cac:BillingReference", _tree("cac:InvoiceDocumentReference", _el("cbc:ID", "FR2026-0101"),
                                                              _el("cbc:IssueDate", "2026-11-20"), _el("cbc:DocumentTypeCode", "380")))
            _insert(line, reference, ("cac:DocumentReference", "cac:PricingReference", "cac:Delivery", "cac:AllowanceCharge", "cac:Item"))
            delivery = _tree("cac:Delivery", _el("cbc:ActualDeliveryDate", "2026-11-18"),
                             _tree("cac:DeliveryLocation", _el("cbc:ID", "52198765100010", schemeID="0009")))
            _insert(line, delivery, ("cac:AllowanceCharge", "cac:Item"))
    else:
        transaction = root.find("{*}SupplyChainTradeTransaction")
        agreement = transaction.find("ram:ApplicableHeaderTradeAgreement", NS)
        _insert(agreement, _cii_party("ram:SalesAgentTradeParty", "seller_agent"), ("ram:BuyerTaxRepresentativeTradeParty", "ram:SellerTaxRepresentativeTradeParty", "ram:SellerOrderReferencedDocument", "ram:BuyerOrderReferencedDocument", "ram:ContractReferencedDocument", "ram:AdditionalReferencedDocument"))
        _insert(agreement, _cii_party("ram:BuyerAgentTradeParty", "buyer_agent"), ("ram:SpecifiedProcuringProject",))
        settlement = transaction.find("ram:ApplicableHeaderTradeSettlement", NS)
        _insert(settlement, _cii_party("ram:InvoicerTradeParty", "invoicer"), ("ram:InvoiceeTradeParty", "ram:PayeeTradeParty", "ram:SpecifiedTradeSettlementPaymentMeans"))
        _insert(settlement, _cii_party("ram:InvoiceeTradeParty", "invoicee"), ("ram:PayeeTradeParty", "ram:SpecifiedTradeSettlementPaymentMeans"))
        _insert(settlement, _cii_party("ram:PayerTradeParty", "payer"), ("ram:SpecifiedTradeSettlementPaymentMeans",))
        payee = settlement.find("ram:PayeeTradeParty", NS)
        payee.append(_tree("ram:URIUniversalCommunication", _el("ram:URIID", PAYEE_ADDRESS, schemeID="0225")))
        for line in transaction.iterfind("ram:IncludedSupplyChainTradeLineItem", NS):
            delivery = line.find("ram:SpecifiedLineTradeDelivery", NS)
            delivery.append(_tree("ram:ShipToTradeParty", _el("ram:GlobalID", "52198765100010", schemeID="0009")))
            delivery.append(_tree("ram:ActualDeliverySupplyChainEvent", _tree("ram:OccurrenceDateTime", _el("udt:DateTimeString", "20261118", format="102"))))
            settlement_line = line.find("ram:SpecifiedLineTradeSettlement", NS)
            reference = _tree("ram:InvoiceReferencedDocument", _el("ram:IssuerAssignedID", "FR2026-0101"), _el("ram:TypeCode", "380"),
                              _tree("ram:FormattedIssueDateTime", _el("qdt:DateTimeString", "20261120", format="102")))
            _insert(settlement_line, reference, ("ram:AdditionalReferencedDocument", "ram:ReceivableSpecifiedTradeAccountingAccount"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sub_lines_xml(content: bytes, syntax: str) -> bytes:
    """The sub-line parts of the multi-vendor sample the writers leave out: each line's status and
    parent, vendor, framework (AVV), the VAT of a GROUP line and a DETAIL line's exemption reason."""
    root = etree.fromstring(content)
    number = root.findtext("cbc:ID", namespaces=NS) if syntax == "ubl" else root.findtext("{*}ExchangedDocument/ram:ID", namespaces=NS)
    seller_siren = SELLER["legal_registration_identifier"]["value"]
    lines = root.iterfind("cac:InvoiceLine", NS) if syntax == "ubl" else root.iterfind("{*}SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NS)
    for line_el in lines:
        ident = line_el.findtext("cbc:ID" if syntax == "ubl" else "ram:AssociatedDocumentLineDocument/ram:LineID", namespaces=NS)
        status, parent, vendor, group_vat = SUB_LINES[ident]
        siren = vendor or seller_siren
        name = SUB_VENDOR["name"] if vendor else SELLER["name"]
        sub_invoice = SUB_VENDOR["invoice"] if vendor else number
        reason = f"#{sub_invoice}#{name}"
        if syntax == "ubl":
            reference = _tree("cac:InvoiceDocumentReference", _el("cbc:ID", number), _el("cbc:DocumentStatusCode", status))
            billing = _tree("cac:BillingReference", reference)
            if parent:
                billing.append(_tree("cac:BillingReferenceLine", _el("cbc:ID", parent)))
            _insert(line_el, billing, ("cac:DocumentReference", "cac:PricingReference", "cac:Delivery", "cac:AllowanceCharge", "cac:Item"))
            line_el.find("cac:DocumentReference", NS).addnext(
                _tree("cac:DocumentReference", _el("cbc:ID", "B1", schemeID="AVV"), _el("cbc:DocumentTypeCode", "130")))
            if group_vat:
                _insert(line_el, _tree("cac:TaxTotal", _el("cbc:TaxAmount", group_vat, currencyID="EUR")), ("cac:Item",))
            item = line_el.find("cac:Item", NS)
            if status == "DETAIL":
                item.find("cac:ClassifiedTaxCategory/cac:TaxScheme", NS).addprevious(_el("cbc:TaxExemptionReason", reason))
            item.append(_tree("cac:ManufacturerParty",
                              _tree("cac:PostalAddress", _tree("cac:Country", _el("cbc:IdentificationCode", "FR"))),
                              _tree("cac:PartyLegalEntity", _el("cbc:RegistrationName", name), _el("cbc:CompanyID", siren, schemeID="0002"))))
        else:
            document = line_el.find("ram:AssociatedDocumentLineDocument", NS)
            if parent:
                _insert(document, _el("ram:ParentLineID", parent), ("ram:IncludedNote",))
            _insert(document, _el("ram:LineStatusReasonCode", status), ("ram:IncludedNote",))
            agreement = line_el.find("ram:SpecifiedLineTradeAgreement", NS)
            agreement.append(_tree("ram:ItemSellerTradeParty", _el("ram:Name", name),
                                   _tree("ram:SpecifiedLegalOrganization", _el("ram:ID", siren, schemeID="0002")),
                                   _tree("ram:PostalTradeAddress", _el("ram:CountryID", "FR"))))
            settlement = line_el.find("ram:SpecifiedLineTradeSettlement", NS)
            if status == "DETAIL":
                tax = settlement.find("ram:ApplicableTradeTax", NS)
                tax.find("ram:TypeCode", NS).addnext(_el("ram:ExemptionReason", reason))
            if group_vat:
                summation = settlement.find("ram:SpecifiedTradeSettlementLineMonetarySummation", NS)
                net = summation.findtext("ram:LineTotalAmount", namespaces=NS)
                summation.append(_el("ram:TaxTotalAmount", group_vat, currencyID="EUR"))
                summation.append(_el("ram:GrandTotalAmount", str(Decimal(net) + Decimal(group_vat))))
            afl = settlement.find("ram:AdditionalReferencedDocument", NS)
            afl.addnext(_tree("ram:AdditionalReferencedDocument", _el("ram:IssuerAssignedID", "B1"), _el("ram:TypeCode", "130"), _el("ram:ReferenceTypeCode", "AVV")))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build() -> list[Path]:
    written = []
    for stem, (fmt, data) in samples().items():
        path = HERE / f"{stem}.{EXTENSION[fmt]}"
        content = write_invoice(Invoice.model_validate(data), fmt)
        if stem.startswith("fr-extended-"):
            content = extended_xml(content, fmt)
        if stem.startswith("fr-multivendor-"):
            content = sub_lines_xml(content, fmt)
        if fmt == "facturx" and path.exists():
            continue  # PDFs carry a creation date: keep the committed file unless removed
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            written.append(path)
    return written


if __name__ == "__main__":
    for written_path in build():
        print(f"wrote {written_path}")
