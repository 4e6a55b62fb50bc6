"""Deterministic mutations of valid invoices, for differential tests against the official artefacts.

A variant is one valid document changed in one place: an element deleted
or duplicated, an amount, code, date or attribute changed (in CII also a
date's `format`), an element EN 16931 does not use added, or two siblings
swapped. The same (document, seed, index) always gives the same variant, so
a difference found once can be found again and named in the known-cases
file.

Elements "not used by EN 16931" are taken from the official artefact itself:
its UBL-CR / CII-SR / CII-DT asserts of the form `not(path)` in a context,
so every family rule can be reached by some variant.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from lxml import etree

XSL = "{http://www.w3.org/1999/XSL/Transform}"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"

KINDS = ("delete", "duplicate", "amount", "code", "date", "attribute", "unused", "swap")

_AMOUNT_VALUES = ("+0.01", "-0.01", "*2", "0", "neg", "3dp", "not-a-number", "+1", "+100")
# fmt: off
_CODES = (
    "S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B", "XX",
    "380", "381", "384", "389", "751", "326", "999",
    "EUR", "USD", "SEK", "XXX", "DE", "FR", "NO", "GB", "ZZ",
    "30", "31", "58", "59", "48", "1", "ZZZ",
    "C62", "H87", "EA", "ZZX",
    "VAT", "VA", "FC", "GST", "", " ",
)
# fmt: on
_ATTRIBUTE_VALUES = {
    "currencyID": ("EUR", "USD", "SEK", "XYZ", ""),
    "schemeID": ("0088", "0002", "0204", "VA", "VAT", "FC", "XX", "SEPA", ""),
    "unitCode": ("C62", "H87", "XYZ", ""),
    "mimeCode": ("application/pdf", "text/plain", "image/png", ""),
    "format": ("102", "203", "610", "2", ""),
    "listID": ("STI", "TST", "XX", ""),
    "filename": ("a.pdf", ""),
}
_UBL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CII_DATE = re.compile(r"^\d{8}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_CODE_NAMES = re.compile(r"(Code|CountryID|^ID)$")


@dataclass(frozen=True, slots=True)
class Variant:
    """One mutated document and what was done to it."""

    source: str
    index: int
    kind: str
    description: str
    xml: bytes

    @property
    def name(self) -> str:
        return f"{self.source}#{self.index}:{self.kind}"


@dataclass(frozen=True, slots=True)
class Insertion:
    """An element or attribute EN 16931 does not use, and where the artefact looks for it."""

    rule: str
    context: str
    path: tuple[str, ...]
    flag: str = "fatal"


@lru_cache(maxsize=4)
def unused_insertions(stylesheet: str) -> tuple[Insertion, ...]:
    """The `not(a/b/c)` asserts of an official stylesheet's syntax families, as insertions."""
    tree = etree.parse(stylesheet)
    found: list[Insertion] = []
    step = r"@?[A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)?"
    simple = re.compile(rf"^not\(((?:\((?:{step})(?:\|{step})+\)|{step})(?:/{step})*)\)$")
    for failed in tree.iter(f"{SVRL}failed-assert"):
        rule = failed.find(f"{XSL}attribute").text or ""
        if not rule.startswith(("UBL-CR", "CII-SR", "CII-DT")):
            continue
        match = simple.match((failed.get("test") or "").strip())
        if not match:
            continue
        template = next(a for a in failed.iterancestors() if a.tag == f"{XSL}template")
        flag = next(
            (a.text for a in failed.iter(f"{XSL}attribute") if a.get("name") == "flag"), "fatal"
        )
        context = " ".join(template.get("match", "").split())
        head, _, rest = (
            match.group(1).partition(")/") if match.group(1).startswith("(") else ("", "", "")
        )
        paths = [f"{a}/{rest}" for a in head[1:].split("|")] if head else [match.group(1)]
        for path in paths:
            found.append(Insertion(rule, context, tuple(path.split("/")), flag or "fatal"))
    return tuple(found)


class Mutator:
    """Makes variants of valid documents of one syntax (`ubl` or `cii`)."""

    def __init__(
        self, syntax: str, stylesheet: Path | None = None, insertions: tuple[Insertion, ...] = ()
    ) -> None:
        """`stylesheet`: an EN 16931 artefact whose "not used" asserts give the insertions;
        `insertions`: others besides (a Factur-X profile's, aiguillage.testing.facturx_families)."""
        self.syntax = syntax
        self.insertions = (unused_insertions(str(stylesheet)) if stylesheet else ()) + insertions

    def variants(
        self, documents: Iterable[tuple[str, bytes]], count: int, seed: int = 0
    ) -> Iterator[Variant]:
        """`count` variants spread round-robin over the documents, reproducible from `seed`."""
        parsed = [(name, etree.fromstring(xml)) for name, xml in documents]
        if not parsed:
            return
        for index in range(count):
            name, root = parsed[index % len(parsed)]
            variant = self.mutate(name, root, index, seed)
            if variant is not None:
                yield variant

    def mutate(
        self, name: str, original: etree._Element, index: int, seed: int = 0
    ) -> Variant | None:
        """Variant number `index` of one document (None if no mutation applies, which is rare)."""
        rng = random.Random(f"{seed}:{name}:{index}")
        kinds = list(KINDS)
        rng.shuffle(kinds)
        first = KINDS[index % len(KINDS)]
        kinds.remove(first)
        for kind in (first, *kinds):
            root = copy.deepcopy(original)
            description = getattr(self, f"_{kind}")(root, rng)
            if description is not None:
                xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
                return Variant(name, index, kind, description, xml)
        return None

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _elements(root: etree._Element) -> list[etree._Element]:
        return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]

    @staticmethod
    def _where(element: etree._Element) -> str:
        return f"{etree.QName(element).localname} (line {element.sourceline})"

    @staticmethod
    def _leaves(root: etree._Element) -> list[etree._Element]:
        return [
            e
            for e in root.iter()
            if isinstance(e.tag, str) and len(e) == 0 and (e.text or "").strip()
        ]

    # ----------------------------------------------------------------- mutations

    def _delete(self, root: etree._Element, rng: random.Random) -> str | None:
        elements = self._elements(root)
        # Leaves more often than groups: most rules look at one term.
        leaves = [e for e in elements if len(e) == 0]
        pool = leaves if leaves and rng.random() < 0.7 else elements
        element = rng.choice(pool)
        element.getparent().remove(element)
        return f"delete {self._where(element)}"

    def _duplicate(self, root: etree._Element, rng: random.Random) -> str | None:
        element = rng.choice(self._elements(root))
        element.addnext(copy.deepcopy(element))
        return f"duplicate {self._where(element)}"

    def _amount(self, root: etree._Element, rng: random.Random) -> str | None:
        numbers = [
            e
            for e in self._leaves(root)
            if _NUMBER.match(e.text.strip())
            and not _CII_DATE.match(e.text.strip())
            and not etree.QName(e).localname.endswith(("ID", "Code"))
        ]
        if not numbers:
            return None
        element = rng.choice(numbers)
        old = element.text.strip()
        value = float(old)  # only to pick a new text; amounts are compared as text by both sides
        how = rng.choice(_AMOUNT_VALUES)
        decimals = len(old.partition(".")[2])
        new = {
            "+0.01": f"{value + 0.01:.{max(decimals, 2)}f}",
            "-0.01": f"{value - 0.01:.{max(decimals, 2)}f}",
            "+1": f"{value + 1:.{decimals}f}",
            "+100": f"{value + 100:.{decimals}f}",
            "*2": f"{value * 2:.{decimals}f}",
            "0": "0" if decimals == 0 else "0." + "0" * decimals,
            "neg": old[1:] if old.startswith("-") else "-" + old,
            "3dp": f"{value:.3f}",
            "not-a-number": "12,5",
        }[how]
        element.text = new
        return f"amount {self._where(element)}: {old} -> {new}"

    def _code(self, root: etree._Element, rng: random.Random) -> str | None:
        codes = [
            e
            for e in self._leaves(root)
            if _CODE_NAMES.search(etree.QName(e).localname) and len(e.text.strip()) <= 6
        ]
        if not codes:
            return None
        element = rng.choice(codes)
        old = element.text
        element.text = rng.choice([c for c in _CODES if c != old])
        return f"code {self._where(element)}: {old!r} -> {element.text!r}"

    def _date(self, root: etree._Element, rng: random.Random) -> str | None:
        pattern = _UBL_DATE if self.syntax == "ubl" else _CII_DATE
        dates = [e for e in self._leaves(root) if pattern.match(e.text.strip())]
        if not dates:
            return None
        element = rng.choice(dates)
        if self.syntax == "cii" and rng.random() < 0.35:
            return self._date_format(element, rng)
        old = element.text.strip()
        try:
            day = (
                date.fromisoformat(old)
                if self.syntax == "ubl"
                else date(int(old[:4]), int(old[4:6]), int(old[6:]))
            )
        except ValueError:
            day = date(2020, 2, 28)
        if self.syntax == "ubl":
            choices = [
                (day + timedelta(days=rng.choice((-400, -31, -1, 1, 31, 400)))).isoformat(),
                old[:8] + "30" if old[5:7] == "02" else old[:8] + "32",
                old.replace("-", ""),
                old + "T10:00:00",
                "",
            ]
        else:
            choices = [
                (day + timedelta(days=rng.choice((-400, -31, -1, 1, 31, 400)))).strftime("%Y%m%d"),
                old[:6] + "32",
                day.isoformat(),
                old[:6],
                "",
            ]
        element.text = rng.choice(choices)
        return f"date {self._where(element)}: {old!r} -> {element.text!r}"

    def _date_format(self, element: etree._Element, rng: random.Random) -> str:
        old = element.get("format")
        if rng.random() < 0.4:
            element.attrib.pop("format", None)
            return f"date format {self._where(element)}: {old!r} removed"
        element.set("format", rng.choice(("203", "610", "2", "")))
        return f"date format {self._where(element)}: {old!r} -> {element.get('format')!r}"

    def _attribute(self, root: etree._Element, rng: random.Random) -> str | None:
        holders = [e for e in self._elements(root) if e.attrib]
        if not holders:
            return None
        element = rng.choice(holders)
        name = rng.choice(sorted(element.attrib))
        old = element.get(name)
        if rng.random() < 0.3:
            del element.attrib[name]
            return f"attribute {self._where(element)} @{name}={old!r} removed"
        pool = [v for v in _ATTRIBUTE_VALUES.get(name, ("X", "")) if v != old]
        element.set(name, rng.choice(pool))
        return f"attribute {self._where(element)} @{name}: {old!r} -> {element.get(name)!r}"

    def _unused(self, root: etree._Element, rng: random.Random) -> str | None:
        namespaces = {k: v for k, v in _NAMESPACES.items()}
        order = list(self.insertions)
        rng.shuffle(order)
        for insertion in order[:40]:
            try:
                contexts = root.xpath(_as_xpath1(insertion.context, root), namespaces=namespaces)
            except etree.XPathError:
                continue
            contexts = [c for c in contexts if isinstance(c, etree._Element)]
            if not contexts:
                continue
            target = rng.choice(contexts)
            *steps, last = insertion.path
            for step in steps:
                if step.startswith("@"):
                    break
                child = target.find(step, namespaces)
                if child is None:  # only the last step is added: one unused element per variant
                    break
                target = child
            else:
                if last.startswith("@"):
                    target.set(_clark(last[1:]) if ":" in last else last[1:], "X")
                else:
                    etree.SubElement(target, _clark(last)).text = "1"
                return f"unused {'/'.join(insertion.path)} in {self._where(target) if target is not root else 'root'} ({insertion.rule})"
        return None

    def _swap(self, root: etree._Element, rng: random.Random) -> str | None:
        parents = [
            e
            for e in root.iter()
            if isinstance(e.tag, str)
            and any(
                a.tag != b.tag for a, b in zip(e[:-1], e[1:], strict=True) if isinstance(a.tag, str)
            )
        ]
        if not parents:
            return None
        parent = rng.choice(parents)
        pairs = [
            (a, b)
            for a, b in zip(parent[:-1], parent[1:], strict=True)
            if isinstance(a.tag, str) and isinstance(b.tag, str) and a.tag != b.tag
        ]
        if not pairs:
            return None
        first, second = rng.choice(pairs)
        first.addprevious(second)
        return f"swap {self._where(first)} and {etree.QName(second).localname}"


_NAMESPACES = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


def _clark(name: str) -> str:
    prefix, _, local = name.partition(":")
    return f"{{{_NAMESPACES[prefix]}}}{local}"


def _as_xpath1(context: str, root: etree._Element) -> str:
    """The template's match pattern as an XPath 1 selection from the root."""
    parts = [p.strip() for p in context.split("|")]
    return " | ".join(p if p.startswith("/") else f"//{p}" for p in parts)
