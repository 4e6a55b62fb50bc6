"""Write a Factur-X profile's structure asserts that are one look-up of a reader fact as rule families.

`python3 -m aiguillage.testing.facturx_families PROFILE [CONFORMANCE] > FILE.rules`
reads the profile's Factur-X 1.09 artefact (aiguillage.testing.facturx_oracle) and
turns its asserts without a bracketed id into members of families, as
aiguillage.testing.family_rules does for EN 16931's syntax families:

* a report `true()` in a context given by path ("Element 'ram:X' is marked as not
  used in the given context"), keyed by that path over the reader's `unused_element`
  facts;
* a report `@a` ("Attribute @a marked as not used"), keyed by `path/@a` over the
  `unused_element` facts that name an attribute;
* an assert `count(ram:X)<=1` ("may occur at maximum 1 times"), keyed by `path/ram:X`
  over the `repeated` facts.

Each member is named as the oracle names the assert: its serial (`FX-SCH-A-000024`),
or `facturx_oracle.unnamed_id` (`FX-U-` and a digest of context and test) where it has
none. An assert becomes a member only where the CII reader records its fact exactly:
`recorded` reads a small document holding the element (twice, for a count) and one
holding its context twice with one element each (a count must not fire then), so a
member never looks up a fact the reader does not give, and the files change when the
reader's facts do (tests/test_facturx_families.py). A serial shared by several asserts
is a member only when all of them are. A "not used" element EN 16931 uses (so the reader
records no fact) but reads into a model term of its own, outside repeating groups, becomes a
rule `assert TERM is missing` (`presence`, `model_term`); code values, where the reader keeps
them in a model term, rules of aiguillage.testing.facturx_codes. Everything else ("must occur exactly 1 times",
required attributes, other code values, contexts with predicates or templates of higher
priority) is listed by `--left`.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from aiguillage.testing.facturx_oracle import RULESETS, stylesheet, unnamed_id
from aiguillage.testing.family_rules import Assert, Members, _add, family_blocks
from aiguillage.testing.mutations import Insertion

_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_ROOT = "/rsm:CrossIndustryInvoice"
_BRACKETED = re.compile(r"^\s*\[[A-Za-z0-9-]+\]")
_STEP = r"[A-Za-z][A-Za-z0-9]*:[A-Za-z][A-Za-z0-9]*"
_PLAIN = re.compile(rf"^{_ROOT}(?:/{_STEP})+$")
_ATTRIBUTE = re.compile(r"^@([A-Za-z][A-Za-z0-9]*)$")
_COUNT = re.compile(rf"^count\(({_STEP})\)\s*<=\s*1$")
#: The profiles' names as their rulesets' descriptions say them.
NAMES = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931",
    "extended": "EXTENDED",
}
#: The generated file of each profile, under rulesets/standard/.
FILES = {
    profile: f"factur-x/{RULESETS[profile].removeprefix('factur-x-')}-structure.rules"
    for profile in RULESETS
}


@dataclass(frozen=True, slots=True)
class Structure:
    """One assert or report of a Factur-X artefact without a bracketed id."""

    rule: str
    context: str
    test: str
    mode: str
    priority: float
    message: str


@lru_cache(maxsize=8)
def structure_asserts(path: str) -> tuple[Structure, ...]:
    found = []
    for fired in etree.parse(path).iter(f"{_SVRL}failed-assert", f"{_SVRL}successful-report"):
        text = fired.find(f"{_SVRL}text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        if _BRACKETED.match(message):
            continue
        template = next(a for a in fired.iterancestors() if a.tag == f"{_XSL}template")
        rule = template.find(f"{_SVRL}fired-rule")
        context = " ".join(
            (rule.get("context") if rule is not None else template.get("match", "")).split()
        )
        test = " ".join((fired.get("test") or "").split())
        serial = next(
            (
                a.text.strip()
                for a in fired.iter(f"{_XSL}attribute")
                if a.get("name") == "id" and a.text
            ),
            None,
        )
        found.append(
            Structure(
                serial or unnamed_id(context, test),
                context,
                test,
                template.get("mode", ""),
                float(template.get("priority", "0")),
                message,
            )
        )
    return tuple(found)


@lru_cache(maxsize=8)
def _shadowed(path: str) -> frozenset[tuple[str, str]]:
    """(mode, context) of the templates another template of higher priority in the same mode
    takes in part: one whose match, predicates aside, is the same path."""
    templates = [
        (t.get("mode", ""), float(t.get("priority", "0")), " ".join(t.get("match", "").split()))
        for t in etree.parse(path).getroot().iter(f"{_XSL}template")
        if t.get("match")
    ]
    shadowed = set()
    for mode, priority, match in templates:
        for other_mode, other_priority, other in templates:
            if (
                other_mode == mode
                and other_priority > priority
                and re.sub(r"\[[^\]]*\]", "", other) == match
            ):
                shadowed.add((mode, match))
    return frozenset(shadowed)


def candidate(item: Structure) -> tuple[str, str] | None:
    """The kind of look-up and its key, when the assert has the form of one."""
    if not _PLAIN.match(item.context):
        return None
    path = item.context[len(_ROOT) + 1 :]
    if (
        item.message.endswith("is marked as not used in the given context.")
        and item.test == "true()"
    ):
        return "element", path
    attribute = _ATTRIBUTE.match(item.test)
    if attribute and "marked as not used" in item.message:
        return "attribute", f"{path}/@{attribute.group(1)}"
    count = _COUNT.match(item.test)
    if count:
        return "count", f"{path}/{count.group(1)}"
    return None


def _document(
    steps: list[str], attribute: str | None = None, twice_from: int | None = None
) -> bytes:
    """A CII document holding the path `steps` below the root, a leaf "1"; from step
    `twice_from` on (a count's element, or its context), the rest given twice."""
    from aiguillage.model.cii_common import PREFIXES

    namespaces = {prefix: uri for uri, prefix in PREFIXES.items()}

    def element(step: str) -> etree._Element:
        prefix, local = step.split(":")
        return etree.Element(f"{{{namespaces[prefix]}}}{local}", nsmap=namespaces)

    def chain(rest: list[str]) -> etree._Element:
        top = current = element(rest[0])
        for step in rest[1:]:
            child = element(step)
            current.append(child)
            current = child
        current.text = "1"
        if attribute:
            current.set(attribute, "X")
        return top

    root = element("rsm:CrossIndustryInvoice")
    parent = root
    split = len(steps) if twice_from is None else twice_from
    for step in steps[:split]:
        child = element(step)
        parent.append(child)
        parent = child
    if twice_from is not None:
        parent.append(chain(steps[split:]))
        parent.append(chain(steps[split:]))
    else:
        parent.text = "1"
        if attribute:
            parent.set(attribute, "X")
    return etree.tostring(root, pretty_print=True)


@lru_cache(maxsize=4096)
def recorded(kind: str, key: str) -> bool:
    """Whether the CII reader records the fact a member of this kind looks up, exactly
    at `key`, and (for a count) not where the context is given twice with one element each."""
    from aiguillage.model.syntaxes import read_invoice

    def facts(xml: bytes) -> set[tuple[str, str, str | None]]:
        return {(f.kind.value, f.path, f.attribute) for f in read_invoice(xml).syntax_facts}

    if kind == "attribute":
        path, _, name = key.rpartition("/@")
        return ("unused_element", path, name) in facts(_document(path.split("/"), attribute=name))
    steps = key.split("/")
    if kind == "element":
        return ("unused_element", key, None) in facts(_document(steps))
    twice = facts(_document(steps, twice_from=len(steps) - 1))
    once_per_context = (
        facts(_document(steps, twice_from=len(steps) - 2)) if len(steps) > 1 else set()
    )
    return ("repeated", key, None) in twice and ("repeated", key, None) not in once_per_context


def collect(path: str) -> tuple[Members, list[Structure]]:
    """The family members by (kind, family, severity, nothing left out), and the asserts left."""
    shadowed = _shadowed(path)
    found: dict[str, list[tuple[Structure, str, str]]] = defaultdict(list)
    left_ids: set[str] = set()
    for item in structure_asserts(path):
        member = candidate(item) if (item.mode, item.context) not in shadowed else None
        if member is None or not recorded(*member):
            left_ids.add(item.rule)
        else:
            found[item.rule].append((item, *member))
    families: Members = defaultdict(dict)
    for rule, members in found.items():
        if rule in left_ids:  # a serial is written whole or not at all
            continue
        for item, kind, key in members:
            _add(families, kind, Assert(rule, "fatal", item.context, item.test), [key])
    left = [item for item in structure_asserts(path) if item.rule in left_ids]
    return families, left


def _paths(value: object, prefix: str = "") -> set[str]:
    """The dotted paths of a model dump that hold something (an empty group counts)."""
    if isinstance(value, dict):
        found = {prefix} if not value and prefix else set()
        for key, inner in value.items():
            found |= _paths(inner, f"{prefix}.{key}" if prefix else key)
        return found
    if isinstance(value, list):
        return {p for index, inner in enumerate(value) for p in _paths(inner, f"{prefix}[{index}]")}
    return {prefix}


@lru_cache(maxsize=4096)
def model_term(key: str) -> str | None:
    """The model term or group (not in a repeating group) the reader fills from the element at
    `key` and from nothing else there, found by reading the element's parent with and without it."""
    from aiguillage.model.syntaxes import read_invoice

    def paths(xml: bytes) -> set[str]:
        return _paths(read_invoice(xml).model_dump(exclude_none=True, exclude={"syntax_facts"}))

    steps = key.split("/")
    if len(steps) < 2:
        return None
    new = paths(_document(steps)) - paths(_document(steps[:-1]))
    tops = {p for p in new if not any(p.startswith(q + ".") for q in new if q != p)}
    if len(tops) != 1:
        return None
    (term,) = tops
    return None if "[" in term or term.startswith("provenance") else term


def presence(path: str) -> list[tuple[Structure, str]]:
    """The "not used" elements left by `collect` that the reader reads into a model term of
    their own (EN 16931 uses them, the profile does not): an `is missing` rule each."""
    found = []
    for item in collect(path)[1]:
        member = candidate(item)
        if member is None or member[0] != "element" or not item.rule.startswith("FX-U-"):
            continue
        term = model_term(member[1])
        if term is not None:
            found.append((item, term))
    return found


def left_over(path: str) -> list[Structure]:
    """The asserts neither a family member, a presence rule nor a code-value rule."""
    from aiguillage.testing.facturx_codes import code_checks

    written = {item.rule for item, _ in presence(path)} | set(code_checks(path)[0])
    return [item for item in collect(path)[1] if item.rule not in written]


def _shapes(name: str) -> dict[str, tuple[str, str, str, str]]:
    return {
        "element": (
            f"Factur-X {name} does not use this element here",
            f"Factur-X {name} n'utilise pas cet élément ici",
            'f.kind = "unused_element" and f.attribute is missing',
            "f.path",
        ),
        "attribute": (
            f"Factur-X {name} does not use the attribute {{f.attribute}} here",
            f"Factur-X {name} n'utilise pas l'attribut {{f.attribute}} ici",
            'f.kind = "unused_element" and f.attribute exists',
            'concat(f.path, "/@", f.attribute)',
        ),
        "count": (
            f"this element is given more often than Factur-X {name} allows",
            f"cet élément figure plus souvent que Factur-X {name} ne le permet",
            'f.kind = "repeated"',
            "f.path",
        ),
    }


def render(profile: str, conformance: Path) -> str:
    from aiguillage.testing.facturx_codes import code_checks, render_rules

    path = str(stylesheet(profile, conformance))
    families, _ = collect(path)
    written = {rule for members in families.values() for rule in members}
    written |= {item.rule for item, _ in presence(path)}
    declarations, code_rules = render_rules(path, NAMES[profile])
    written |= set(code_checks(path)[0])
    left = left_over(path)
    out = [
        f"# Structure asserts of the Factur-X 1.09 {NAMES[profile]} artefact ({Path(path).name}) that are one",
        "# look-up of a reader fact: rule families generated by aiguillage.testing.facturx_families (do",
        "# not edit by hand; regenerate). Elements and attributes the profile does not use",
        "# (`unused_element` facts) and elements given more often than it allows (`repeated` facts),",
        "# where the CII reader records that fact; a valid invoice pays nothing. Then, as plain rules,",
        "# elements EN 16931 uses and the profile does not that the reader reads into a model term of",
        "# their own, and code values the reader keeps as written in a model term (facturx_codes).",
        "# Rules are named by the artefact's serial (FX-SCH-A-*), or FX-U- and a digest of the assert's",
        "# context and test where it has none (aiguillage.testing.facturx_oracle.unnamed_id).",
        f"# Written: {len(written)} ids; left ({len({i.rule for i in left})} ids: exactly-one counts, required",
        "# attributes, code values, contexts with predicates, elements the reader records elsewhere):",
        f"# python3 -m aiguillage.testing.facturx_families {profile} --left",
        *declarations,
        "validate",
    ]
    out += family_blocks(families, _shapes(NAMES[profile]), None)
    terms = presence(path)
    if terms:
        out += [
            "",
            "  # Elements EN 16931 uses and the profile does not: the model term the reader fills from",
            "  # each (and from nothing else there) is there.",
        ]
    for item, term in sorted(terms, key=lambda t: t[0].rule):
        out += [
            "",
            f"  rule {item.rule} fatal",
            f'    message en "{item.context[len(_ROOT) + 1 :]}: Factur-X {NAMES[profile]} does not use this element here"',
            f'            fr "{item.context[len(_ROOT) + 1 :]} : Factur-X {NAMES[profile]} n\'utilise pas cet élément ici"',
            f"    assert {term} is missing",
        ]
    out += code_rules
    return "\n".join(out) + "\n"


def _parent(context: str) -> tuple[str, str]:
    """A context split at its last step outside predicates: (parent, last step)."""
    depth = 0
    for index in range(len(context) - 1, -1, -1):
        depth += {"]": 1, "[": -1}.get(context[index], 0)
        if context[index] == "/" and depth == 0:
            return context[:index], context[index + 1 :]
    return "", context


def insertions(path: str) -> tuple[Insertion, ...]:
    """The elements and attributes the artefact reports as not used, as mutations
    (aiguillage.testing.mutations) that add one where the artefact looks for it."""
    found = []
    for item in structure_asserts(path):
        if "marked as not used" not in item.message:
            continue
        attribute = _ATTRIBUTE.match(item.test)
        if attribute:
            found.append(Insertion(item.rule, item.context, (f"@{attribute.group(1)}",)))
            continue
        parent, last = _parent(item.context)
        if item.test == "true()" and parent and "[" not in last:
            found.append(Insertion(item.rule, parent, (last,)))
    return tuple(found)


def main(argv: list[str]) -> int:
    profile = argv[0]
    rest = [a for a in argv[1:] if a != "--left"]
    conformance = Path(rest[0] if rest else "../shared/conformance")
    if "--left" in argv:
        for item in left_over(str(stylesheet(profile, conformance))):
            sys.stdout.write(f"{item.rule} | {item.context} | {item.test} | {item.message}\n")
    else:
        sys.stdout.write(render(profile, conformance))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
