"""The Factur-X artefacts' code-value asserts that are one model term each, as generated rules.

"Value of 'ram:X' is not allowed" tests a value (the element's text, or one of its
attributes) against a list of the profile's code database (`…_codedb.xml`):
`string-length($v)=0 or document('…_codedb.xml')/codedb/cl[@id=N]/enumeration[@value=$v]`.
Where every context of an assert's id is a path (no predicate) to an element the CII
reader reads, as written, into a model term outside repeating groups (a rule `for each`
occurrence costs every invoice time: measured, 5 to 10 % of an evaluation), the id becomes
a rule on those terms: `assert T is missing or T = "" or T in codelist L`, the value as
written (" 380" is no code), an empty one not judged. `value_term` finds the term by
reading a small document with and without the value, and checks the reader keeps every
code of the list as written (it translates some: a CII VAT point date code 5 is read as
UNTDID 2005's 3, so that assert is left); `_sole_source` that where the profile's XSD lets
an element on the path repeat the model still holds each occurrence's value (it keeps one
payment means type code, so EXTENDED's is left) and that no sibling element fills the term.
A list equal to an EN 16931 list (rulesets/codelists/*.json) is that list; the others are
written to rulesets/codelists/factur-x/ (`own_lists`, by rulesets/codelists/factur-x/build.py).
aiguillage.testing.facturx_families writes the rules into the profile's structure file.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from aiguillage.testing.facturx_families import (
    _PLAIN,
    _ROOT,
    Structure,
    _document,
    _paths,
    _shadowed,
    structure_asserts,
)
from aiguillage.testing.facturx_oracle import profile_of

_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_TEST = re.compile(
    r"^string-length\(\$(codeValue\d+)\)=0 or document\('([^']+)'\)/codedb/cl\[@id=(\d+)\]"
    r"/enumeration\[@value=\$\1\]$"
)
_CODELISTS = Path(__file__).resolve().parents[2] / "rulesets" / "codelists"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """One context of a code-value assert, as a model term and a code list."""

    rule: str
    term: str
    codelist: str
    #: Where the artefact reads the value: the element's path below the root, and `.` or `@name`.
    key: str
    select: str


@lru_cache(maxsize=8)
def _selects(path: str) -> dict[tuple[str, str], str]:
    """(rule context, variable name) -> the variable's select, for every template."""
    found = {}
    for template in etree.parse(path).getroot().iter(f"{_XSL}template"):
        rule = template.find(f"{_SVRL}fired-rule")
        if rule is None:
            continue
        context = " ".join(rule.get("context", "").split())
        for variable in template.iter(f"{_XSL}variable"):
            found[(context, variable.get("name", ""))] = variable.get("select", "")
    return found


@lru_cache(maxsize=64)
def codes(path: str, database: str, list_id: str) -> tuple[str, ...]:
    """The codes of one list of the code database beside the artefact."""
    root = etree.parse(str(Path(path).parent / database)).getroot()
    return tuple(e.get("value") for e in root.find(f"cl[@id='{list_id}']").iter("enumeration"))


def _value(dump: object, term: str) -> object:
    """The value at a dotted path with list indexes (`notes[1].subject_code`) of a model dump."""
    for part in term.split("."):
        name, _, index = part.partition("[")
        if not isinstance(dump, dict):
            return None
        dump = dump.get(name)
        if index:
            position = int(index.rstrip("]"))
            if not isinstance(dump, list) or len(dump) <= position:
                return None
            dump = dump[position]
    return dump


@lru_cache(maxsize=4096)
def value_term(key: str, select: str, values: tuple[str, ...]) -> str | None:
    """The model term (outside repeating groups) the reader fills, as written, with the value
    `select` (`.` or `@attribute`) of the element at `key`, or None."""
    from aiguillage.model.syntaxes import read_invoice

    def dump(xml: bytes) -> dict:
        return read_invoice(xml).model_dump(exclude_none=True, exclude={"syntax_facts"})

    steps = key.split("/")
    attribute = select[1:] if select.startswith("@") else None
    if select != "." and not (attribute and re.fullmatch(r"[A-Za-z]+", attribute)):
        return None
    without = _document(steps) if attribute else _document(steps[:-1])
    given = _document(steps, attribute=attribute)
    new = _paths(dump(given)) - _paths(dump(without))
    if len(new) != 1:
        return None
    (term,) = new
    if "[" in term or term.startswith(
        "provenance"
    ):  # a rule per occurrence costs (docs/facturx.md)
        return None
    for code in values:
        xml = _document(steps, attribute=attribute)
        if attribute:
            xml = xml.replace(f'{attribute}="X"'.encode(), f'{attribute}="{code}"'.encode(), 1)
        else:
            xml = xml.replace(b">1<", f">{code}<".encode(), 1)
        if _value(dump(xml), term) != code:
            return None
    return term


@lru_cache(maxsize=1)
def _en16931_lists() -> dict[frozenset[str], str]:
    found = {}
    for file in sorted(_CODELISTS.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        found.setdefault(frozenset(data["values"]), data["name"])
    return found


def list_name(path: str, list_id: str, values: tuple[str, ...]) -> str:
    """An EN 16931 list with the same codes, or the profile's own (rulesets/codelists/factur-x)."""
    same = _en16931_lists().get(frozenset(values))
    return same or f"FX-{(profile_of(Path(path)) or '').upper()}-{list_id}"


@lru_cache(maxsize=8)
def _plain_contexts(path: str) -> frozenset[str]:
    """Every context of the artefact given by a plain path, below the root."""
    return frozenset(
        i.context[len(_ROOT) + 1 :] for i in structure_asserts(path) if _PLAIN.match(i.context)
    )


_XS = "{http://www.w3.org/2001/XMLSchema}"


@lru_cache(maxsize=8)
def _schema(profile: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The profile's XSD (in the factur-x package) as complex type -> child element -> (type,
    maxOccurs); a type is named by its local name and its namespace's file, so names do not mix."""
    import facturx

    folder = Path(facturx.__file__).parent / "xsd_and_schematron" / f"facturx-{profile}"
    types: dict[str, dict[str, tuple[str, str]]] = {}
    for file in folder.glob("*.xsd"):
        root = etree.parse(str(file)).getroot()
        namespace = root.get("targetNamespace", "")
        for complex_type in root.iter(f"{_XS}complexType"):
            children = {}
            for element in complex_type.iter(f"{_XS}element"):
                prefix, _, local = (element.get("type") or "").rpartition(":")
                children[element.get("name", "")] = (
                    f"{{{element.nsmap.get(prefix, namespace)}}}{local}",
                    element.get("maxOccurs", "1"),
                )
            types[f"{{{namespace}}}{complex_type.get('name')}"] = children
        for element in root.findall(f"{_XS}element"):
            prefix, _, local = (element.get("type") or "").rpartition(":")
            types.setdefault("", {})[element.get("name", "")] = (
                f"{{{element.nsmap.get(prefix, namespace)}}}{local}",
                "1",
            )
    return types


def _repeating(profile: str, key: str) -> list[int] | None:
    """The depths (1 for the root's child) of the elements on the path the profile's XSD lets
    repeat, or None when the XSD does not know the path."""
    types = _schema(profile)
    current = types.get("", {}).get("CrossIndustryInvoice", ("", ""))[0]
    found = []
    for depth, step in enumerate(key.split("/"), start=1):
        child = types.get(current, {}).get(step.split(":")[-1])
        if child is None:
            return None
        if child[1] != "1":
            found.append(depth)
        current = child[0]
    return found


def _keeps_every(key: str, select: str, term: str, depth: int, code: str) -> bool:
    """Whether the reader keeps the value of each occurrence when the element at `depth` on the
    path is given twice (one with a code, the other with "QQ", in both orders), in a list of
    the term."""
    from aiguillage.model.syntaxes import read_invoice

    steps = key.split("/")
    attribute = select[1:] if select.startswith("@") else None
    xml = _document(steps, attribute=attribute, twice_from=depth - 1).decode()
    old = f'{attribute}="X"' if attribute else ">1<"
    pattern = re.escape(term).replace(r"\[0\]", r"\[\d+\]")
    marked = xml.replace(old, "\x01", 1).replace(old, "\x02", 1)  # the two places, in order
    for values in ((code, "QQ"), ("QQ", code)):
        new = [f'{attribute}="{v}"' if attribute else f">{v}<" for v in values]
        text = marked.replace("\x01", new[0]).replace("\x02", new[1])
        dump = read_invoice(text.encode()).model_dump(exclude_none=True, exclude={"syntax_facts"})
        if not any(re.fullmatch(pattern, p) and _value(dump, p) == "QQ" for p in _paths(dump)):
            return False
    return True


def _sole_source(path: str, key: str, select: str, term: str, codes_of: str) -> bool:
    """Whether the term holds the only value of its kind in a document: the profile's XSD allows
    every element on the key's path once (a model term holds one value; a group that may repeat
    would hide the others), and no sibling element the artefact knows fills the term."""
    steps = key.split("/")
    repeating = _repeating(profile_of(Path(path)) or "", key)
    if repeating is None or any(
        not _keeps_every(key, select, term, depth, codes_of) for depth in repeating
    ):
        return False
    parent = "/".join(steps[:-1])
    for other in _plain_contexts(path):
        if (
            other != key
            and other.rsplit("/", 1)[0] == parent
            and value_term(other, select, ()) == term
        ):
            return False
    return True


def code_checks(path: str) -> tuple[dict[str, list[CodeCheck]], list[Structure]]:
    """The code-value ids written as rules (id -> its checks), and those left."""
    shadowed = _shadowed(path)
    selects = _selects(path)
    found: dict[str, list[CodeCheck]] = defaultdict(list)
    left: set[str] = set()
    items = [i for i in structure_asserts(path) if "is not allowed" in i.message]
    for item in items:
        test = _TEST.match(item.test)
        check = None
        if test and _PLAIN.match(item.context) and (item.mode, item.context) not in shadowed:
            variable, database, list_id = test.groups()
            values = codes(path, database, list_id)
            key = item.context[len(_ROOT) + 1 :]
            select = selects.get((item.context, variable), "")
            term = value_term(key, select, values)
            if term and values and _sole_source(path, key, select, term, values[0]):
                check = CodeCheck(item.rule, term, list_name(path, list_id, values), key, select)
        if check is None:
            left.add(item.rule)
        else:
            found[item.rule].append(check)
    written = {rule: checks for rule, checks in found.items() if rule not in left}
    return written, [i for i in items if i.rule in left]


def own_lists(path: str) -> dict[str, tuple[str, ...]]:
    """The profile's lists the rules use that are no EN 16931 list: name -> codes."""
    found = {}
    written, _ = code_checks(path)
    for item in structure_asserts(path):
        test = _TEST.match(item.test)
        if item.rule not in written or not test:
            continue
        _, database, list_id = test.groups()
        values = codes(path, database, list_id)
        name = list_name(path, list_id, values)
        if name.startswith("FX-"):
            found[name] = values
    return found


def render_rules(path: str, profile_name: str) -> tuple[list[str], list[str]]:
    """The `codelist` declarations and the rules of the written code-value ids."""
    written, _ = code_checks(path)
    if not written:
        return [], []
    own = sorted(
        {c.codelist for checks in written.values() for c in checks if c.codelist.startswith("FX-")}
    )
    out = [
        "",
        "  # Code values: each as written, an empty one not judged (aiguillage.testing.facturx_codes).",
    ]
    for rule, checks in sorted(written.items()):
        terms = sorted({(c.term, c.codelist) for c in checks})
        names = ", ".join(t for t, _ in terms)
        out += [
            "",
            f"  rule {rule} fatal",
            f'    message en "A code in {names} is not one Factur-X {profile_name} allows"',
            f'            fr "Un code de {names} n\'est pas admis en Factur-X {profile_name}"',
        ]
        conditions = [f'({t} is missing or {t} = "" or {t} in codelist {c})' for t, c in terms]
        out.append("    assert " + conditions[0])
        out += [f"       and {c}" for c in conditions[1:]]
    return [f'codelist {name} from "factur-x/{name}.json"' for name in own], out
