"""Extra built-in functions added for the standard rulesets (issue 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiguillage.dsl.functions import FUNCTIONS
from aiguillage.engine import runtime


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("-2.345", 2, "-2.34"),
        ("-2.346", 2, "-2.35"),
        ("-2.5", 0, "-2"),
        ("2.5", 0, "3"),
        ("-0.5", 0, "0"),
        ("10", 2, "10.00"),
    ],
)
def test_round_half_ceiling_rounds_halves_up_like_xpath(value: str, places: int, expected: str) -> None:
    assert runtime.round_half_ceiling(Decimal(value), places) == Decimal(expected)


def test_round_half_ceiling_missing_and_default_places() -> None:
    assert runtime.round_half_ceiling(None) is None
    assert runtime.round_half_ceiling(Decimal("-1.005")) == Decimal("-1.00")
    assert runtime.round_half_ceiling(3) == Decimal("3.00")
    assert FUNCTIONS["round_half_ceiling"].runtime == "round_half_ceiling"


# --------------------------------------------------------------------------- Peppol identifier checks (PEPPOL-COMMON-R040…R050)


def test_gln_valid_follows_peppol_u_gln() -> None:
    from aiguillage.engine import checkdigits as cd

    assert cd.gln_valid("9429041098400")
    assert cd.gln_valid("0")  # u:gln: empty body, check digit 0
    assert not cd.gln_valid("5")
    assert not cd.gln_valid("9429041098400\n")  # digits only, no trailing newline


def test_mod11_valid_needs_a_number_above_zero() -> None:
    from aiguillage.engine import checkdigits as cd

    assert cd.mod11_valid("974760673")
    assert not cd.mod11_valid("000000000")  # weighted sum 0, check 0: u:mod11 asks number($val) > 0
    assert not cd.no_orgnr_valid("000000000")
    assert not cd.no_orgnr_valid("974760673\n")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RSSMRA85T10A562S", True),
        ("RSSMRA85T10A562T", True),  # the form only: Peppol computes no check letter
        ("rssmra85t10a562s", True),
        ("RSSMRA+5T10A562S", True),  # "+5" is castable as xs:integer
        ("97735020584", True),
        ("+9773502058", True),
        ("RSSMRA8XT10A562S", False),
        ("RSSMR185T10A562S", False),
        ("RSSMRA85T10A56XS", False),
        ("RSSMRA85T10A5621", False),
        ("9773502058X", False),
        ("9773502058497735020584", False),
        ("ABC", False),
        ("", False),
        (None, False),
    ],
)
def test_it_codice_fiscale_format_valid(value: str | None, expected: bool) -> None:
    assert runtime.it_codice_fiscale_format_valid(value) is expected
    assert FUNCTIONS["it_codice_fiscale_format_valid"].result == "bool"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("F7VRDL", True), ("abc123", True), ("F7VRD", False), ("F7VRDLF", False), ("F7-RDL", False), ("F7VRDÉ", False), ("", False), (None, False)],
)
def test_it_ipa_code_valid(value: str | None, expected: bool) -> None:
    assert runtime.it_ipa_code_valid(value) is expected
    assert FUNCTIONS["it_ipa_code_valid"].runtime == "it_ipa_code_valid"


# --------------------------------------------------------------------------- first() (XPath's $values[1])


def test_first_value_is_the_first_present_value() -> None:
    assert runtime.first_value([None, "b", "a"]) == "b"
    assert runtime.first_value([]) is None
    assert FUNCTIONS["first"].runtime == "first_value"
