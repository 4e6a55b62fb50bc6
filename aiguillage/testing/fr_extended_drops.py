"""Which inherited rules `fr-ctc-extended` disables because the EXTENDED-CTC-FR artefacts drop them.

An EXTENDED-CTC-FR invoice is judged officially by the profile's XSLT of its syntax
(`fr/{ubl,cii}/EXTENDED-CTC-FR-*.xslt`) and the BR-FR one: a rule `fr-ctc-extended` inherits
(from en16931 and fr-ctc) that can fire on an invoice of that syntax and that neither artefact
has would be a verdict the official validation never gives. `dropped(syntax)` lists those, from
the artefacts' ids (the SVRL id, else the id in brackets opening the message, as `failed_asserts`
names them) and from each rule's `when` (a rule guarded by `ubl_input`, `cii_input` or `fr_cii`,
or a member of a UBL or CII family, fires in one syntax only). Our own ids (FR-EXT-*, AIG-*) stay.
`python3 -m aiguillage.testing.fr_extended_drops [CONFORMANCE]` prints the ids per syntax;
tests/test_fr_ctc_extended_drops.py checks the ruleset's disables against them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from lxml import etree

from aiguillage.dsl import ast
from aiguillage.dsl.program import Program
from aiguillage.testing.oracle import BRACKETED_ID, SVRL_NS

SYNTAXES = ("ubl", "cii")
RULESET = "fr-ctc-extended"
#: Names whose truth tells the syntax (rulesets/standard/en16931/core.rules, ubl-syntax.rules, fr-ctc.rules).
_GUARDS = {"ubl_input": "ubl", "cii_input": "cii", "fr_cii": "cii"}
_OURS = ("FR-EXT-", "AIG-")
_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_FIRED = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")


def stylesheets(conformance: Path, syntax: str) -> tuple[Path, Path]:
    """The EXTENDED-CTC-FR and the (fatal) BR-FR stylesheet of a syntax."""
    folder = conformance / "fr" / syntax
    return folder / f"EXTENDED-CTC-FR-{syntax.upper()}.xslt", folder / f"BR-FR-Flux2-Schematron-{syntax.upper()}.xslt"


@cache
def stylesheet_ids(path: Path) -> frozenset[str]:
    """The ids a stylesheet reports its asserts by: the SVRL `id`, else (a few EXTENDED-CTC-FR
    asserts have none) the id in brackets opening the message."""
    ids: set[str] = set()
    for tag in _FIRED:
        for element in etree.parse(str(path)).iter(tag):
            named = [a.text.strip() for a in element.iter(f"{_XSL}attribute") if a.get("name") == "id" and a.text and a.text.strip()]
            if element.get("id"):
                named.append(element.get("id"))
            text = element.find(f"{{{SVRL_NS}}}text")
            bracketed = BRACKETED_ID.match("".join(text.itertext())) if text is not None else None
            ids.update(named or ([bracketed.group(1)] if bracketed else []))
    return frozenset(ids)


def official_ids(conformance: Path, syntax: str) -> frozenset[str]:
    """Every id the official validation of an EXTENDED-CTC-FR invoice of this syntax can give."""
    extended, br_fr = stylesheets(conformance, syntax)
    return stylesheet_ids(extended) | stylesheet_ids(br_fr)


def guard_syntaxes(expr: ast.Expr | None, lets: dict[str, ast.Expr]) -> set[str]:
    """The syntaxes a `when` lets through, read from its `and`ed terms (a let is read through)."""
    allowed = set(SYNTAXES)
    for term in _conjuncts(expr):
        negated = isinstance(term, ast.Unary) and term.op == "not"
        inner = term.operand if negated else term
        if not (isinstance(inner, ast.Path) and len(inner.segments) == 1):
            continue
        name = inner.segments[0]
        if name in _GUARDS:
            allowed &= set(SYNTAXES) - {_GUARDS[name]} if negated else {_GUARDS[name]}
        elif name in lets and not negated:
            allowed &= guard_syntaxes(lets[name], lets)
    return allowed


def _conjuncts(expr: ast.Expr | None) -> Iterable[ast.Expr]:
    if isinstance(expr, ast.Binary) and expr.op == "and":
        yield from _conjuncts(expr.left)
        yield from _conjuncts(expr.right)
    elif expr is not None:
        yield expr


def _lets(program: Program) -> dict[str, ast.Expr]:
    """Every `let` of the program and what it builds on, by name."""
    return {item.name: item.expr for p in program.lineage() for item in p.items if isinstance(item, ast.LetDecl)}


def inherited(program: Program) -> dict[str, set[str]]:
    """Rule id → the syntaxes it can fire in, for the validate rules `program` inherits."""
    lineage = program.lineage()
    lets = _lets(program)
    rules: dict[str, set[str]] = {}
    for parent in lineage[:-1]:
        for rule in parent.validate_rules:
            when = rule.family.when if rule.family is not None else rule.when
            rules.setdefault(rule.id, set()).update(guard_syntaxes(when, lets))
    return rules


def dropped(program: Program, conformance: Path) -> dict[str, list[str]]:
    """Per syntax, the inherited rules (in their order) that can fire there and that neither
    official artefact of that syntax has."""
    rules = inherited(program)
    out: dict[str, list[str]] = {}
    for syntax in SYNTAXES:
        official = official_ids(conformance, syntax)
        out[syntax] = [r for r, where in rules.items() if syntax in where and r not in official and not r.startswith(_OURS)]
    return out


def disabled(program: Program) -> dict[str, set[str]]:
    """Per syntax, the rules the program's own `disable` lines turn off there (`when fr_cii`:
    CII only, `when not fr_cii`: UBL only; any other condition counts for neither)."""
    lets = _lets(program)
    out: dict[str, set[str]] = {s: set() for s in SYNTAXES}
    for statement in program.statements(ast.Disable):
        where = _disable_syntaxes(statement.when, lets)
        for syntax in where:
            out[syntax].update(statement.rules)
    return out


def _disable_syntaxes(when: ast.Expr | None, lets: dict[str, ast.Expr]) -> set[str]:
    """The syntaxes a disable holds for: all without condition, one for a lone syntax guard."""
    if when is None:
        return set(SYNTAXES)
    where = guard_syntaxes(when, lets)
    return where if len(list(_conjuncts(when))) == 1 and where != set(SYNTAXES) else set()


def main(argv: list[str]) -> int:
    from aiguillage.engine.loader import library

    conformance = Path(argv[0] if argv else "../shared/conformance")
    found = dropped(library().program(RULESET), conformance)
    both = [r for r in found["ubl"] if r in found["cii"]]
    print("both:", ", ".join(both))
    for syntax in SYNTAXES:
        print(f"{syntax} only:", ", ".join(r for r in found[syntax] if r not in both))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
