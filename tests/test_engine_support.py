"""Helpers shared by the rules-language tests (no tests here).

`compile_text` writes a ruleset into a temporary folder and compiles it;
`decide` evaluates an invoice built from a small base plus overrides;
`problems` returns the rendered diagnostics of a ruleset that does not check.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.program import Program, load_program
from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.model.invoice import Invoice

REPO = Path(__file__).resolve().parents[1]
CODELISTS = REPO / "rulesets" / "codelists"
TODAY = date(2026, 3, 15)

BASE: dict[str, Any] = {
    "number": "INV-1",
    "issue_date": "2026-03-01",
    "due_date": "2026-03-31",
    "type_code": "380",
    "currency_code": "EUR",
    "buyer_reference": "REF-1",
    "process_control": {"specification_identifier": "urn:cen.eu:en16931:2017"},
    "seller": {
        "name": "Seller SA",
        "vat_identifier": "FR44412345678",
        "identifiers": [{"value": "5790000435975", "scheme": "0088"}],
        "postal_address": {"city": "Lyon", "country_code": "FR"},
    },
    "buyer": {"name": "Buyer SA", "postal_address": {"city": "Paris", "country_code": "FR"}},
    "payment_instructions": {"means_type_code": "30", "credit_transfers": [{"account_identifier": "FR7630006000011234567890189"}]},
    "allowances": [{"amount": "5.00", "vat_category_code": "S", "vat_rate": "20", "reason": "Discount"}],
    "charges": [{"amount": "15.00", "vat_category_code": "S", "vat_rate": "20", "reason": "Freight"}],
    "totals": {
        "line_net_amount": "300.00",
        "allowance_total_amount": "5.00",
        "charge_total_amount": "15.00",
        "amount_without_vat": "310.00",
        "vat_amount": "55.50",
        "amount_with_vat": "365.50",
        "amount_due_for_payment": "365.50",
    },
    "vat_breakdown": [
        {"category_code": "S", "rate": "20", "taxable_amount": "210.00", "tax_amount": "42.00"},
        {"category_code": "S", "rate": "13.5", "taxable_amount": "100.00", "tax_amount": "13.50"},
    ],
    "lines": [
        {"identifier": "1", "quantity": "2", "quantity_unit_code": "H87", "net_amount": "100.00", "price": {"net_price": "50.00"},
         "vat": {"category_code": "S", "rate": "20"}, "item": {"name": "Lamp"}},
        {"identifier": "2", "quantity": "1", "quantity_unit_code": "H87", "net_amount": "100.00", "price": {"net_price": "100.00"},
         "vat": {"category_code": "S", "rate": "13.5"}, "item": {"name": "Book"}},
        {"identifier": "3", "quantity": "4", "quantity_unit_code": "H87", "net_amount": "100.00", "price": {"net_price": "25.00"},
         "vat": {"category_code": "S", "rate": "20"}, "item": {"name": "Bulb"},
         "allowances": [{"amount": "10.00", "reason": "Promo"}]},
    ],
}


def invoice(**changes: Any) -> Invoice:
    """The base invoice with top-level fields replaced (None removes a field)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Invoice.model_validate(data)


def program(folder: Path, text: str, name: str = "t.rules", *, resolve_parent: Any = None) -> Program:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return load_program(path, codelist_dirs=[CODELISTS], resolve_parent=resolve_parent)


def compile_text(folder: Path, text: str, name: str = "t.rules", **kw: Any) -> CompiledRuleset:
    return compile_ruleset(program(folder, text, name, **kw))


def decide(folder: Path, text: str, inv: Invoice | None = None, **kw: Any) -> Decision:
    """Compile `text` (a ruleset) and evaluate it on `inv` (the base invoice by default)."""
    compiled = compile_text(folder, text)
    return evaluate(inv if inv is not None else invoice(), compiled, today=kw.pop("today", TODAY), **kw)


def validate_rules(body: str) -> str:
    """A ruleset whose validate section is `body` (indented as written)."""
    return f'ruleset "t" version 1\ncodelist ISO-4217\ncodelist UNCL-5305\n\nvalidate\n{body}'


def fired(decision: Decision) -> list[str]:
    return [f.rule for f in decision.findings]


def problems(folder: Path, text: str, name: str = "t.rules") -> list[str]:
    """The first line of every diagnostic (FILE:LINE:COL: message), FILE shortened to its name."""
    try:
        program(folder, text, name)
    except RulesError as exc:
        return [d.render().splitlines()[0].replace(str(folder) + "/", "") for d in exc.diagnostics]
    return []
