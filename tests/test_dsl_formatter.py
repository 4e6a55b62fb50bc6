"""The formatter: one canonical layout, idempotent, every comment kept, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_engine_support import REPO

from aiguillage.dsl.formatter import format_expr, format_text
from aiguillage.dsl.parser import parse_text

MESSY = '''# ACME, messy on purpose
ruleset   "acme"    version 2
customer "A-1"   # the customer
codelist ISO-4217
table t from "t.csv" key k
     shape
  k text   required
let big = totals.amount_with_vat>10000 EUR
validate
# first rule
  rule A-01 error "x {number}"
      assert number   exists    # trailing
  rule A-02 fatal
   message   fr "b"   en "a"
      for each line in lines where line.net_amount>0
   when   line.quantity   exists
      assert   line.net_amount = round( line.quantity*line.price.net_price ,2)
  override BR-1 severity warning
  disable BR-2,BR-3
route
  when has errors->hold "fix"
  when big -> approval by "finance" , then peppol
  otherwise->email to "a@b.c" as factur-x with (subject = "x", copies = 2)
  decision "d" all matches
    | currency_code | -> outcome
    # row comment
    | "EUR"  | -> print
# the end
'''

EXPECTED = '''# ACME, messy on purpose
ruleset "acme" version 2
customer "A-1"  # the customer

codelist ISO-4217

table t from "t.csv" key k
  shape
    k text required

let big = totals.amount_with_vat > 10000 EUR

validate

  # first rule
  rule A-01 error "x {number}"
    assert number exists  # trailing

  rule A-02 fatal
    message fr "b"
            en "a"
    for each line in lines where line.net_amount > 0
    when line.quantity exists
    assert line.net_amount = round(line.quantity * line.price.net_price, 2)

  override BR-1 severity warning
  disable BR-2, BR-3

route
  when has errors -> hold "fix"
  when big        -> approval by "finance", then peppol
  otherwise       -> email to "a@b.c" as factur-x with (subject = "x", copies = 2)

  decision "d" all matches
    | currency_code | -> outcome
    # row comment
    | "EUR"         | -> print

# the end
'''


def test_canonical_layout() -> None:
    assert format_text(MESSY, "m.rules") == EXPECTED


def test_idempotent() -> None:
    once = format_text(MESSY, "m.rules")
    assert format_text(once, "m.rules") == once


def test_long_conditions_break_before_and() -> None:
    long = " and ".join(f"totals.amount_with_vat > {n}" for n in range(6))
    text = f'ruleset "x"\nvalidate\n  rule A-1 error "m"\n    assert {long}\n'
    out = format_text(text, "x.rules")
    assert "\n             and totals.amount_with_vat > 1\n" in out
    assert format_text(out, "x.rules") == out


def test_parentheses_only_where_needed() -> None:
    rules = parse_text('ruleset "x"\nvalidate\n  rule A-1 error "m"\n    assert (a or b) and not (c = 1) and (x + y) * 2 > 3 - (4 - 5)\n', "x.rules")
    expr = rules.items[1].items[0].assertion  # type: ignore[attr-defined]
    assert format_expr(expr) == "(a or b) and not c = 1 and (x + y) * 2 > 3 - (4 - 5)"


def _comments(text: str) -> list[str]:
    return sorted(c.text for c in parse_text(text, "c.rules").comments)


def _repo_rules() -> list[Path]:
    return sorted((REPO / "rulesets").rglob("*.rules"))


@pytest.mark.parametrize("path", _repo_rules(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_repo_ruleset_formats_idempotently_and_keeps_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    assert format_text(once, str(path)) == once
    assert _comments(once) == _comments(text)
    # the meaning is unchanged: same statements, same expressions
    before = parse_text(text, str(path))
    after = parse_text(once, str(path))
    assert [type(i).__name__ for i in before.items] == [type(i).__name__ for i in after.items]


def test_the_demo_ruleset_is_formatted() -> None:
    path = REPO / "rulesets" / "customers" / "demo-acme" / "acme.rules"
    text = path.read_text(encoding="utf-8")
    assert format_text(text, str(path)) == text


def test_approval_settings_round_trip() -> None:
    text = ('ruleset "t"\n\nroute\n  when totals.amount_with_vat > 10000 EUR -> approval by "finance" with'
            '   ( escalate_after="48h",escalate_to = "cfo" ) , then peppol\n'
            '  otherwise -> approval by "ap" with escalate_after = 24\n')
    once = format_text(text, "a.rules")
    assert ('approval by "finance" with (escalate_after = "48h", escalate_to = "cfo"), then peppol' in once)
    assert 'approval by "ap" with escalate_after = 24' in once
    assert format_text(once, "a.rules") == once


def test_conditional_disable() -> None:
    text = 'ruleset "x"\nvalidate\n  disable   BR-1,BR-2   when  provenance.syntax="cii"\n  disable BR-3\n'
    out = format_text(text, "x.rules")
    assert out.endswith('validate\n\n  disable BR-1, BR-2 when provenance.syntax = "cii"\n  disable BR-3\n')
    assert format_text(out, "x.rules") == out
