"""Write the UBL-CR / CII-SR / CII-DT rule families from an official EN 16931 stylesheet.

`python3 -m aiguillage.testing.family_rules XSLT SYNTAX > FILE.rules` turns every
syntax assert of the form `not(a/b/c)` (an element EN 16931 does not use, in a
context given from the root) into one member of a family, keyed by the element
path the readers record in an `unused_element` fact (from below the root, as
`cac:AccountingSupplierParty/cac:Party/cbc:WebsiteURI`); a context given as
`//x` becomes a key `//x/…` that matches the end of a path. Asserts of other
forms (counts, values, attributes) are left to hand-written rules.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from aiguillage.testing.mutations import unused_insertions

_ROOTS = ("/ubl:Invoice", "/cn:CreditNote", "/rsm:CrossIndustryInvoice")
_SYNTAX = {
    "ubl": ("ubl_irregular", "UBL", "UBL"),
    "cii": ("cii_irregular", "CII", "CII"),
}


def keys(context: str, path: tuple[str, ...]) -> list[str]:
    """The fact paths one assert is about, one per branch of its context."""
    found = []
    for branch in (b.strip() for b in context.split("|")):
        if "[" in branch or "*" in branch:
            continue
        if branch.startswith("//"):
            found.append("/".join((branch, *path)))
            continue
        for root in _ROOTS:
            if branch == root:
                branch = ""
                break
            if branch.startswith(root + "/"):
                branch = branch[len(root) + 1 :]
                break
        else:
            continue
        found.append("/".join(p for p in (branch, *path) if p))
    return list(dict.fromkeys(found))


def render(stylesheet: str, syntax: str) -> str:
    guard, name, _ = _SYNTAX[syntax]
    families: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
    for insertion in unused_insertions(stylesheet):
        if any(step.startswith("@") for step in insertion.path):
            continue
        found = keys(insertion.context, insertion.path)
        if found:
            family = insertion.rule.rsplit("-", 1)[0]
            members = families[(family, "warning" if insertion.flag == "warning" else "fatal")]
            members.setdefault(insertion.rule, []).extend(k for k in found if k not in members.get(insertion.rule, ()))
    out = [
        f"# {name} elements EN 16931 does not use: rule families generated from the official",
        "# EN 16931 validation artefacts 1.3.16 by aiguillage.testing.family_rules (do not edit",
        "# by hand; regenerate). One look-up per `unused_element` fact the reader records, so a",
        "# valid invoice pays nothing; each member is a rule of its own (disable, override,",
        "# explain, coverage). Attribute and counting asserts of the families are not here.",
        *(["let cii_irregular = cii_input and irregular_syntax  # codes.rules: any fact but a currencyID", ""]
          if syntax == "cii" else []),
        "validate",
    ]
    for (family, severity), members in sorted(families.items()):
        out += [
            "",
            f"  family {family} {severity}",
            f'    message en "{{f.path}}: EN 16931 does not use this element in {name}"',
            f'            fr "{{f.path}} : EN 16931 n\'utilise pas cet élément en {name}"',
            '    for each f in syntax_facts where f.kind = "unused_element" and f.attribute is missing',
            f"    when {guard}",
            "    lookup f.path members",
        ]
        for rule, found in sorted(members.items()):
            out.append(f"      {rule} " + ", ".join(f'"{k}"' for k in found))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(sys.argv[1], sys.argv[2]))
