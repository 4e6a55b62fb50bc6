"""The compiler's fast paths give the same answers as the plain forms they replace.

`trim(x) = "S"` (tested as written before trimming), `trim(x) in codelist L`
(member as written first), inlined `is empty`, counts read from a per-run
tally (`count(lines where trim(vat.category_code) = "S")`, `any b in
vat_breakdown satisfies b.category_code = "B"`): each is checked here on the
values that make the fast path and the slow path differ in cost (spaces,
missing values, case), so a wrong shortcut shows up as a wrong verdict.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from test_engine_support import BASE, decide, validate_rules

from aiguillage.model.invoice import Invoice


def inv_with(**fields: object) -> Invoice:
    """The base invoice with line 1's VAT category, allowance 1's category and top-level fields set."""
    data = copy.deepcopy(BASE)
    if "line_cat" in fields:
        data["lines"][0]["vat"]["category_code"] = fields.pop("line_cat")
    if "allowance_cat" in fields:
        data["allowances"][0]["vat_category_code"] = fields.pop("allowance_cat")
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Invoice.model_validate(data)


def holds(tmp_path: Path, assertion: str, inv: Invoice, lets: str = "") -> bool:
    body = f"  rule T-1 error \"m\"\n    assert {assertion}\n"
    text = validate_rules(body)
    if lets:
        text = text.replace("\nvalidate\n", f"\n{lets}\nvalidate\n")
    decision = decide(tmp_path, text, inv)
    errors = [f for f in decision.findings if f.rule.startswith("engine-error")]
    assert not errors, errors[0].message
    return not decision.findings


@pytest.mark.parametrize(
    ("assertion", "fields", "expected"),
    [
        ('trim(type_code) = "380"', {"type_code": "380"}, True),
        ('trim(type_code) = "380"', {"type_code": "  380 "}, True),  # trimmed: equal
        ('trim(type_code) = "380"', {"type_code": "3800"}, False),  # contains the code, still not equal
        ('trim(type_code) = "380"', {"type_code": None}, False),  # missing: false
        ('"380" = trim(type_code)', {"type_code": " 380"}, True),  # literal on the left
        ('trim(type_code) != "380"', {"type_code": " 380 "}, False),
        ('trim(type_code) != "380"', {"type_code": "381"}, True),
        ('trim(type_code) != "380"', {"type_code": None}, False),  # != with a missing side: false
        ("trim(currency_code) in codelist ISO-4217", {"currency_code": " EUR "}, True),
        ("trim(currency_code) in codelist ISO-4217", {"currency_code": "EURO"}, False),
        ("upper(trim(currency_code)) in codelist ISO-4217", {"currency_code": " eur"}, True),
        ("trim(currency_code) not in codelist ISO-4217", {"currency_code": " EUR"}, False),
        ("trim(currency_code) not in codelist ISO-4217", {"currency_code": "XXXX"}, True),
        ('trim(type_code) in ("380", "381")', {"type_code": " 381"}, True),
        ('trim(type_code) not in ("380", "381")', {"type_code": "382 "}, True),
        ("buyer_reference is empty", {"buyer_reference": "   "}, True),
        ("buyer_reference is empty", {"buyer_reference": None}, True),
        ("buyer_reference is not empty", {"buyer_reference": " x "}, True),
    ],
)
def test_text_fast_paths(tmp_path: Path, assertion: str, fields: dict[str, object], expected: bool) -> None:
    assert holds(tmp_path, assertion, inv_with(**fields)) is expected


@pytest.mark.parametrize(
    ("assertion", "fields", "expected"),
    [
        # the base invoice: three lines in S, one allowance and one charge in S
        ('count(lines where trim(vat.category_code) = "S") = 3', {}, True),
        ('count(lines where trim(vat.category_code) = "S") = 3', {"line_cat": " S "}, True),
        ('count(lines where trim(vat.category_code) = "S") = 2', {"line_cat": "Z"}, True),
        ('count(lines where vat.category_code = "S") = 2', {"line_cat": " S"}, True),  # as written: not trimmed
        ('count(lines where trim(vat.category_code) = "Z") = 0', {}, True),
        ('count(allowances where trim(vat_category_code) = "S") = 0', {"allowance_cat": "E"}, True),
        ('any b in vat_breakdown satisfies b.category_code = "S"', {}, True),
        ('no b in vat_breakdown satisfies b.category_code = "B"', {}, True),
        ('any a in allowances satisfies trim(a.vat_category_code) = "E"', {"allowance_cat": " E "}, True),
        ('lines_in_s = 3 and lines_in_z = 0', {}, True),
        ('lines_in_s = 2 and lines_in_z = 1', {"line_cat": "Z "}, True),
    ],
)
def test_tallied_counts(tmp_path: Path, assertion: str, fields: dict[str, object], expected: bool) -> None:
    lets = 'let lines_in_s = count(lines where trim(vat.category_code) = "S")\nlet lines_in_z = count(lines where trim(vat.category_code) = "Z")\n'
    assert holds(tmp_path, assertion, inv_with(**fields), lets) is expected
