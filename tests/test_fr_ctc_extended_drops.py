"""fr-ctc-extended disables, per syntax, exactly the inherited rules the EXTENDED-CTC-FR and BR-FR
artefacts of that syntax do not have (aiguillage.testing.fr_extended_drops): one more and it
silences a rule the official validation gives, one less and it fires a rule the official
validation never gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.dsl.parser import parse_text
from aiguillage.engine.loader import library
from aiguillage.testing.fr_extended_drops import (
    RULESET,
    SYNTAXES,
    disabled,
    dropped,
    guard_syntaxes,
    inherited,
    stylesheet_ids,
    stylesheets,
)


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", SYNTAXES)
def test_the_disables_are_what_the_artefacts_drop(conformance: Path, syntax: str) -> None:
    program = library().program(RULESET)
    can_fire = {rule for rule, where in inherited(program).items() if syntax in where}
    wanted = set(dropped(program, conformance)[syntax])
    off = disabled(program)[syntax] & can_fire
    assert (sorted(wanted - off), sorted(off - wanted)) == ([], []), "(to disable, disabled but in the artefacts)"


@pytest.mark.conformance
def test_the_artefact_ids_include_the_unnamed_asserts(conformance: Path) -> None:
    extended, _ = stylesheets(conformance, "cii")
    # BR-FXEXT-04 and BR-CO-27 have no SVRL id in CII, only the id in brackets of their message;
    # CII-FREXT-SR-439 has its message say CII-SR-439: the SVRL id wins
    assert {"BR-FXEXT-04", "BR-CO-27", "CII-FREXT-SR-439"} <= stylesheet_ids(extended)
    assert "CII-SR-439" not in stylesheet_ids(extended)


def test_the_syntax_of_a_rule_is_read_from_its_guards() -> None:
    lets = {"ubl_repeats": _when("ubl_input and x exists"), "cii_irregular": _when("cii_input and y exists")}
    assert guard_syntaxes(_when("fr_cii and number exists"), lets) == {"cii"}
    assert guard_syntaxes(_when("not fr_cii and number exists"), lets) == {"ubl"}
    assert guard_syntaxes(_when("ubl_repeats"), lets) == {"ubl"}
    assert guard_syntaxes(_when("cii_irregular"), lets) == {"cii"}
    assert guard_syntaxes(_when("fr_cii or number exists"), lets) == {"ubl", "cii"}
    assert guard_syntaxes(None, lets) == {"ubl", "cii"}


def test_the_syntax_of_the_en16931_rules() -> None:
    rules = inherited(library().program(RULESET))
    assert rules["UBL-CR-018"] == {"ubl"}
    assert rules["CII-SR-041"] == {"cii"}
    assert rules["BR-FR-01_BT-1"] == {"cii"}
    assert rules["BR-27"] == {"ubl", "cii"}


def _when(text: str):  # noqa: ANN202 - an ast.Expr
    parsed = parse_text(f'ruleset "t" version "1"\nvalidate\n  rule T-1 error\n    message en "m"\n    when {text}\n    assert true\n')
    rule = next(s for item in parsed.items if hasattr(item, "items") for s in item.items)
    return rule.when
