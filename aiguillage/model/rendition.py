"""A human-readable PDF of an invoice, in English or French (reportlab).

Factur-X needs a readable PDF around its XML, and the print and fax channels
send the same rendition, so it lives on its own. It shows what a person needs
to check and pay the invoice: parties, references, lines, allowances and
charges, VAT breakdown, totals, payment details and notes. The line table
repeats its header on every page. Fonts are embedded TrueType (DejaVu Sans
when the system has it, else reportlab's bundled Vera), so names in any Latin,
Greek or Cyrillic script print as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from aiguillage.model.invoice import Invoice, InvoiceLine

#: Labels per language; every label used below exists in each.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "currency": "Currency",
        "seller": "Seller",
        "buyer": "Buyer",
        "payee": "Payee",
        "tax_representative": "Tax representative",
        "deliver_to": "Deliver to",
        "vat_id": "VAT ID",
        "tax_registration": "Tax registration",
        "legal_registration": "Registration",
        "identifier": "ID",
        "electronic_address": "E-address",
        "contact": "Contact",
        "references": "References",
        "buyer_reference": "Buyer reference",
        "order_reference": "Purchase order",
        "sales_order_reference": "Sales order",
        "contract_reference": "Contract",
        "project_reference": "Project",
        "receiving_advice_reference": "Receiving advice",
        "despatch_advice_reference": "Despatch advice",
        "tender_reference": "Tender or lot",
        "invoiced_object": "Invoiced object",
        "buyer_accounting_reference": "Buyer accounting reference",
        "invoicing_period": "Invoicing period",
        "delivery_date": "Delivery date",
        "vat_point_date": "VAT point date",
        "vat_point_date_code": "VAT point date code",
        "preceding_invoice": "Preceding invoice",
        "specification": "Specification",
        "business_process": "Business process",
        "lines": "Lines",
        "line": "#",
        "description": "Description",
        "quantity": "Quantity",
        "unit": "Unit",
        "unit_price": "Unit price",
        "vat": "VAT",
        "net_amount": "Net amount",
        "per": "per",
        "gross_price": "gross",
        "price_discount": "discount",
        "allowance": "Allowance",
        "charge": "Charge",
        "allowances_charges": "Allowances and charges",
        "kind": "Type",
        "reason": "Reason",
        "base": "Base",
        "rate": "Rate",
        "amount": "Amount",
        "vat_breakdown": "VAT breakdown",
        "category": "Category",
        "taxable_amount": "Taxable amount",
        "vat_amount": "VAT amount",
        "exemption": "Exemption",
        "totals": "Totals",
        "line_net_amount": "Sum of line net amounts",
        "allowance_total": "Allowances",
        "charge_total": "Charges",
        "amount_without_vat": "Total without VAT",
        "total_vat": "Total VAT",
        "vat_in_accounting_currency": "Total VAT in accounting currency",
        "amount_with_vat": "Total with VAT",
        "paid_amount": "Paid amount",
        "rounding_amount": "Rounding",
        "amount_due": "Amount due",
        "payment": "Payment",
        "payment_means": "Payment means",
        "remittance": "Payment reference",
        "account": "Account",
        "account_name": "Account name",
        "bic": "BIC",
        "card": "Card",
        "mandate": "Direct debit mandate",
        "creditor_id": "Creditor identifier",
        "debited_account": "Debited account",
        "payment_terms": "Payment terms",
        "notes": "Notes",
        "documents": "Supporting documents",
        "attachment": "attached",
        "item_seller_id": "Seller item",
        "item_buyer_id": "Buyer item",
        "item_standard_id": "Standard ID",
        "item_classification": "Classification",
        "item_origin": "Origin",
        "order_line": "Order line",
        "object": "Object",
        "accounting": "Accounting",
        "period": "Period",
        "page": "Page",
    },
    "fr": {
        "invoice": "Facture",
        "number": "Numéro",
        "issue_date": "Date d'émission",
        "due_date": "Échéance",
        "currency": "Devise",
        "seller": "Vendeur",
        "buyer": "Acheteur",
        "payee": "Bénéficiaire",
        "tax_representative": "Représentant fiscal",
        "deliver_to": "Livrer à",
        "vat_id": "N° TVA",
        "tax_registration": "N° fiscal",
        "legal_registration": "Immatriculation",
        "identifier": "ID",
        "electronic_address": "Adresse électronique",
        "contact": "Contact",
        "references": "Références",
        "buyer_reference": "Référence acheteur",
        "order_reference": "Bon de commande",
        "sales_order_reference": "Commande client",
        "contract_reference": "Contrat",
        "project_reference": "Projet",
        "receiving_advice_reference": "Avis de réception",
        "despatch_advice_reference": "Avis d'expédition",
        "tender_reference": "Appel d'offres ou lot",
        "invoiced_object": "Objet facturé",
        "buyer_accounting_reference": "Référence comptable acheteur",
        "invoicing_period": "Période de facturation",
        "delivery_date": "Date de livraison",
        "vat_point_date": "Date d'exigibilité de la TVA",
        "vat_point_date_code": "Code d'exigibilité de la TVA",
        "preceding_invoice": "Facture antérieure",
        "specification": "Spécification",
        "business_process": "Processus",
        "lines": "Lignes",
        "line": "N°",
        "description": "Désignation",
        "quantity": "Quantité",
        "unit": "Unité",
        "unit_price": "Prix unitaire",
        "vat": "TVA",
        "net_amount": "Montant HT",
        "per": "pour",
        "gross_price": "brut",
        "price_discount": "remise",
        "allowance": "Remise",
        "charge": "Frais",
        "allowances_charges": "Remises et frais",
        "kind": "Type",
        "reason": "Motif",
        "base": "Base",
        "rate": "Taux",
        "amount": "Montant",
        "vat_breakdown": "Ventilation de la TVA",
        "category": "Catégorie",
        "taxable_amount": "Base HT",
        "vat_amount": "Montant TVA",
        "exemption": "Exonération",
        "totals": "Totaux",
        "line_net_amount": "Total des lignes HT",
        "allowance_total": "Remises",
        "charge_total": "Frais",
        "amount_without_vat": "Total HT",
        "total_vat": "Total TVA",
        "vat_in_accounting_currency": "Total TVA en devise de comptabilisation",
        "amount_with_vat": "Total TTC",
        "paid_amount": "Déjà payé",
        "rounding_amount": "Arrondi",
        "amount_due": "Net à payer",
        "payment": "Paiement",
        "payment_means": "Moyen de paiement",
        "remittance": "Référence de paiement",
        "account": "Compte",
        "account_name": "Titulaire",
        "bic": "BIC",
        "card": "Carte",
        "mandate": "Mandat de prélèvement",
        "creditor_id": "Identifiant créancier",
        "debited_account": "Compte débité",
        "payment_terms": "Conditions de paiement",
        "notes": "Notes",
        "documents": "Pièces justificatives",
        "attachment": "jointe",
        "item_seller_id": "Réf. vendeur",
        "item_buyer_id": "Réf. acheteur",
        "item_standard_id": "ID standard",
        "item_classification": "Classification",
        "item_origin": "Origine",
        "order_line": "Ligne de commande",
        "object": "Objet",
        "accounting": "Comptabilité",
        "period": "Période",
        "page": "Page",
    },
}

#: Document titles by invoice type code (UNTDID 1001), per language.
TITLES: dict[str, dict[str, str]] = {
    "en": {
        "326": "Partial invoice",
        "380": "Invoice",
        "381": "Credit note",
        "383": "Debit note",
        "384": "Corrected invoice",
        "386": "Prepayment invoice",
        "389": "Self-billed invoice",
        "261": "Self-billed credit note",
    },
    "fr": {
        "326": "Facture partielle",
        "380": "Facture",
        "381": "Avoir",
        "383": "Note de débit",
        "384": "Facture rectificative",
        "386": "Facture d'acompte",
        "389": "Autofacture",
        "261": "Avoir autofacturé",
    },
}

#: Payment means in words (UNTDID 4461), per language.
PAYMENT_MEANS: dict[str, dict[str, str]] = {
    "en": {
        "1": "Not defined",
        "10": "Cash",
        "20": "Cheque",
        "30": "Credit transfer",
        "31": "Debit transfer",
        "42": "Payment to bank account",
        "48": "Bank card",
        "49": "Direct debit",
        "54": "Credit card",
        "55": "Debit card",
        "57": "Standing agreement",
        "58": "SEPA credit transfer",
        "59": "SEPA direct debit",
        "97": "Clearing between partners",
    },
    "fr": {
        "1": "Non défini",
        "10": "Espèces",
        "20": "Chèque",
        "30": "Virement",
        "31": "Virement de débit",
        "42": "Paiement sur compte bancaire",
        "48": "Carte bancaire",
        "49": "Prélèvement",
        "54": "Carte de crédit",
        "55": "Carte de débit",
        "57": "Accord permanent",
        "58": "Virement SEPA",
        "59": "Prélèvement SEPA",
        "97": "Compensation entre partenaires",
    },
}

#: Longest text a single table cell shows; longer text is cut so one row never outgrows a page.
MAX_CELL_TEXT = 1500

_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"),
        str(Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf"),
    ),
)
_REGULAR = "AiguillageSans"
_BOLD = "AiguillageSans-Bold"
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)], None)


@cache
def _fonts() -> tuple[str, str]:
    """Register an embeddable TrueType pair once; Helvetica only if none is found."""
    for regular, bold in _FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            pdfmetrics.registerFont(TTFont(_REGULAR, regular))
            pdfmetrics.registerFont(TTFont(_BOLD, bold))
            return _REGULAR, _BOLD
    return "Helvetica", "Helvetica-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=10.5)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9, textColor=colors.HexColor("#444444")),
        "bold": ParagraphStyle("bold", parent=base, fontName=bold),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=7.5, leading=9),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "right_bold": ParagraphStyle("right_bold", parent=base, fontName=bold, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=18, leading=22),
        "heading": ParagraphStyle("heading", parent=base, fontName=bold, fontSize=10, leading=13, spaceBefore=8, spaceAfter=3),
    }


# ---------------------------------------------------------------- formatting


def format_amount(value: Decimal | None, lang: str = "en") -> str:
    """A number with its written precision and grouped thousands: 1,234.50 or 1 234,50."""
    if value is None:
        return ""
    text = f"{value:,f}"
    if lang == "fr":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_date(value: date | None, lang: str = "en") -> str:
    """ISO dates in English (unambiguous), day/month/year in French."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if lang == "fr" else value.isoformat()


def _clean(text: object, limit: int = MAX_CELL_TEXT) -> str:
    """Text safe for a reportlab paragraph: no control characters, markup escaped, bounded."""
    value = str(text).translate(_CONTROL)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape(value).replace("\n", "<br/>")


def _para(text: object, style: str = "base") -> Paragraph:
    return Paragraph(_clean(text), _styles()[style])


def _lines_para(lines: Iterable[str | None], style: str = "base", bold_first: bool = False) -> Paragraph:
    """Several lines in one cell; empty ones are skipped; the first may be bold."""
    kept = [_clean(line) for line in lines if line]
    if bold_first and kept:
        kept[0] = f"<b>{kept[0]}</b>"
    return Paragraph("<br/>".join(kept), _styles()[style])


def _identifier_text(identifier: Any) -> str | None:
    if identifier is None:
        return None
    if identifier.scheme:
        return f"{identifier.value or ''} ({identifier.scheme})"
    return identifier.value


# ---------------------------------------------------------------- sections


class _Rendition:
    """Builds the story (the flowables) of one invoice in one language."""

    def __init__(self, invoice: Invoice, lang: str) -> None:
        self.invoice = invoice
        self.lang = lang if lang in LABELS else "en"
        self.labels = LABELS[self.lang]
        self.styles = _styles()

    def label(self, key: str) -> str:
        return self.labels[key]

    def amount(self, value: Decimal | None) -> str:
        return format_amount(value, self.lang)

    def date(self, value: date | None) -> str:
        return format_date(value, self.lang)

    def percent(self, value: Decimal | None) -> str | None:
        return None if value is None else f"{format_amount(value, self.lang)}%"

    def vat_text(self, category: str | None, rate: Decimal | None) -> str:
        return " ".join(part for part in (category, self.percent(rate)) if part)

    def title(self) -> str:
        code = self.invoice.type_code or "380"
        return TITLES[self.lang].get(code, self.label("invoice"))

    def story(self) -> list[Any]:
        story: list[Any] = [self.header(), Spacer(1, 5 * mm), self.parties()]
        for section in (
            self.other_parties,
            self.references,
            self.lines,
            self.allowances_charges,
            self.vat_breakdown,
            self.totals,
            self.payment,
            self.notes,
            self.documents,
        ):
            story.extend(section())
        return story

    # ------------------------------------------------------------ header and parties

    def header(self) -> Table:
        invoice = self.invoice
        facts = [
            (self.label("number"), invoice.number),
            (self.label("issue_date"), self.date(invoice.issue_date)),
            (self.label("due_date"), self.date(invoice.due_date)),
            (self.label("currency"), invoice.currency_code),
        ]
        rows = [[_para(name, "small"), _para(value, "bold")] for name, value in facts if value]
        details = Table(rows, colWidths=[28 * mm, 50 * mm], hAlign="RIGHT") if rows else Spacer(1, 1)
        table = Table([[Paragraph(_clean(self.title()), self.styles["title"]), details]], colWidths=[96 * mm, 78 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
        return table

    def party_lines(self, party: Any, address: Any, contact: Any = None) -> list[str | None]:
        if party is None:
            return []
        lines: list[str | None] = [getattr(party, "name", None), getattr(party, "trading_name", None)]
        lines += self.address_lines(address)
        for identifier in getattr(party, "identifiers", []) or [getattr(party, "identifier", None)]:
            text = _identifier_text(identifier)
            lines.append(f"{self.label('identifier')}: {text}" if text else None)
        vat = getattr(party, "vat_identifier", None)
        lines.append(f"{self.label('vat_id')}: {vat}" if vat else None)
        local = getattr(party, "tax_registration_identifier", None)
        lines.append(f"{self.label('tax_registration')}: {local}" if local else None)
        legal = _identifier_text(getattr(party, "legal_registration_identifier", None))
        lines.append(f"{self.label('legal_registration')}: {legal}" if legal else None)
        electronic = _identifier_text(getattr(party, "electronic_address", None))
        lines.append(f"{self.label('electronic_address')}: {electronic}" if electronic else None)
        if contact is not None:
            parts = [contact.point, contact.telephone, contact.email]
            lines.append(f"{self.label('contact')}: " + ", ".join(p for p in parts if p))
        lines.append(getattr(party, "additional_legal_information", None))
        return lines

    @staticmethod
    def address_lines(address: Any) -> list[str | None]:
        if address is None:
            return []
        city = " ".join(part for part in (address.post_code, address.city) if part)
        return [address.line_one, address.line_two, address.line_three, city, address.country_subdivision, address.country_code]

    def party_cell(self, heading: str, lines: list[str | None]) -> list[Any]:
        return [_para(heading, "small"), _lines_para(lines, bold_first=True)]

    def parties(self) -> Table:
        invoice = self.invoice
        seller, buyer = invoice.seller, invoice.buyer
        seller_lines = self.party_lines(seller, seller and seller.postal_address, seller and seller.contact)
        buyer_lines = self.party_lines(buyer, buyer and buyer.postal_address, buyer and buyer.contact)
        table = Table(
            [[self.party_cell(self.label("seller"), seller_lines), self.party_cell(self.label("buyer"), buyer_lines)]],
            colWidths=[87 * mm, 87 * mm],
        )
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOX", (0, 0), (0, 0), 0.4, colors.grey), ("BOX", (1, 0), (1, 0), 0.4, colors.grey)]))
        return table

    def other_parties(self) -> list[Any]:
        invoice = self.invoice
        cells = []
        if invoice.payee is not None:
            cells.append(self.party_cell(self.label("payee"), self.party_lines(invoice.payee, None)))
        representative = invoice.tax_representative
        if representative is not None:
            cells.append(self.party_cell(self.label("tax_representative"), self.party_lines(representative, representative.postal_address)))
        delivery = invoice.delivery
        if delivery is not None and (delivery.party_name or delivery.address or delivery.location_identifier):
            lines = [delivery.party_name, *self.address_lines(delivery.address), _identifier_text(delivery.location_identifier)]
            cells.append(self.party_cell(self.label("deliver_to"), lines))
        if not cells:
            return []
        width = 174 * mm / len(cells)
        table = Table([cells], colWidths=[width] * len(cells))
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return [Spacer(1, 3 * mm), table]

    # ------------------------------------------------------------ references

    def reference_pairs(self) -> list[tuple[str, str | None]]:
        invoice = self.invoice
        delivery = invoice.delivery
        period = delivery.invoicing_period if delivery is not None else None
        period_text = f"{self.date(period.start_date)} – {self.date(period.end_date)}" if period is not None else None
        control = invoice.process_control
        pairs: list[tuple[str, str | None]] = [
            ("buyer_reference", invoice.buyer_reference),
            ("order_reference", invoice.order_reference),
            ("sales_order_reference", invoice.sales_order_reference),
            ("contract_reference", invoice.contract_reference),
            ("project_reference", invoice.project_reference),
            ("receiving_advice_reference", invoice.receiving_advice_reference),
            ("despatch_advice_reference", invoice.despatch_advice_reference),
            ("tender_reference", invoice.tender_reference),
            ("invoiced_object", _identifier_text(invoice.invoiced_object_identifier)),
            ("buyer_accounting_reference", invoice.buyer_accounting_reference),
            ("invoicing_period", period_text),
            ("delivery_date", self.date(delivery.actual_delivery_date) if delivery is not None else None),
            ("vat_point_date", self.date(invoice.vat_point_date)),
            ("vat_point_date_code", invoice.vat_point_date_code),
        ]
        for preceding in invoice.preceding_invoices:
            issued = f" ({self.date(preceding.issue_date)})" if preceding.issue_date else ""
            pairs.append(("preceding_invoice", f"{preceding.reference or ''}{issued}"))
        if control is not None:
            pairs.append(("business_process", control.business_process_type))
            pairs.append(("specification", control.specification_identifier))
        return pairs

    def references(self) -> list[Any]:
        rows = [[_para(self.label(key), "small"), _para(value)] for key, value in self.reference_pairs() if value]
        if not rows:
            return []
        return [self.heading("references"), self.grid(rows, [55 * mm, 119 * mm], header=False)]

    # ------------------------------------------------------------ lines

    def line_description(self, line: InvoiceLine) -> Paragraph:
        item = line.item
        parts: list[str] = []
        if item is not None:
            parts.append(f"<b>{_clean(item.name or '')}</b>")
            if item.description:
                parts.append(_clean(item.description))
            codes = [
                (self.label("item_seller_id"), item.sellers_identifier),
                (self.label("item_buyer_id"), item.buyers_identifier),
                (self.label("item_standard_id"), _identifier_text(item.standard_identifier)),
                (self.label("item_origin"), item.country_of_origin),
            ]
            codes += [(self.label("item_classification"), _identifier_text(c)) for c in item.classification_identifiers]
            codes += [(attribute.name or "", attribute.value) for attribute in item.attributes]
            parts.append(_clean(" · ".join(f"{name}: {value}" for name, value in codes if value)))
        extra = [
            (self.label("order_line"), line.order_line_reference),
            (self.label("object"), _identifier_text(line.object_identifier)),
            (self.label("accounting"), line.buyer_accounting_reference),
        ]
        if line.period is not None:
            extra.append((self.label("period"), f"{self.date(line.period.start_date)} – {self.date(line.period.end_date)}"))
        parts.append(_clean(" · ".join(f"{name}: {value}" for name, value in extra if value)))
        for entries, kind in ((line.allowances, "allowance"), (line.charges, "charge")):
            for entry in entries:
                reason = entry.reason or entry.reason_code or ""
                parts.append(_clean(f"{self.label(kind)} {reason}: {self.amount(entry.amount)}"))
        if line.note:
            parts.append(f"<i>{_clean(line.note)}</i>")
        return Paragraph("<br/>".join(part for part in parts if part), self.styles["base"])

    def unit_price(self, line: InvoiceLine) -> Paragraph:
        price = line.price
        if price is None:
            return _para("")
        text = self.amount(price.net_price)
        if price.base_quantity is not None and price.base_quantity != 1:
            text += f" {self.label('per')} {self.amount(price.base_quantity)} {price.base_quantity_unit_code or ''}".rstrip()
        details = []
        if price.gross_price is not None:
            details.append(f"{self.label('gross_price')} {self.amount(price.gross_price)}")
        if price.discount is not None:
            details.append(f"{self.label('price_discount')} {self.amount(price.discount)}")
        lines = [text, *details]
        return Paragraph("<br/>".join(_clean(part) for part in lines), self.styles["right"])

    def lines(self) -> list[Any]:
        header = [_para(self.label(key), "head") for key in ("line", "description", "quantity", "unit", "unit_price", "vat", "net_amount")]
        rows: list[list[Any]] = [header]
        for line in self.invoice.lines:
            vat = line.vat
            vat_text = self.vat_text(vat.category_code, vat.rate) if vat is not None else ""
            rows.append(
                [
                    _para(line.identifier or ""),
                    self.line_description(line),
                    _para(self.amount(line.quantity), "right"),
                    _para(line.quantity_unit_code or ""),
                    self.unit_price(line),
                    _para(vat_text, "right"),
                    _para(self.amount(line.net_amount), "right"),
                ]
            )
        widths = [12 * mm, 60 * mm, 20 * mm, 14 * mm, 26 * mm, 16 * mm, 26 * mm]
        return [self.heading("lines"), self.grid(rows, widths)]

    # ------------------------------------------------------------ money

    def allowances_charges(self) -> list[Any]:
        invoice = self.invoice
        rows: list[list[Any]] = []
        for entries, kind in ((invoice.allowances, "allowance"), (invoice.charges, "charge")):
            for entry in entries:
                reason = " ".join(part for part in (entry.reason, f"({entry.reason_code})" if entry.reason_code else None) if part)
                vat = self.vat_text(entry.vat_category_code, entry.vat_rate)
                percentage = self.percent(entry.percentage) or ""
                rows.append(
                    [
                        _para(self.label(kind)),
                        _para(reason),
                        _para(self.amount(entry.base_amount), "right"),
                        _para(percentage, "right"),
                        _para(vat, "right"),
                        _para(self.amount(entry.amount), "right"),
                    ]
                )
        if not rows:
            return []
        header = [_para(self.label(key), "head") for key in ("kind", "reason", "base", "rate", "vat", "amount")]
        widths = [30 * mm, 62 * mm, 24 * mm, 16 * mm, 18 * mm, 24 * mm]
        return [self.heading("allowances_charges"), self.grid([header, *rows], widths)]

    def vat_breakdown(self) -> list[Any]:
        rows: list[list[Any]] = []
        for breakdown in self.invoice.vat_breakdown:
            exemption = " ".join(part for part in (breakdown.exemption_reason, breakdown.exemption_reason_code) if part)
            rows.append(
                [
                    _para(breakdown.category_code or ""),
                    _para(self.percent(breakdown.rate) or "", "right"),
                    _para(self.amount(breakdown.taxable_amount), "right"),
                    _para(self.amount(breakdown.tax_amount), "right"),
                    _para(exemption),
                ]
            )
        if not rows:
            return []
        header = [_para(self.label(key), "head") for key in ("category", "rate", "taxable_amount", "vat_amount", "exemption")]
        widths = [22 * mm, 18 * mm, 32 * mm, 32 * mm, 70 * mm]
        return [self.heading("vat_breakdown"), self.grid([header, *rows], widths)]

    def totals(self) -> list[Any]:
        invoice = self.invoice
        totals = invoice.totals
        if totals is None:
            return []
        currency = invoice.currency_code or ""
        accounting = invoice.vat_accounting_currency_code or ""
        entries = [
            ("line_net_amount", totals.line_net_amount, currency),
            ("allowance_total", totals.allowance_total_amount, currency),
            ("charge_total", totals.charge_total_amount, currency),
            ("amount_without_vat", totals.amount_without_vat, currency),
            ("total_vat", totals.vat_amount, currency),
            ("vat_in_accounting_currency", totals.vat_amount_in_accounting_currency, accounting),
            ("amount_with_vat", totals.amount_with_vat, currency),
            ("paid_amount", totals.paid_amount, currency),
            ("rounding_amount", totals.rounding_amount, currency),
        ]
        rows = [[_para(self.label(key), "right"), _para(f"{self.amount(value)} {unit}".strip(), "right")] for key, value, unit in entries if value is not None]
        due = totals.amount_due_for_payment
        if due is not None:
            rows.append([_para(self.label("amount_due"), "right_bold"), _para(f"{self.amount(due)} {currency}".strip(), "right_bold")])
        if not rows:
            return []
        table = Table(rows, colWidths=[60 * mm, 40 * mm], hAlign="RIGHT")
        style = [("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 0.6, colors.black)] if due is not None else []
        table.setStyle(TableStyle(style))
        return [Spacer(1, 3 * mm), KeepTogether([table])]

    # ------------------------------------------------------------ payment, notes, documents

    def payment_pairs(self) -> list[tuple[str, str | None]]:
        invoice = self.invoice
        pairs: list[tuple[str, str | None]] = [("payment_terms", invoice.payment_terms), ("due_date", self.date(invoice.due_date))]
        instructions = invoice.payment_instructions
        if instructions is None:
            return pairs
        means = instructions.means_type_code
        means_words = PAYMENT_MEANS[self.lang].get(means or "")
        means_text = " – ".join(part for part in (means_words, instructions.means_text, f"({means})" if means else None) if part)
        pairs += [("payment_means", means_text), ("remittance", instructions.remittance_information)]
        for transfer in instructions.credit_transfers:
            pairs += [("account", transfer.account_identifier), ("account_name", transfer.account_name), ("bic", transfer.service_provider_identifier)]
        card = instructions.card
        if card is not None:
            pairs.append(("card", " ".join(part for part in (card.primary_account_number, card.holder_name) if part)))
        debit = instructions.direct_debit
        if debit is not None:
            pairs += [("mandate", debit.mandate_reference), ("creditor_id", debit.creditor_identifier), ("debited_account", debit.debited_account_identifier)]
        return pairs

    def payment(self) -> list[Any]:
        rows = [[_para(self.label(key), "small"), _para(value)] for key, value in self.payment_pairs() if value]
        if not rows:
            return []
        return [self.heading("payment"), self.grid(rows, [55 * mm, 119 * mm], header=False)]

    def notes(self) -> list[Any]:
        notes = [note for note in self.invoice.notes if note.text or note.subject_code]
        if not notes:
            return []
        paragraphs: list[Any] = [self.heading("notes")]
        for note in notes:
            subject = f"<b>{_clean(note.subject_code)}</b> " if note.subject_code else ""
            paragraphs.append(Paragraph(subject + _clean(note.text or "", limit=20_000), self.styles["base"]))
        return paragraphs

    def documents(self) -> list[Any]:
        rows = []
        for document in self.invoice.supporting_documents:
            attached = document.attachment
            name = f"{attached.filename or ''} ({self.label('attachment')})" if attached is not None else None
            text = " · ".join(part for part in (document.description, document.external_location, name) if part)
            rows.append([_para(document.reference or ""), _para(text)])
        if not rows:
            return []
        return [self.heading("documents"), self.grid(rows, [55 * mm, 119 * mm], header=False)]

    # ------------------------------------------------------------ helpers

    def heading(self, key: str) -> Paragraph:
        return Paragraph(_clean(self.label(key)), self.styles["heading"])

    @staticmethod
    def grid(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
        """A ruled table; with a header row, that row repeats on every page it spans."""
        table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if header:
            style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")), ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black)]
        table.setStyle(TableStyle(style))
        return table

    def footer(self) -> Callable[[Any, Any], None]:
        regular, _ = _fonts()
        text = f"{self.title()} {self.invoice.number or ''}".strip()
        page = self.label("page")

        def draw(canvas: Any, document: Any) -> None:
            canvas.saveState()
            canvas.setFont(regular, 7.5)
            canvas.setFillColor(colors.grey)
            canvas.drawString(18 * mm, 10 * mm, text)
            canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{page} {document.page}")
            canvas.restoreState()

        return draw


def render_pdf(invoice: Invoice, lang: str = "en") -> bytes:
    """Render the invoice as a PDF in `lang` ("en" or "fr"); same invoice, same bytes."""
    rendition = _Rendition(invoice, lang)
    seller = invoice.seller.name if invoice.seller is not None and invoice.seller.name else ""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{rendition.title()} {invoice.number or ''}".strip(),
        author=seller,
        subject=rendition.title(),
        creator="Aiguillage",
        lang={"fr": "fr-FR"}.get(rendition.lang, "en-GB"),
        invariant=True,
    )
    footer = rendition.footer()
    document.build(rendition.story(), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
