"""Write the UBL-CR / CII-SR / CII-DT rule families from an official EN 16931 stylesheet.

`python3 -m aiguillage.testing.family_rules XSLT SYNTAX > FILE.rules` turns the
syntax asserts that are look-ups of one reader fact into members of families:

* `not(a/b/c)`, an element EN 16931 does not use, keyed by the element path the
  readers record in an `unused_element` fact (from below the root, as
  `cac:AccountingSupplierParty/cac:Party/cbc:WebsiteURI`); a context or a test
  path given as `//x` becomes a key `//x/…` that matches the end of a path, and
  a context `//ram:*[ends-with(name(), 'TradeTax')]` one key per such element
  name the stylesheet knows;
* `not(a/@b)`, an attribute, keyed by `path/@attribute` over the readers'
  `unused_element` facts that name an attribute;
* `count(a/b) <= 1`, keyed by the path of the readers' `repeated` facts.

`not(x) or …` asserts whose condition the reader already applies (it records
the fact only where the condition fails) become members too (`_READER_HOLDS`).
Asserts of other forms (values, `= 1` counts, combinations) are hand-written
rules (`syntax-values.rules`); `hand_written()` lists them.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from aiguillage.testing.mutations import SVRL, XSL, unused_insertions

_ROOTS = ("/ubl:Invoice", "/cn:CreditNote", "/rsm:CrossIndustryInvoice")
_SYNTAX = {"ubl": ("ubl_irregular", "UBL"), "cii": ("cii_irregular", "CII")}
_FAMILIES = ("UBL-CR", "CII-SR", "CII-DT")
#: Family asserts written elsewhere by hand (cii-binding.rules), left out here.
_WRITTEN_ELSEWHERE = frozenset({"CII-DT-037", "CII-DT-097", "CII-SR-439", "CII-SR-441"})

_STEP = r"@?[A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)?"
_PATH = rf"(?://)?{_STEP}(?:/{_STEP})*"
_NOT = re.compile(rf"^not\s*\(\s*({_PATH})\s*\)(.*)$")
_COUNT = re.compile(rf"^\(?\s*count\(({_PATH})\)\s*<=\s*1\s*\)?$")
_WILDCARD = re.compile(
    r"^//(?:ram:)?\*\[ends-with\(name\(\), '(\w+)'\)(?: and not \(self::(ram:\w+)\))?\]$"
)

#: Conditions after `not(x) or` that the readers apply themselves: they record the fact
#: only where the condition fails (in a credit note cbc:PaymentDueDate is BT-9; an
#: AdditionalReferencedDocument's children are judged by its TypeCode).
_READER_HOLDS = re.compile(
    r"^or\s+(\.\./cn:CreditNote|\(self::ram:AdditionalReferencedDocument( and ram:TypeCode='\d+')?\)"
    r"( and \(ram:TypeCode='50' or ram:TypeCode='130' or ram:TypeCode='916'\))?)$"
)
#: `not(x) or self::NAME`: the element NAME of a wildcard context may hold x.
_SELF = re.compile(r"^or\s+self::(ram:\w+)$")
#: `not(x) or (ancestor::ram:ApplicableHeaderTradeSettlement)`: only outside the header,
#: i.e. in a line's VAT data (the readers report nothing inside unused subtrees).
_NOT_HEADER = re.compile(r"^or\s+\(ancestor::ram:ApplicableHeaderTradeSettlement\)$")
#: A UBL AdditionalDocumentReference judged by its DocumentTypeCode: the UBL reader records
#: its cac:Attachment, cbc:DocumentDescription and cbc:ID/@schemeID as unused only where
#: the type code says so (UBL-CR-665, 666, 673).
_UBL_DOCUMENT_TYPE = re.compile(r"cac:AdditionalDocumentReference\[[^\]]*DocumentTypeCode[^\]]*\]")
_LINE_TAXES = (
    "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax",
    "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:CategoryTradeTax",
)


@dataclass(frozen=True, slots=True)
class Assert:
    """One syntax-family assert of the stylesheet."""

    rule: str
    flag: str
    context: str
    test: str
    mode: str = ""
    priority: float = 0


@lru_cache(maxsize=4)
def asserts(stylesheet: str) -> tuple[Assert, ...]:
    tree = etree.parse(stylesheet)
    found = []
    for failed in tree.iter(f"{SVRL}failed-assert"):
        rule = failed.find(f"{XSL}attribute").text or ""
        if not rule.startswith(_FAMILIES) or rule in _WRITTEN_ELSEWHERE:
            continue
        template = next(a for a in failed.iterancestors() if a.tag == f"{XSL}template")
        flag = (
            next(
                (a.text for a in failed.iter(f"{XSL}attribute") if a.get("name") == "flag"), "fatal"
            )
            or "fatal"
        )
        context = " ".join(template.get("match", "").split())
        test = " ".join((failed.get("test") or "").split())
        found.append(
            Assert(
                rule,
                flag,
                context,
                test,
                template.get("mode", ""),
                float(template.get("priority", "0")),
            )
        )
    return tuple(found)


@lru_cache(maxsize=4)
def templates(stylesheet: str) -> tuple[tuple[str, float, str], ...]:
    """(mode, priority, match) of every template: XSLT judges a node by one template per
    mode, the one of highest priority, so a context another template wins is never judged."""
    return tuple(
        (t.get("mode", ""), float(t.get("priority")), " ".join(t.get("match", "").split()))
        for t in etree.parse(stylesheet).getroot().iter(f"{XSL}template")
        if t.get("priority") and t.get("match")
    )


def _last(branch: str) -> str:
    return branch.rsplit("/", 1)[-1]


def precedence(item: Assert, stylesheet: str) -> tuple[set[str], list[str]]:
    """What templates of higher priority take from an assert's context: its branches that a
    `//name` template wins (never judged), and the root-relative paths a wildcard context
    loses to templates given by path (to leave out of its look-up)."""
    dead: set[str] = set()
    lost: list[str] = []
    wildcard = _WILDCARD.match(item.context)
    for mode, priority, match in templates(stylesheet):
        if mode != item.mode or priority <= item.priority:
            continue
        for branch in (b.strip() for b in match.split(" | ")):
            if branch.startswith("//") and "[" not in branch and "/" not in branch[2:]:
                dead |= {
                    b
                    for b in item.context.split(" | ")
                    if b.startswith(_ROOTS) and _last(b) == branch[2:]
                }
            elif (
                wildcard and branch.startswith(_ROOTS) and _last(branch).endswith(wildcard.group(1))
            ):
                lost += contexts(branch, None)
    return dead, lost


@lru_cache(maxsize=4)
def element_names(stylesheet: str) -> tuple[str, ...]:
    """Every `ram:` element name the stylesheet mentions (for wildcard contexts)."""
    with open(stylesheet, encoding="utf-8") as handle:
        return tuple(sorted(set(re.findall(r"\bram:[A-Za-z]+\b", handle.read()))))


def contexts(context: str, stylesheet: str | None, left_out: str | None = None) -> list[str]:
    """Key prefixes of a context: "" for the root, a path below it, `//x` for any x
    (wildcard contexts only with the `stylesheet` whose element names they expand to)."""
    found = []
    for branch in (b.strip() for b in context.split(" | ")):
        wildcard = _WILDCARD.match(branch)
        if wildcard and stylesheet:
            ending, excluded = wildcard.groups()
            found += [
                f"//{name}"
                for name in element_names(stylesheet)
                if name.endswith(ending) and name not in (excluded, left_out)
            ]
            continue
        if "[" in branch or "*" in branch:
            continue
        if branch.startswith("//"):
            found.append(branch)
            continue
        for root in _ROOTS:
            if branch == root:
                found.append("")
                break
            if branch.startswith(root + "/"):
                found.append(branch[len(root) + 1 :])
                break
    return list(dict.fromkeys(found))


def join(prefix: str, path: str) -> str:
    """A key: the context prefix and the test path (which may itself start with `//`)."""
    if path.startswith("//"):
        return path
    return "/".join(p for p in (prefix, path) if p)


def keys(context: str, path: tuple[str, ...]) -> list[str]:
    """The fact paths one `not(element)` assert is about, one per branch of its context."""
    return [join(prefix, "/".join(path)) for prefix in contexts(context, None)]


Members = dict[tuple[str, str, str, tuple[str, ...]], dict[str, list[str]]]


def _add(
    families: Members, kind: str, item: Assert, found: list[str], lost: tuple[str, ...] = ()
) -> None:
    family = item.rule.rsplit("-", 1)[0]
    members = families[(kind, family, "warning" if item.flag == "warning" else "fatal", lost)]
    keys_of = members.setdefault(item.rule, [])
    keys_of.extend(k for k in found if k not in keys_of)


def collect(stylesheet: str) -> tuple[Members, list[Assert], list[str]]:
    """The family members by (kind, family, severity, paths left out), the asserts left to
    hand-written rules, and the rules the artefact never reaches (`precedence`)."""
    families: Members = defaultdict(dict)
    done: set[str] = set()
    unreached: list[str] = []
    for insertion in unused_insertions(stylesheet):
        if any(step.startswith("@") for step in insertion.path):
            continue
        found = keys(insertion.context, insertion.path)
        if found:
            _add(
                families,
                "element",
                Assert(insertion.rule, insertion.flag, insertion.context, ""),
                found,
            )
            done.add(insertion.rule)
    left = []
    for item in asserts(stylesheet):
        if item.rule in done:
            continue
        kind, found, lost = _member(item, stylesheet)
        if kind == "unreached":
            unreached.append(item.rule)
        elif found:
            _add(families, kind, item, found, lost)
        else:
            left.append(item)
    return families, left, unreached


def _member(item: Assert, stylesheet: str) -> tuple[str, list[str], tuple[str, ...]]:
    """The kind of look-up, the keys, and the paths to leave out (`precedence`)."""
    count = _COUNT.match(item.test)
    if count:
        return (
            "count",
            [join(prefix, count.group(1)) for prefix in contexts(item.context, stylesheet)],
            (),
        )
    match = _NOT.match(_UBL_DOCUMENT_TYPE.sub("cac:AdditionalDocumentReference", item.test))
    if not match:
        return "", [], ()
    path, rest = match.group(1), match.group(2).strip()
    left_out = None
    prefixes: list[str] | None = None
    if rest:
        own = _SELF.match(rest)
        if own:
            left_out = own.group(1)
        elif _NOT_HEADER.match(rest):
            prefixes = [
                p
                for p in _LINE_TAXES
                if item.context.startswith("//ram:*[ends-with(name(), 'TradeTax')")
            ]
        elif not _READER_HOLDS.match(rest):
            return "", [], ()
    dead, lost = precedence(item, stylesheet)
    if prefixes is None:
        live = " | ".join(b for b in item.context.split(" | ") if b not in dead)
        if not live:
            return "unreached", [], ()
        prefixes = contexts(live, stylesheet, left_out)
    steps = path.split("/")
    if steps[-1].startswith("@"):
        element = "/".join(steps[:-1])
        return (
            "attribute",
            [
                f"{join(prefix, element) if element or prefix else ''}/{steps[-1]}"
                for prefix in prefixes
            ],
            tuple(join(p, element) for p in lost),
        )
    if lost:
        raise ValueError(f"{item.rule}: an element test in a context other templates take in part")
    return "element", [join(prefix, path) for prefix in prefixes], ()


_SHAPES = {
    "element": (
        "EN 16931 does not use this element in {name}",
        "EN 16931 n'utilise pas cet élément en {name}",
        'f.kind = "unused_element" and f.attribute is missing',
        "f.path",
    ),
    "attribute": (
        "EN 16931 does not use the attribute {{f.attribute}} here in {name}",
        "EN 16931 n'utilise pas l'attribut {{f.attribute}} ici en {name}",
        'f.kind = "unused_element" and f.attribute exists',
        'concat(f.path, "/@", f.attribute)',
    ),
    "count": (
        "this element is given more often than EN 16931 allows in {name}",
        "cet élément figure plus souvent que l'EN 16931 ne le permet en {name}",
        'f.kind = "repeated"',
        "f.path",
    ),
}


def hand_written(stylesheet: str) -> list[Assert]:
    """The family asserts no look-up expresses (written in syntax-values.rules)."""
    return collect(stylesheet)[1]


#: A kind of look-up's (English message, French message, fact filter, key expression).
Shapes = dict[str, tuple[str, str, str, str]]


def family_blocks(families: Members, shapes: Shapes, guard: str | None) -> list[str]:
    """The `family` rules of the members, one per (kind, family, severity, paths left out),
    elements first, then attributes, then counts (shared by every generated family file)."""
    out: list[str] = []
    order = {"element": 0, "attribute": 1, "count": 2}
    for (kind, family, severity, lost), members in sorted(
        families.items(), key=lambda i: (order[i[0][0]], i[0][1:])
    ):
        en, fr, where, key = shapes[kind]
        if lost:  # judged by a template of higher priority in the artefact
            where += " and f.path not in (" + ", ".join(f'"{p}"' for p in lost) + ")"
        out += [
            "",
            f"  family {family} {severity}",
            f'    message en "{{f.path}}: {en}"',
            f'            fr "{{f.path}} : {fr}"',
            f"    for each f in syntax_facts where {where}",
            *([f"    when {guard}"] if guard else []),
            f"    lookup {key} members",
        ]
        for rule, found in sorted(members.items()):
            out.append(f"      {rule} " + ", ".join(f'"{k}"' for k in found))
    return out


def render(stylesheet: str, syntax: str) -> str:
    guard, name = _SYNTAX[syntax]
    families, _, unreached = collect(stylesheet)
    out = [
        f"# {name} syntax rules of EN 16931 that are one look-up of a reader fact: rule families",
        "# generated from the official EN 16931 validation artefacts 1.3.16 by",
        "# aiguillage.testing.family_rules (do not edit by hand; regenerate). Elements and",
        "# attributes EN 16931 does not use (`unused_element` facts) and elements given more",
        "# often than it allows (`repeated` facts): one look-up per fact the reader records, so",
        "# a valid invoice pays nothing; each member is a rule of its own (disable, override,",
        "# explain, coverage). The other asserts of the families are in syntax-values.rules.",
        *(
            [
                "# codes.rules: any fact but a currencyID; an empty element alone concerns none of these rules",
                "let cii_irregular = cii_input and irregular_syntax",
                '  and (any f in syntax_facts satisfies f.kind != "attribute" and f.kind != "empty_element")',
                "",
            ]
            if syntax == "cii"
            else []
        ),
        *(
            [
                f"# Not written: {', '.join(unreached)}; the artefact never reaches their context (a",
                "# template of higher priority takes it), so they never fire there either.",
            ]
            if unreached
            else []
        ),
        "validate",
    ]
    shapes = {
        kind: (en.format(name=name), fr.format(name=name), where, key)
        for kind, (en, fr, where, key) in _SHAPES.items()
    }
    out += family_blocks(families, shapes, guard)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[2:3] == ["--left"]:
        for item in hand_written(sys.argv[1]):
            sys.stdout.write(f"{item.rule} {item.flag} | {item.context} | {item.test}\n")
    else:
        sys.stdout.write(render(sys.argv[1], sys.argv[2]))
