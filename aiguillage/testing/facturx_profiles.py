"""Which inherited rules each Factur-X profile's ruleset disables, read from the official artefacts.

A profile ruleset (`rulesets/standard/factur-x-*.rules`) extends `factur-x`
(so en16931) and disables the EN 16931 business rules (BR-*) its profile's
artefact does not have: the terms they judge are not in the profile (MINIMUM,
BASIC WL), or the profile replaces them (EXTENDED: BR-FXEXT-BR-22 for BR-22 …).
MINIMUM and BASIC WL keep the EN 16931 code lists (BR-CL-*; their artefacts check
the same codes under serial ids); EXTENDED drops them and the CII-SR / CII-DT
"not used" families too, since the profile uses those elements and has wider
code lists. `python3 -m aiguillage.testing.facturx_profiles PROFILE` prints
the `disable` lines; tests/test_facturx_profiles.py checks the files against it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiguillage.testing.facturx_oracle import FacturXOracle, stylesheet


def disabled(profile: str, inherited: list[str], artefact_ids: frozenset[str]) -> list[str]:
    """The inherited rule ids (in their order) the profile's ruleset disables."""
    wider = profile == "extended"

    def dropped(rule: str) -> bool:
        if rule in artefact_ids or rule.startswith(("AIG-", "UBL-", "FX-")):
            return False
        if rule.startswith("BR-CL-"):
            return wider
        if rule.startswith(("CII-SR-", "CII-DT-")):
            return wider
        return rule.startswith("BR-")

    return [rule for rule in inherited if dropped(rule)]


def disable_lines(rules: list[str], width: int = 100) -> list[str]:
    """`disable A, B, …` lines of at most `width` characters."""
    lines: list[str] = []
    current: list[str] = []
    for rule in rules:
        if current and len("  disable " + ", ".join([*current, rule])) > width:
            lines.append("  disable " + ", ".join(current))
            current = []
        current.append(rule)
    if current:
        lines.append("  disable " + ", ".join(current))
    return lines


def inherited_rules() -> list[str]:
    """The validate rules of `factur-x` (en16931 and its own), in their order."""
    from aiguillage.engine.loader import library

    compiled = library().compiled("factur-x")
    return [m.id for unit in compiled.units for m in unit.metas if m.kind == "validate"]


def main(argv: list[str]) -> int:
    profile, conformance = argv[0], Path(argv[1] if len(argv) > 1 else "../shared/conformance")
    ids = FacturXOracle(stylesheet(profile, conformance)).rule_ids
    print("\n".join(disable_lines(disabled(profile, inherited_rules(), ids))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
