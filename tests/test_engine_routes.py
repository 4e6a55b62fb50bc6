"""Routing: when/otherwise (first match), `also`, holds, and decision tables (first match, all matches)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_engine_support import decide, invoice

ROUTES = """ruleset "t"
validate
  rule V-1 error "no buyer reference"
    assert buyer_reference exists
route
  when has errors                      -> hold "fix {count(lines)} lines first"
  when totals.amount_with_vat > 300 EUR -> approval by "finance", then peppol
  when buyer.electronic_address exists -> peppol
  otherwise                            -> email to "ap@{buyer.name}.example" as factur-x with (subject = "Invoice {number}", copies = 2)
  also when has finding V-1            -> portal
"""


def _routes(decision):  # noqa: ANN001, ANN202
    return [(r.channel, r.format, r.to, r.params) for r in decision.routes]


def test_errors_hold_the_invoice(tmp_path: Path) -> None:
    decision = decide(tmp_path, ROUTES, invoice(buyer_reference=None))
    assert [(h.kind, h.reason) for h in decision.holds] == [("hold", "fix 3 lines first")]
    assert _routes(decision) == [("portal", None, None, {})]  # `also` still applies


def test_approval_then_channel(tmp_path: Path) -> None:
    decision = decide(tmp_path, ROUTES)
    assert [(h.kind, h.role) for h in decision.holds] == [("approval", "finance")]
    assert _routes(decision) == [("peppol", None, None, {})]
    assert decision.routes[0].source == "t.rules:7"


def test_first_match_and_otherwise(tmp_path: Path) -> None:
    small = invoice(totals={"amount_with_vat": "100.00"})
    assert _routes(decide(tmp_path, ROUTES, small)) == [
        ("email", "factur-x", "ap@Buyer SA.example", {"subject": "Invoice INV-1", "copies": 2}),
    ]
    with_address = invoice(totals={"amount_with_vat": "100.00"}, buyer={"name": "B", "electronic_address": {"value": "1", "scheme": "0088"}})
    assert _routes(decide(tmp_path, ROUTES, with_address)) == [("peppol", None, None, {})]


TABLE = """ruleset "t"
route
  decision "by country" first match
    | buyer.postal_address.country_code | totals.amount_with_vat | -> outcome
    | "FR"                              | > 1000                 | -> approval by "finance", then peppol
    | "FR"                              | any                    | -> email as factur-x
    | in ("BE", "NL")                   | any                    | -> peppol
    | is missing                        | any                    | -> hold "no country"
    | any                               | any                    | -> print with copies = 2
  decision "copies" all matches
    | buyer.contact.email | seller.postal_address.country_code | -> outcome
    | exists              | any                                | -> email to buyer.contact.email as pdf
    | any                 | "FR"                               | -> portal
"""


@pytest.mark.parametrize(
    ("buyer", "total", "expected_routes", "expected_holds"),
    [
        ({"name": "B", "postal_address": {"country_code": "FR"}}, "2000.00", ["peppol", "portal"], [("approval", "finance")]),
        ({"name": "B", "postal_address": {"country_code": "FR"}}, "10.00", ["email", "portal"], []),
        ({"name": "B", "postal_address": {"country_code": "NL"}, "contact": {"email": "b@x"}}, "10.00", ["peppol", "email", "portal"], []),
        ({"name": "B"}, "10.00", ["portal"], [("hold", None)]),
        ({"name": "B", "postal_address": {"country_code": "DE"}}, "10.00", ["print", "portal"], []),
    ],
)
def test_decision_tables(tmp_path: Path, buyer: dict, total: str, expected_routes: list[str], expected_holds: list[tuple]) -> None:
    decision = decide(tmp_path, TABLE, invoice(buyer=buyer, totals={"amount_with_vat": total}))
    assert [r.channel for r in decision.routes] == expected_routes
    assert [(h.kind, h.role) for h in decision.holds] == expected_holds
    assert all(r.source.startswith('decision "') for r in decision.routes)


def test_decision_row_parameters_and_sources(tmp_path: Path) -> None:
    decision = decide(tmp_path, TABLE, invoice(buyer={"name": "B", "postal_address": {"country_code": "DE"}}, totals={"amount_with_vat": "1"}))
    assert decision.routes[0].params == {"copies": 2}
    assert decision.routes[0].source == 'decision "by country" row 5 (t.rules:9)'


def test_route_of_the_most_derived_ruleset_wins(tmp_path: Path) -> None:
    from aiguillage.dsl.program import load_program
    from aiguillage.engine.compiler import compile_ruleset
    from aiguillage.engine.evaluate import evaluate

    (tmp_path / "base.rules").write_text('ruleset "base"\nroute\n  otherwise -> print\n', encoding="utf-8")
    base = load_program(tmp_path / "base.rules")
    (tmp_path / "child.rules").write_text('ruleset "child"\nextends "base"\n', encoding="utf-8")
    child = load_program(tmp_path / "child.rules", resolve_parent=lambda name: base)
    assert [r.channel for r in evaluate(invoice(), compile_ruleset(child)).routes] == ["print"]
    (tmp_path / "own.rules").write_text('ruleset "own"\nextends "base"\nroute\n  otherwise -> fax\n', encoding="utf-8")
    own = load_program(tmp_path / "own.rules", resolve_parent=lambda name: base)
    assert [r.channel for r in evaluate(invoice(), compile_ruleset(own)).routes] == ["fax"]


def test_an_approval_hold_carries_its_settings(tmp_path: Path) -> None:
    text = ('ruleset "t"\nroute\n  otherwise -> approval by "finance" with (escalate_after = "48h", escalate_to = "cfo"),'
            ' then peppol\n')
    decision = decide(tmp_path, text)
    [hold] = decision.holds
    assert (hold.kind, hold.role, hold.params) == ("approval", "finance", {"escalate_after": "48h", "escalate_to": "cfo"})
    assert _routes(decision) == [("peppol", None, None, {})]
    assert hold.model_dump(mode="json")["params"] == {"escalate_after": "48h", "escalate_to": "cfo"}
    plain = decide(tmp_path, 'ruleset "t"\nroute\n  otherwise -> approval by "finance", then peppol\n')
    assert plain.holds[0].params == {}
