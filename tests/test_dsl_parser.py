"""The parser: every construct of the language becomes the expected tree; syntax errors say where."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aiguillage.dsl import ast
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.parser import parse_text

FULL = r'''# header
ruleset "acme-retail" version 4.1
customer "ACME-FR-001", "ACME-BE-002"
effective 2026-01-01
extends "en16931", "peppol-bis-3"
description "ACME"

codelist ISO-4217
codelist eaid from "peppol/eaid.json"
table orders from "orders.csv" key buyer_reference
  shape
    buyer_reference text required
    po_number text
table rates from "rates.json" key code schema "rates.schema.json"
let big = totals.amount_with_vat > 10000 EUR
include "more.rules"

enrich
  rule "PO from the order book"
    when order_reference is missing and orders[buyer_reference] exists
    then set order_reference = orders[buyer_reference].po_number
         fill due_date = add_days(issue_date, 30)
  rule EN-2
    for each line in lines where vat.category_code = "S"
    fill line.note = "standard"

validate
  rule ACME-01 error "PO {order_reference} is wrong"
    assert order_reference matches /^PO-\d{6}$/i
  rule BR-S-08 fatal
    message en "taxable amount {taxable_amount}"
            fr "montant {taxable_amount}"
    for each breakdown in vat_breakdown where category_code = "S"
    when rate exists
    assert taxable_amount = round(sum(lines.net_amount where vat.rate = breakdown.rate) + 1, 2)
  override BR-CO-26 severity warning
  disable BR-01, BR-02

route
  when has errors -> hold "fix {count(lines)} lines"
  when big -> approval by "finance", then peppol
  also when has finding ACME-01 -> email to buyer.contact.email as pdf with (subject = "Invoice {number}", copies = 2)
  otherwise -> email to "ap@acme.example" as factur-x with urgent = true
  decision "by country" first match
    | buyer.postal_address.country_code | totals.amount_with_vat | -> outcome
    | "FR"                              | > 100                  | -> print
    | in ("BE", "NL")                   | any                    | -> peppol
    | not in codelist ISO-4217          | is missing             | -> fax to buyer.contact.telephone
  decision all matches
    | seller.postal_address.country_code | -> outcome
    | exists                             | -> portal
'''


@pytest.fixture(scope="module")
def full() -> ast.RulesFile:
    return parse_text(FULL, "full.rules")


def test_header(full: ast.RulesFile) -> None:
    assert full.name == "acme-retail"
    assert full.version == "4.1"
    assert full.customers == ["ACME-FR-001", "ACME-BE-002"]
    assert full.extends == ["en16931", "peppol-bis-3"]
    effective = full.header("effective")
    assert effective is not None and effective.values == [date(2026, 1, 1)]
    assert full.header("description").values == ["ACME"]  # type: ignore[union-attr]


def test_declarations(full: ast.RulesFile) -> None:
    codelists = [i for i in full.items if isinstance(i, ast.CodelistDecl)]
    assert [(c.name, c.source) for c in codelists] == [("ISO-4217", None), ("eaid", "peppol/eaid.json")]
    orders, rates = [i for i in full.items if isinstance(i, ast.TableDecl)]
    assert (orders.name, orders.source, orders.key) == ("orders", "orders.csv", "buyer_reference")
    assert [(c.name, c.type_name, c.required) for c in orders.columns or []] == [("buyer_reference", "text", True), ("po_number", "text", False)]
    assert rates.schema == "rates.schema.json" and rates.columns is None
    let = next(i for i in full.items if isinstance(i, ast.LetDecl))
    assert let.name == "big" and isinstance(let.expr, ast.Compare) and isinstance(let.expr.right, ast.Money)
    assert let.expr.right.currency == "EUR" and let.expr.right.amount == Decimal(10000)
    assert any(isinstance(i, ast.Include) and i.source == "more.rules" for i in full.items)


def test_enrich_rules(full: ast.RulesFile) -> None:
    section = next(i for i in full.items if isinstance(i, ast.Section) and i.kind == "enrich")
    first, second = section.items
    assert isinstance(first, ast.EnrichRule) and first.quoted and first.name == "PO from the order book"
    assert [a.mode for a in first.actions] == ["set", "fill"]
    assert isinstance(first.actions[0].expr, ast.Lookup) and first.actions[0].expr.column_name == "po_number"
    assert isinstance(second, ast.EnrichRule) and second.name == "EN-2" and not second.quoted
    assert second.scopes[0].var == "line" and second.scopes[0].where is not None and second.when is None


def test_validate_rules(full: ast.RulesFile) -> None:
    section = next(i for i in full.items if isinstance(i, ast.Section) and i.kind == "validate")
    acme, brs08, override, disable = section.items
    assert isinstance(acme, ast.ValidateRule) and acme.inline_message and acme.severity == "error"
    assert isinstance(acme.assertion, ast.Test) and acme.assertion.op == "matches" and acme.assertion.flags == "i"
    assert acme.assertion.arg == r"^PO-\d{6}$"
    parts = acme.messages[0].template.parts
    assert parts[0] == "PO " and isinstance(parts[1], ast.Path) and parts[2] == " is wrong"
    assert isinstance(brs08, ast.ValidateRule) and [m.lang for m in brs08.messages] == ["en", "fr"]
    assert brs08.scopes[0].var == "breakdown" and brs08.when is not None
    call = brs08.assertion.right  # type: ignore[union-attr]
    assert isinstance(call, ast.Call) and call.name == "round"
    inner = call.args[0].expr.left  # type: ignore[attr-defined]
    assert isinstance(inner, ast.Call) and inner.name == "sum" and inner.args[0].where is not None
    assert isinstance(override, ast.Override) and (override.rule, override.severity) == ("BR-CO-26", "warning")
    assert isinstance(disable, ast.Disable) and disable.rules == ["BR-01", "BR-02"]


def test_routes(full: ast.RulesFile) -> None:
    section = next(i for i in full.items if isinstance(i, ast.Section) and i.kind == "route")
    errors, big, also, otherwise, table, table2 = section.items
    assert isinstance(errors, ast.RouteWhen) and isinstance(errors.cond, ast.Has) and errors.cond.what == "errors"
    assert isinstance(errors.outcomes[0], ast.HoldOutcome) and isinstance(errors.outcomes[0].reason.parts[1], ast.Call)
    assert isinstance(big, ast.RouteWhen) and [type(o).__name__ for o in big.outcomes] == ["ApprovalOutcome", "ChannelOutcome"]
    assert isinstance(also, ast.RouteWhen) and also.kind == "also" and also.cond.rule == "ACME-01"  # type: ignore[union-attr]
    email = also.outcomes[0]
    assert isinstance(email, ast.ChannelOutcome) and email.format == "pdf" and isinstance(email.to, ast.Path)
    assert [n for n, _ in email.params] == ["subject", "copies"] and isinstance(email.params[0][1], ast.Template)
    assert isinstance(otherwise, ast.RouteWhen) and otherwise.kind == "otherwise" and otherwise.cond is None
    assert isinstance(table, ast.Decision) and table.policy == "first" and table.name == "by country" and len(table.inputs) == 2
    kinds = [[c.kind for c in row.cells] for row in table.rows]
    assert kinds == [["equals", "compare"], ["in_list", "any"], ["not_in_codelist", "missing"]]
    assert isinstance(table2, ast.Decision) and table2.policy == "all" and table2.name is None
    assert table2.rows[0].cells[0].kind == "exists"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a exists", ("Test", "exists")),
        ("a is missing", ("Test", "missing")),
        ("a is not missing", ("Test", "exists")),
        ("a is empty", ("Test", "empty")),
        ("a is not empty", ("Test", "not_empty")),
        ("a in codelist ISO-4217", ("Test", "in_codelist")),
        ("a not in codelist ISO-4217", ("Test", "not_in_codelist")),
        ('a in ("30", "58")', ("Test", "in_list")),
        ('a not in ("30", "58")', ("Test", "not_in_list")),
        ('a starts with "FR"', ("Test", "starts_with")),
        ('a ends with "X"', ("Test", "ends_with")),
        ('a contains "#"', ("Test", "contains")),
        ("a >= b", ("Compare", ">=")),
        ("a == b", ("Compare", "=")),
        ("a != b", ("Compare", "!=")),
        ("every l in lines satisfies l.net_amount > 0", ("Quantifier", "every")),
        ("any l in lines satisfies l.net_amount > 0", ("Quantifier", "any")),
        ("no l in lines satisfies l.net_amount > 0", ("Quantifier", "no")),
        ("if a exists then 1 else 2", ("IfExpr", None)),
        ("has warnings", ("Has", "warnings")),
        ("not a exists", ("Unary", "not")),
        ("-a", ("Unary", "neg")),
        ("a or b and c", ("Binary", "or")),
        ("a - b * c", ("Binary", "-")),
        ("BT-31", ("Path", None)),
        ("today", ("Today", None)),
        ("2026-02-28", ("Literal", "date")),
        ("true", ("Literal", "bool")),
        ("12.50", ("Literal", "number")),
    ],
)
def test_expressions(text: str, kind: tuple[str, str | None]) -> None:
    rules = parse_text(f'ruleset "x"\nvalidate\n  rule X-1 error "m"\n    assert {text}\n', "x.rules")
    rule = rules.items[1].items[0]  # type: ignore[attr-defined]
    node = rule.assertion
    assert type(node).__name__ == kind[0]
    attr = {"Test": "op", "Compare": "op", "Quantifier": "kind", "Has": "what", "Unary": "op", "Binary": "op", "Literal": "kind"}.get(kind[0])
    if attr:
        assert getattr(node, attr) == kind[1]


def test_precedence_and_positions() -> None:
    rules = parse_text('ruleset "x"\nvalidate\n  rule X-1 error "m"\n    assert a + b * 2 > 3 and not c exists\n', "x.rules")
    node = rules.items[1].items[0].assertion  # type: ignore[attr-defined]
    assert isinstance(node, ast.Binary) and node.op == "and"
    assert isinstance(node.left, ast.Compare) and isinstance(node.left.left, ast.Binary) and node.left.left.op == "+"
    assert (node.line, node.column) == (4, 12)
    assert (node.right.line, node.right.column) == (4, 30)


def test_placeholder_positions_point_inside_the_text() -> None:
    rules = parse_text('ruleset "x"\nvalidate\n  rule X-1 error "a {  seller.name } b"\n    assert true\n', "x.rules")
    placeholder = rules.items[1].items[0].messages[0].template.parts[1]  # type: ignore[attr-defined]
    assert (placeholder.line, placeholder.column) == (3, 24)


def test_comments_are_collected() -> None:
    rules = parse_text('# one\nruleset "x"  # two\n', "x.rules")
    assert [(c.line, c.text) for c in rules.comments] == [(1, "# one"), (2, "# two")]


def test_keywords_do_not_clash_with_field_names() -> None:
    """Field names such as `identifier`, `amount`, `value`, `text`, `line` stay names."""
    rules = parse_text('ruleset "x"\nvalidate\n  rule X-1 error "m"\n    for each line in lines\n    assert line.identifier exists and line.note is empty\n', "x.rules")
    rule = rules.items[1].items[0]  # type: ignore[attr-defined]
    assert rule.assertion.left.operand.segments == ["line", "identifier"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ruleset "x"\nvalidate\n  rule X-1 error "m"\n    assert a = = 3\n', "x.rules:4:16: unexpected '='"),
        ('ruleset "x"\nvalidate\n  rule X-1 error \'m\'\n', "x.rules:3:18: unexpected character \"'\" (texts are written in double quotes"),
        ('ruleset "x"\nvalidate\n  rule X-1 error "m"\n    assert a and\n', "x.rules:4:17: unexpected end of file; expected one of"),
        ('ruleset "x"\nvalidate\n  rule "quoted" error "m"\n', "x.rules:3:8: unexpected '\"quoted\"'; expected a rule id"),
        ('ruleset "x"\neffective 2026-02-30\n', "x.rules:2:11: 2026-02-30 is not a real date"),
        ('ruleset "x"\nvalidate\n  rule X-1 error "a {b"\n    assert true\n', "x.rules:3:21: unclosed '{' in text"),
        ('ruleset "x"\nvalidate\n  rule X-1 error "a }"\n    assert true\n', "x.rules:3:21: unmatched '}' in text"),
        ('ruleset "x"\nvalidate\n  rule X-1 error "a {b +}"\n    assert true\n', "x.rules:3:25: unexpected end of the placeholder"),
        ('ruleset "x"\nroute\n  when a -> \n', "x.rules:3:13: unexpected end of file"),
    ],
)
def test_syntax_errors(text: str, expected: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_text(text, "x.rules")
    rendered = info.value.render()
    assert rendered.startswith(expected), rendered
    lines = rendered.splitlines()
    assert len(lines) == 3 and lines[2].strip().startswith("^")


def test_caret_points_at_the_column() -> None:
    with pytest.raises(RulesError) as info:
        parse_text('ruleset "x"\nvalidate\n  rule X-1 error "m"\n    assert a = = 3\n', "x.rules")
    _, source, caret = info.value.render().splitlines()
    assert source == "        assert a = = 3"
    assert caret == "                   ^"


def test_every_example_in_the_language_guide_parses() -> None:
    from test_engine_support import REPO

    text = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    blocks = text.split("```")[1::2]
    checked = 0
    for block in blocks:
        body = block.split("\n", 1)[1] if not block.startswith("\n") else block[1:]
        first = body.lstrip().split(None, 1)[0] if body.strip() else ""
        if first in ("ACME-05:", "aiguillage"):
            continue  # output shown, not rules
        if first == "decision":
            body = "route\n" + body
        parse_text(body, "language.md")
        checked += 1
    assert checked >= 6


def test_an_approval_carries_its_settings() -> None:
    text = ('ruleset "t"\nroute\n  otherwise -> approval by "finance" with (escalate_after = "48h", escalate_to = "cfo"),'
            ' then peppol with (remind_max = 3)\n')
    section = next(i for i in parse_text(text).items if isinstance(i, ast.Section))
    approval, peppol = section.items[0].outcomes
    assert isinstance(approval, ast.ApprovalOutcome) and approval.role == "finance"
    assert [(n, v.raw) for n, v in approval.params] == [("escalate_after", '"48h"'), ("escalate_to", '"cfo"')]
    assert isinstance(peppol, ast.ChannelOutcome) and [n for n, _ in peppol.params] == ["remind_max"]
    bare = next(i for i in parse_text('ruleset "t"\nroute\n  otherwise -> approval by "x", peppol\n').items
                if isinstance(i, ast.Section))
    assert bare.items[0].outcomes[0].params == []


def test_conditional_disable_in_validate_and_enrich_not_route() -> None:
    parsed = parse_text('ruleset "x"\nenrich\n  disable E-1 when true\nvalidate\n  disable A-1, A-2 when currency_code = "USD"\n'
                        'route\n  disable A-3\n  when has errors -> hold "x"\n')
    enrich, validate, route = (i for i in parsed.items if isinstance(i, ast.Section))
    assert isinstance(enrich.items[0], ast.Disable) and isinstance(enrich.items[0].when, ast.Literal)
    (disable,) = validate.items
    assert isinstance(disable, ast.Disable) and disable.rules == ["A-1", "A-2"] and isinstance(disable.when, ast.Compare)
    assert [n.column for n in disable.rule_nodes] == [11, 16]
    plain, when = route.items  # in a route section, `when` after a disable starts a route
    assert isinstance(plain, ast.Disable) and plain.when is None and isinstance(when, ast.RouteWhen)
