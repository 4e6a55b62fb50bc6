"""An EDIFACT INVOIC D.96A interchange from the semantic invoice, built with pydifact.

pydifact does the syntax (service string advice, escaping, segment and
interchange counts); this module only says which segment carries which
business term. The layout follows the common EANCOM-style use of INVOIC
D.96A: parties by GLN (NAD … ::9), VAT numbers as RFF+VA under the party,
document allowances and charges in the header (ALC), then lines
(LIN/PIA/IMD/QTY/MOA/PRI/RFF/TAX/ALC), then the summary (UNS, CNT, MOA, TAX).
"""

from __future__ import annotations

import hashlib
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pydifact.control import Characters
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

from aiguillage.model.invoice import (
    DocumentAllowance,
    DocumentCharge,
    Identifier,
    Invoice,
    InvoiceLine,
)

#: The separators written in UNA; decimal point "." as EANCOM recommends.
CHARACTERS = Characters(component_separator=":", data_separator="+", decimal_point=".",
                        escape_character="?", reserved=" ", segment_terminator="'")
#: Syntax UNOC (ISO 8859-1) carries French and German letters.
SYNTAX = ("UNOC", 3)
GLN_SCHEME = "0088"


@dataclass(frozen=True)
class Partners:
    """Who the interchange is from and to (UNB), with their code qualifiers (14 = GLN)."""

    sender_id: str
    recipient_id: str
    sender_qualifier: str = "14"
    recipient_qualifier: str = "14"


def control_reference(delivery_key: str) -> str:
    """A 14-digit interchange control reference derived from the delivery key.

    The same delivery gets the same reference on every attempt, so the
    partner's translator, which rejects a control reference it has seen,
    turns an accidental re-send into a recognised duplicate.
    """
    return str(int(hashlib.sha256(delivery_key.encode()).hexdigest(), 16) % 10**14).zfill(14)


def _text(value: str | None, size: int = 35) -> str:
    """Text UNOC can carry: characters outside ISO 8859-1 are decomposed or replaced, then cut to size."""
    if not value:
        return ""
    out = []
    for char in value.replace("\n", " "):
        if ord(char) < 256:
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(plain or {"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u20ac": "EUR"}.get(char, "?"))
    return "".join(out)[:size]


def _chunks(value: str | None, size: int = 35, count: int = 5) -> list[str]:
    """A long text over the repeated components of a composite (C080, C108), cut between words."""
    text = _text(value, size * count * 2)
    return textwrap.wrap(text, width=size, max_lines=count, placeholder="") or [""]


def _num(value: Decimal | None) -> str:
    """A number as EDIFACT wants it: plain digits, no exponent, "." as decimal mark (see UNA)."""
    if value is None:
        return "0"
    return format(value, "f")


def _date(value: date | datetime) -> str:
    return value.strftime("%Y%m%d")


def _gln(identifier: Identifier | None) -> Identifier | None:
    return identifier if identifier and identifier.value else None


def _party(qualifier: str, ident: Identifier | None, name: str | None, lines: list[str | None],
           city: str | None, post_code: str | None, country: str | None) -> Segment:
    """NAD: party id (agency 9 = GS1 for GLNs), name, street, city, post code, country."""
    party_id = ["", "", ""]
    if ident:
        party_id = [_text(ident.value), "", "9" if ident.scheme in (GLN_SCHEME, None) else "ZZZ"]
    street = [_text(line) for line in lines if line][:4] or [""]
    return Segment("NAD", qualifier, party_id, "", _chunks(name), street, _text(city), "",
                   _text(post_code, 9), _text(country, 3))


def _tax(category: str | None, rate: Decimal | None) -> Segment:
    """TAX+7 (tax) +VAT, rate in C243's fourth component, category (UNCL 5305) last."""
    return Segment("TAX", "7", "VAT", "", "", ["", "", "", _num(rate) if rate is not None else ""], category or "")


def _allowance_or_charge(entry: DocumentAllowance | DocumentCharge, charge: bool) -> list[Segment]:
    segments = [Segment("ALC", "C" if charge else "A", "", "", "",
                        [entry.reason_code or "", "", "", _text(entry.reason)])]
    if entry.percentage is not None:
        segments.append(Segment("PCD", ["2" if charge else "1", _num(entry.percentage)]))
    segments.append(Segment("MOA", ["23" if charge else "204", _num(entry.amount)]))
    segments.append(_tax(entry.vat_category_code, entry.vat_rate))
    return segments


def _line(line: InvoiceLine, number: int, order_reference: str | None) -> list[Segment]:
    item = line.item
    gtin = item.standard_identifier if item and item.standard_identifier and item.standard_identifier.value else None
    segments = [Segment("LIN", str(number), "", [_text(gtin.value), "SRV"]) if gtin else Segment("LIN", str(number))]
    if item and (item.sellers_identifier or item.buyers_identifier):
        codes = [[_text(item.sellers_identifier), "SA"]] if item.sellers_identifier else []
        codes += [[_text(item.buyers_identifier), "IN"]] if item.buyers_identifier else []
        segments.append(Segment("PIA", "1", *codes))
    if item:
        segments.append(Segment("IMD", "F", "", ["", "", "", *_chunks(item.name, 35, 2)]))
        if item.description:
            segments.append(Segment("IMD", "F", "", ["", "", "", *_chunks(item.description, 35, 2)]))
    segments.append(Segment("QTY", ["47", _num(line.quantity), _text(line.quantity_unit_code, 3)]))
    segments.append(Segment("MOA", ["203", _num(line.net_amount)]))
    price = line.price
    if price and price.net_price is not None:
        net = ["AAA", _num(price.net_price)]
        if price.base_quantity is not None:
            net += ["", "", _num(price.base_quantity), _text(price.base_quantity_unit_code, 3)]
        segments.append(Segment("PRI", net))
    if price and price.gross_price is not None:
        segments.append(Segment("PRI", ["AAB", _num(price.gross_price)]))
    if line.order_line_reference and order_reference:
        segments.append(Segment("RFF", ["ON", _text(order_reference), _text(line.order_line_reference, 6)]))
    elif line.order_line_reference:
        segments.append(Segment("RFF", ["LI", _text(line.order_line_reference)]))
    if line.vat:
        segments.append(_tax(line.vat.category_code, line.vat.rate))
    for allowance in line.allowances:
        segments += [Segment("ALC", "A", "", "", "", [allowance.reason_code or "", "", "", _text(allowance.reason)]),
                     Segment("MOA", ["204", _num(allowance.amount)])]
    for charge in line.charges:
        segments += [Segment("ALC", "C", "", "", "", [charge.reason_code or "", "", "", _text(charge.reason)]),
                     Segment("MOA", ["23", _num(charge.amount)])]
    return segments


def invoic_message(invoice: Invoice, reference: str = "1", association: str = "EAN008") -> Message:
    """The INVOIC message (UNH … UNT) for one invoice; pydifact writes UNH and counts UNT."""
    message = Message(reference, ["INVOIC", "D", "96A", "UN", association], characters=CHARACTERS)
    add = message.add_segment
    add(Segment("BGM", invoice.type_code or "380", _text(invoice.number), "9"))
    if invoice.issue_date:
        add(Segment("DTM", ["137", _date(invoice.issue_date), "102"]))
    delivery = invoice.delivery
    if delivery and delivery.actual_delivery_date:
        add(Segment("DTM", ["35", _date(delivery.actual_delivery_date), "102"]))
    period = delivery.invoicing_period if delivery else None
    if period and period.start_date and period.end_date:
        add(Segment("DTM", ["263", f"{_date(period.start_date)}-{_date(period.end_date)}", "718"]))
    for note in invoice.notes:
        if note.text:
            add(Segment("FTX", note.subject_code or "AAI", "", "", _chunks(note.text, 70, 5)))
    if invoice.payment_terms:
        add(Segment("FTX", "AAB", "", "", _chunks(invoice.payment_terms, 70, 5)))
    for qualifier, value in (("ON", invoice.order_reference), ("CT", invoice.contract_reference),
                             ("AAK", invoice.despatch_advice_reference), ("VN", invoice.sales_order_reference)):
        if value:
            add(Segment("RFF", [qualifier, _text(value)]))
    for preceding in invoice.preceding_invoices:
        if preceding.reference:
            add(Segment("RFF", ["IV", _text(preceding.reference)]))

    seller, buyer = invoice.seller, invoice.buyer
    if seller:
        address = seller.postal_address
        gln = next((i for i in seller.identifiers if i.scheme == GLN_SCHEME and i.value), None)
        add(_party("SE", gln or _gln(seller.identifiers[0] if seller.identifiers else None), seller.name,
                   [address.line_one, address.line_two, address.line_three] if address else [],
                   address.city if address else None, address.post_code if address else None,
                   address.country_code if address else None))
        if seller.vat_identifier:
            add(Segment("RFF", ["VA", _text(seller.vat_identifier)]))
        if seller.legal_registration_identifier and seller.legal_registration_identifier.value:
            add(Segment("RFF", ["GN", _text(seller.legal_registration_identifier.value)]))
    if buyer:
        address = buyer.postal_address
        add(_party("BY", _gln(buyer.identifier), buyer.name,
                   [address.line_one, address.line_two, address.line_three] if address else [],
                   address.city if address else None, address.post_code if address else None,
                   address.country_code if address else None))
        if buyer.vat_identifier:
            add(Segment("RFF", ["VA", _text(buyer.vat_identifier)]))
        if invoice.buyer_reference:
            add(Segment("RFF", ["API", _text(invoice.buyer_reference)]))
    if delivery and (delivery.location_identifier or delivery.address or delivery.party_name):
        address = delivery.address
        add(_party("DP", _gln(delivery.location_identifier), delivery.party_name,
                   [address.line_one, address.line_two, address.line_three] if address else [],
                   address.city if address else None, address.post_code if address else None,
                   address.country_code if address else None))

    if invoice.currency_code:
        add(Segment("CUX", ["2", invoice.currency_code, "4"]))
    payment = invoice.payment_instructions
    if invoice.due_date:
        add(Segment("PAT", "1"))
        add(Segment("DTM", ["13", _date(invoice.due_date), "102"]))
    if payment:
        for account in payment.credit_transfers:
            if account.account_identifier:
                add(Segment("FII", "RB", [_text(account.account_identifier), _text(account.account_name)],
                            [_text(account.service_provider_identifier, 11)] if account.service_provider_identifier else ""))
    for allowance in invoice.allowances:
        for segment in _allowance_or_charge(allowance, charge=False):
            add(segment)
    for charge in invoice.charges:
        for segment in _allowance_or_charge(charge, charge=True):
            add(segment)

    for number, line in enumerate(invoice.lines, start=1):
        for segment in _line(line, number, invoice.order_reference):
            add(segment)

    add(Segment("UNS", "S"))
    add(Segment("CNT", ["2", str(len(invoice.lines))]))
    totals = invoice.totals
    if totals:
        for qualifier, value in (("79", totals.line_net_amount), ("260", totals.allowance_total_amount),
                                 ("259", totals.charge_total_amount), ("125", totals.amount_without_vat),
                                 ("176", totals.vat_amount), ("77", totals.amount_with_vat),
                                 ("113", totals.paid_amount), ("165", totals.rounding_amount),
                                 ("9", totals.amount_due_for_payment)):
            if value is not None:
                add(Segment("MOA", [qualifier, _num(value)]))
    for breakdown in invoice.vat_breakdown:
        add(_tax(breakdown.category_code, breakdown.rate))
        add(Segment("MOA", ["125", _num(breakdown.taxable_amount)]))
        add(Segment("MOA", ["124", _num(breakdown.tax_amount)]))
    return message


def build_interchange(invoice: Invoice, partners: Partners, reference: str, prepared: datetime,
                      *, association: str = "EAN008", test: bool = False) -> str:
    """The whole interchange (UNA … UNZ) as text; encode it as ISO 8859-1 (UNOC) to send it."""
    extra = ["", "", "", "", "", "1"] if test else []  # 0035 test indicator, after five optional elements
    interchange = Interchange(
        sender=[partners.sender_id, partners.sender_qualifier],
        recipient=[partners.recipient_id, partners.recipient_qualifier],
        control_reference=reference,
        syntax_identifier=SYNTAX,
        timestamp=prepared,
        extra_header_elements=extra,
        characters=CHARACTERS,
    )
    interchange.has_una_segment = True
    interchange.add_message(invoic_message(invoice, "1", association))
    return interchange.serialize(break_lines=False)
