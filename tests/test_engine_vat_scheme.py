"""`vat_scheme(x, cii)`: the EN 16931 "category under the VAT scheme" condition, said once.

The model keeps a tax scheme of exactly "VAT" as missing and any other text as written. The UBL
binding ignores case and spaces (upper-case(normalize-space(cbc:ID))), the CII binding case only
(ram:TypeCode); the second argument (`cii_input` in the rule files) picks the reading.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import conformance_dir
from test_engine_semantics import changed, holds
from test_engine_support import problems, validate_rules

from aiguillage.engine import runtime
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice

#: (value as the model keeps it, VAT under UBL's reading, VAT under CII's reading)
CASES = [
    (None, True, True),
    ("vat", True, True),
    ("Vat", True, True),
    (" VAT ", True, False),
    ("VAT\n", True, False),
    ("  vat", True, False),
    ("V AT", False, False),
    ("GST", False, False),
    ("", False, False),
]


@pytest.mark.parametrize(("value", "ubl", "cii"), CASES)
def test_runtime_reads_each_binding(value: str | None, ubl: bool, cii: bool) -> None:
    assert runtime.vat_scheme(value, False) is ubl
    assert runtime.vat_scheme(value, True) is cii


def test_missing_reading_is_not_cii() -> None:
    """`not cii_input` held for a missing condition; so does the function's UBL reading."""
    assert runtime.vat_scheme(" VAT ", None) is True


@pytest.mark.parametrize(("value", "ubl", "cii"), CASES)
@pytest.mark.parametrize("cii_input", ["true", "false"])
def test_same_as_the_long_condition_it_replaces(
    tmp_path: Path, value: str | None, ubl: bool, cii: bool, cii_input: str
) -> None:
    """In a compiled rule, the call and the condition it replaced agree on every value and reading."""
    inv = changed(lines__0__vat__tax_scheme=value)
    x = "line.vat.tax_scheme"
    long = f'{x} is missing or upper({x}) = "VAT" or not {cii_input} and upper(trim({x})) = "VAT"'
    scope = 'for each line in lines where identifier = "1"'
    short = holds(tmp_path, f"vat_scheme({x}, {cii_input})", inv, scope)
    assert short is (cii if cii_input == "true" else ubl)
    assert holds(tmp_path, long, inv, scope) is short


def test_checker_wants_a_text_and_a_condition(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        validate_rules('  rule T-1 error "m"\n    assert vat_scheme(currency_code, "yes")\n'),
    )
    assert any("vat_scheme() needs a condition" in p for p in found), found
    found = problems(
        tmp_path, validate_rules('  rule T-1 error "m"\n    assert vat_scheme(currency_code)\n')
    )
    assert any("vat_scheme() takes 2 arguments, not 1" in p for p in found), found


# --------------------------------------------------------------------------- both syntaxes, end to end


def _br_co_04(data: bytes, name: str) -> bool:
    decision = evaluate(read_invoice(data, name), library().compiled("en16931"))
    return "BR-CO-04" in {f.rule for f in decision.findings}


def test_ubl_line_scheme_with_spaces_is_vat() -> None:
    """UBL: a line's cbc:ID " VAT " is VAT (normalize-space), so BR-CO-04 holds."""
    path = conformance_dir() / "en16931" / "ubl-examples" / "ubl-tc434-example1.xml"
    data = path.read_bytes()
    assert not _br_co_04(data, path.name)
    spaced, n = re.subn(
        rb"(<cac:ClassifiedTaxCategory>.*?<cac:TaxScheme>\s*<cbc:ID>)VAT(</cbc:ID>)",
        rb"\1 VAT \2",
        data,
        flags=re.S,
    )
    assert n > 0
    assert read_invoice(spaced, path.name).lines[0].vat.tax_scheme == " VAT "
    assert not _br_co_04(spaced, path.name)
    other, _ = re.subn(
        rb"(<cac:ClassifiedTaxCategory>.*?<cac:TaxScheme>\s*<cbc:ID>)VAT(</cbc:ID>)",
        rb"\1GST\2",
        data,
        count=1,
        flags=re.S,
    )
    assert _br_co_04(other, path.name)


def test_cii_line_scheme_with_spaces_is_not_vat() -> None:
    """CII: a line's ram:TypeCode " VAT " is not VAT (case only is ignored), so BR-CO-04 fails."""
    path = conformance_dir() / "en16931" / "cii-examples" / "CII_example1.xml"
    data = path.read_bytes()
    assert not _br_co_04(data, path.name)
    line_tax = rb"(<ram:SpecifiedLineTradeSettlement>\s*<ram:ApplicableTradeTax>\s*<ram:TypeCode>)VAT(</ram:TypeCode>)"
    lower, n = re.subn(line_tax, rb"\1vat\2", data)
    assert n > 0
    assert not _br_co_04(lower, path.name)
    spaced, _ = re.subn(line_tax, rb"\1 VAT \2", data, count=1)
    assert read_invoice(spaced, path.name).lines[0].vat.tax_scheme == " VAT "
    assert _br_co_04(spaced, path.name)
