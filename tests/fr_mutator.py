"""A small deterministic mutator of French invoices, for the differential test against the BR-FR XSLTs.

Each mutation changes one thing a BR-FR rule looks at, on the semantic model (a dict from
`Invoice.model_dump`); the test writes the result in UBL and CII through the project's
writers, so one mutation exercises both artefacts. Mutations that do not apply to an invoice
(no preceding invoice to change, ...) return False and are skipped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]


def _notes(doc: Doc, subject: str) -> list[Doc]:
    return [n for n in doc.get("notes") or [] if n.get("subject_code") == subject]


def _set_note(doc: Doc, subject: str, text: str) -> bool:
    notes = _notes(doc, subject)
    if not notes:
        return False
    notes[0]["text"] = text
    return True


def _drop_note(doc: Doc, subject: str) -> bool:
    before = len(doc.get("notes") or [])
    doc["notes"] = [n for n in doc.get("notes") or [] if n.get("subject_code") != subject]
    return len(doc["notes"]) != before


def _add_note(doc: Doc, subject: str, text: str, *, first: bool = False) -> bool:
    note = {"subject_code": subject, "text": text}
    notes = doc.setdefault("notes", [])
    notes.insert(0, note) if first else notes.append(note)
    return True


def _set(path: str, value: Any) -> Callable[[Doc], bool]:
    """Set a dotted path (creating groups); `lines.*` / `vat_breakdown.*` set the first occurrence."""

    def apply(doc: Doc) -> bool:
        node: Any = doc
        parts = path.split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                if not node:
                    return False
                node = node[0]
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            node = nxt
        if isinstance(node, list):
            if not node:
                return False
            node = node[0]
        node[parts[-1]] = copy.deepcopy(value)
        return True

    return apply


def _each(*steps: Callable[[Doc], bool]) -> Callable[[Doc], bool]:
    def apply(doc: Doc) -> bool:
        return all(step(doc) for step in steps)

    return apply


def _with_preceding(reference: str, issue_date: str | None = "2026-10-01") -> Callable[[Doc], bool]:
    def apply(doc: Doc) -> bool:
        doc["preceding_invoices"] = [{"reference": reference, "issue_date": issue_date}]
        return True

    return apply


def _second_identifier(scheme: str, value: str) -> Callable[[Doc], bool]:
    def apply(doc: Doc) -> bool:
        doc["seller"].setdefault("identifiers", []).append({"value": value, "scheme": scheme})
        return True

    return apply


MUTATIONS: dict[str, Callable[[Doc], bool]] = {
    # BR-FR-01, 02: invoice and preceding invoice numbers
    "number too long": _set("number", "FR-" + "9" * 40),
    "number with a space": _set("number", "FR 2026 0101"),
    "number with a dot": _set("number", "FR2026.0101"),
    "preceding number too long": _with_preceding("AV-" + "1" * 40),
    "preceding number with a comma": _with_preceding("FR2026,0001"),
    # BR-FR-03: dates
    "issue date in 1999": _set("issue_date", "1999-12-31"),
    "due date in 2100": _set("due_date", "2100-01-01"),
    "vat point date in 1998": _set("vat_point_date", "1998-05-05"),
    "preceding date in 1990": _with_preceding("FR2026-0001", "1990-01-01"),
    "delivery date in 2101": _set("delivery.actual_delivery_date", "2101-01-01"),
    "period start in 1999": _set("delivery.invoicing_period.start_date", "1999-01-01"),
    "period end in 2100": _set("delivery.invoicing_period.end_date", "2100-01-01"),
    "line period start in 1999": _set("lines.period.start_date", "1999-01-01"),
    "line period end in 2100": _set("lines.period.end_date", "2100-12-31"),
    # BR-FR-04: type codes
    "type 326 (partial)": _set("type_code", "326"),
    "type 262 without contract": _set("type_code", "262"),
    "type 262 with contract and period": _each(_set("type_code", "262"), _set("contract_reference", "CT-2026-9"),
                                               _set("delivery.invoicing_period.start_date", "2026-10-01"),
                                               _set("delivery.invoicing_period.end_date", "2026-10-31")),
    "type 384 without reference": _set("type_code", "384"),
    "type 384 with reference": _each(_set("type_code", "384"), _with_preceding("FR2026-0001")),
    "type 381 without reference": _each(_set("type_code", "381"), lambda d: d.pop("preceding_invoices", None) is not None or True),
    "type 386": _set("type_code", "386"),
    "type 389": _set("type_code", "389"),
    "type 501 with buyer address not SIREN": _each(_set("type_code", "501"), _set("seller.electronic_address", {"value": "atelier@example.fr", "scheme": "EM"})),
    # BR-FR-05, 06: notes
    "no PMT note": lambda d: _drop_note(d, "PMT"),
    "no PMD note": lambda d: _drop_note(d, "PMD"),
    "no AAB note": lambda d: _drop_note(d, "AAB"),
    "two PMT notes": lambda d: _add_note(d, "PMT", "Indemnité : 40 EUR.", first=True),
    "two PMD notes": lambda d: _add_note(d, "PMD", "Pénalités.", first=True),
    "two AAB notes": lambda d: _add_note(d, "AAB", "Pas d'escompte.", first=True),
    "two TXD notes": lambda d: _add_note(d, "TXD", "A", first=True) and _add_note(d, "TXD", "B", first=True),
    # BR-FR-20, 31, 11, 21: the processing note
    "BAR B2C": lambda d: _set_note(d, "BAR", "B2C"),
    "BAR B2CINT": lambda d: _set_note(d, "BAR", "B2CINT"),
    "BAR unknown": lambda d: _set_note(d, "BAR", "B2X"),
    "no BAR note": lambda d: _drop_note(d, "BAR"),
    "two BAR notes": lambda d: _add_note(d, "BAR", "B2BINT"),
    # BR-FR-08, CO-07 … 09, MV, BD: billing frameworks
    "framework missing": _set("process_control.business_process_type", None),
    "framework unknown": _set("process_control.business_process_type", "B3"),
    "framework peppol": _set("process_control.business_process_type", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"),
    "framework B2 unpaid": _set("process_control.business_process_type", "B2"),
    "framework B4 down payment": _each(_set("process_control.business_process_type", "B4"), _set("type_code", "386")),
    "framework S8": _set("process_control.business_process_type", "S8"),
    "framework B9": _set("process_control.business_process_type", "B9"),
    "framework M8 self-billed": _each(_set("process_control.business_process_type", "M8"), _set("type_code", "389")),
    "due date before issue": _set("due_date", "2026-01-01"),
    "due date before issue, down payment": _each(_set("due_date", "2026-01-01"), _set("type_code", "386")),
    # BR-FR-09 … 13, 21 … 26, 32, CO-10, 14, 15: parties
    "seller SIRET of another SIREN": _set("seller.identifiers", [{"value": "52198765100010", "scheme": "0009"}]),
    "seller SIRET 13 digits": _set("seller.identifiers", [{"value": "4123456700001", "scheme": "0009"}]),
    "seller SIRET without scheme": _set("seller.identifiers", [{"value": "41234567000019", "scheme": None}]),
    "seller two SIRETs": _second_identifier("0009", "41234567000027"),
    # the artefacts check the first SIRET only ($siret[1]): a wrong second one passes
    "seller second SIRET of another SIREN": _second_identifier("0009", "52198765100010"),
    "seller private id 0224": _second_identifier("0224", "ATELIER/LUMIERE"),
    "seller private id 0224 too long": _second_identifier("0224", "A" * 101),
    "seller identifier 0231": _second_identifier("0231", "412345670"),
    "seller identifier 0231 with TXD and representative": _each(
        _second_identifier("0231", "412345670"), lambda d: _add_note(d, "TXD", "MEMBRE_ASSUJETTI_UNIQUE", first=True),
        _set("tax_representative", {"name": "Groupe Lumière", "vat_identifier": "FR61999999999",
                                    "postal_address": {"country_code": "FR", "city": "Lyon"}})),
    "seller identifier 0002 of 8 digits": _second_identifier("0002", "41234567"),
    "seller SIREN 8 digits": _set("seller.legal_registration_identifier", {"value": "41234567", "scheme": "0002"}),
    "seller legal id as SIRET": _set("seller.legal_registration_identifier", {"value": "41234567000019", "scheme": "0009"}),
    "seller without legal id": _set("seller.legal_registration_identifier", None),
    "buyer SIRET of another SIREN": _set("buyer.identifier", {"value": "41234567000019", "scheme": "0009"}),
    "buyer identifier without scheme": _set("buyer.identifier", {"value": "DUF-0001", "scheme": None}),
    "buyer private id 0224 with space": _set("buyer.identifier", {"value": "DUF 0001", "scheme": "0224"}),
    "buyer private id 0224 too long": _set("buyer.identifier", {"value": "B" * 101, "scheme": "0224"}),
    "buyer identifier 0002 with letters": _set("buyer.identifier", {"value": "52198765A", "scheme": "0002"}),
    "buyer SIREN missing": _set("buyer.legal_registration_identifier", None),
    "buyer SIREN 10 digits": _set("buyer.legal_registration_identifier", {"value": "5219876510", "scheme": "0002"}),
    "buyer address missing": _set("buyer.electronic_address", None),
    "buyer address e-mail": _set("buyer.electronic_address", {"value": "factures@dufresne.example", "scheme": "EM"}),
    "buyer address other SIREN": _set("buyer.electronic_address", {"value": "412345670", "scheme": "0225"}),
    "buyer address with a slash": _set("buyer.electronic_address", {"value": "521987651/FACT", "scheme": "0225"}),
    "buyer address too long": _set("buyer.electronic_address", {"value": "521987651_" + "X" * 120, "scheme": "0225"}),
    "seller address missing": _set("seller.electronic_address", None),
    "seller address with a space": _set("seller.electronic_address", {"value": "412345670 LUM", "scheme": "0225"}),
    "seller address too long": _set("seller.electronic_address", {"value": "412345670_" + "Y" * 120, "scheme": "0225"}),
    "payee SIRET bad": _set("payee", {"name": "Factor SA", "identifier": {"value": "1234", "scheme": "0009"}}),
    "payee identifier without scheme": _set("payee", {"name": "Factor SA", "identifier": {"value": "FACT-1", "scheme": None}}),
    "delivery SIRET bad": _set("delivery.location_identifier", {"value": "123456789", "scheme": "0009"}),
    "delivery location without scheme": _set("delivery.location_identifier", {"value": "DEPOT-7", "scheme": None}),
    # BR-FR-15, 16: VAT
    "line category L": _set("lines.vat.category_code", "L"),
    "breakdown category M": _set("vat_breakdown.category_code", "M"),
    "line rate 19": _set("lines.vat.rate", "19"),
    "breakdown rate 20.000": _set("vat_breakdown.rate", "20.000"),
    "allowance category L rate 7": _set("allowances", [{"amount": "10.00", "vat_category_code": "L", "vat_rate": "7", "reason": "Remise"}]),
    "charge rate 21": _set("charges", [{"amount": "10.00", "vat_category_code": "S", "vat_rate": "21", "reason": "Port"}]),
    # BR-FR-17, 18: attachments
    "attachment type unknown": _set("supporting_documents", [{"reference": "BL-1", "description": "BON"}]),
    "attachment type known": _set("supporting_documents", [{"reference": "BL-1", "description": "BON_LIVRAISON"}]),
    "two readable copies": _set("supporting_documents", [{"reference": "L-1", "description": "LISIBLE"}, {"reference": "L-2", "description": "LISIBLE"}]),
    # BR-FR-29, 30: invoiced objects
    "object AFL": _set("invoiced_object_identifier", {"value": "AFL-1", "scheme": "AFL"}),
    "line object with a space": _set("lines.object_identifier", {"value": "COMPTEUR 12", "scheme": "AFL"}),
    "line object AVV": _set("lines.object_identifier", {"value": "AVV-9", "scheme": "AVV"}),
    # BR-FR-27, 28: item attributes
    "item attribute": _set("lines.item.attributes", [{"name": "Couleur", "value": "Laiton"}]),
    "item attribute without value": _set("lines.item.attributes", [{"name": "Couleur", "value": None}]),
    "item attribute with an empty name": _set("lines.item.attributes", [{"name": "", "value": "Laiton"}]),
    "item attribute without name": _set("lines.item.attributes", [{"name": None, "value": "Laiton"}]),
    "object AFL empty": _set("invoiced_object_identifier", {"value": "", "scheme": "AFL"}),
    "object AVV empty": _set("invoiced_object_identifier", {"value": "", "scheme": "AVV"}),
    "line object AFL empty": _set("lines.object_identifier", {"value": "", "scheme": "AFL"}),
    "line object AVV empty": _set("lines.object_identifier", {"value": "", "scheme": "AVV"}),
    "framework S2 without due date": _each(_set("process_control.business_process_type", "S2"), _set("due_date", None)),
    # BR-FR-CO-12: currency
    "currency USD": _set("currency_code", "USD"),
    "currency USD accounted in EUR": _each(_set("currency_code", "USD"), _set("vat_accounting_currency_code", "EUR"),
                                           lambda d: _set("totals.vat_amount_in_accounting_currency", d["totals"].get("vat_amount"))(d)),
    # BR-FR-DEC-*: decimals
    "line_net_amount 3 decimals": _set("totals.line_net_amount", "1.000"),
    "allowance_total_amount 3 decimals": _set("totals.allowance_total_amount", "0.000"),
    "charge_total_amount 3 decimals": _set("totals.charge_total_amount", "0.000"),
    "amount_without_vat 3 decimals": _set("totals.amount_without_vat", "1.000"),
    "vat_amount 3 decimals": _set("totals.vat_amount", "1.000"),
    "amount_with_vat 3 decimals": _set("totals.amount_with_vat", "1.000"),
    "paid_amount 3 decimals": _set("totals.paid_amount", "0.000"),
    "rounding_amount 3 decimals": _set("totals.rounding_amount", "0.001"),
    "accounting VAT 3 decimals": _each(_set("vat_accounting_currency_code", "EUR"), _set("totals.vat_amount_in_accounting_currency", "1.000")),
    "breakdown amounts 3 decimals": _each(_set("vat_breakdown.taxable_amount", "1.000"), _set("vat_breakdown.tax_amount", "0.200")),
    "allowance amount 3 decimals, rate 3 decimals": _set("allowances", [{"amount": "10.000", "vat_category_code": "S", "vat_rate": "20.001", "reason": "Remise"}]),
    "line allowance base 3 decimals": _set("lines.allowances", [{"amount": "1.00", "base_amount": "10.000", "percentage": "10", "reason": "Remise"}]),
    "line amount 3 decimals": _set("lines.net_amount", "740.000"),
    "total 20 digits": _set("totals.amount_due_for_payment", "12345678901234567890"),
    "quantity 5 decimals": _set("lines.quantity", "4.00000"),
    "base quantity 5 decimals": _set("lines.price.base_quantity", "1.00000"),
    "price 7 decimals": _set("lines.price.net_price", "185.0000000"),
    "negative price": _set("lines.price.net_price", "-185.00"),
    "negative price, bidirectional": _each(_set("lines.price.net_price", "-185.00"), _set("process_control.business_process_type", "B9")),
    "gross price 7 decimals": _set("lines.price.gross_price", "190.0000001"),
    "price discount negative": _each(_set("lines.price.discount", "-5.00"), _set("lines.price.gross_price", "180.00")),
    "rate 3 decimals": _set("vat_breakdown.rate", "20.001"),
    "line rate negative": _set("lines.vat.rate", "-20"),
    "line allowance 3 decimals": _set("lines.allowances", [{"amount": "1.000", "reason": "Remise"}]),
    "allowance base 3 decimals": _set("allowances", [{"amount": "10.00", "base_amount": "100.000", "percentage": "10",
                                                       "vat_category_code": "S", "vat_rate": "20", "reason": "Remise"}]),
}


def mutate(doc: Doc, name: str) -> Doc | None:
    """A mutated copy of `doc`, or None when the mutation does not apply."""
    out = copy.deepcopy(doc)
    return out if MUTATIONS[name](out) else None
