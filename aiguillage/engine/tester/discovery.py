"""Where case files are, and which ruleset each one tests.

Case files are YAML (or official `testSet` XML) inside a `tests/` folder;
the ruleset they test is the one beside that folder, so an analyst never
has to name it. Nothing further up the tree is taken: a case never silently
tests a ruleset that merely happens to sit in a parent folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiguillage.engine.conformance import VEFA_NS

CASE_SUFFIXES = (".yaml", ".yml")
_HEADER = re.compile(r'^\s*ruleset\s+"', re.MULTILINE)


def is_test_set(path: Path) -> bool:
    """An official (VEFA) test-set XML file, told by its root element without parsing it all."""
    if path.suffix.lower() != ".xml":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b"testSet" in head and VEFA_NS.encode() in head


def is_case_file(path: Path) -> bool:
    """A case file: YAML (or an official test set) inside a `tests` folder."""
    if not any(p.name == "tests" for p in path.parents):
        return False
    return path.suffix.lower() in CASE_SUFFIXES or is_test_set(path)


def find_case_files(paths: list[Path]) -> list[Path]:
    """Case files under the given folders (files given are taken as they are), sorted, once each."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_case_file(p)))
        elif path.exists():
            found.append(path)
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def ruleset_for(case_file: Path) -> Path | None:
    """The ruleset a case file tests by its place: the one ruleset file (a `.rules` file with a
    `ruleset "..."` header) in the folder that holds its `tests/` folder, or, for the standard
    layout, the ruleset named like that folder one level up (standard/en16931/tests →
    standard/en16931.rules). Nothing further up: a case never silently tests a stranger."""
    folder = case_file.resolve().parent
    tests = next((p for p in (folder, *folder.parents) if p.name == "tests"), None)
    home = tests.parent if tests is not None else folder
    rules = _rulesets_in(home)
    if len(rules) == 1:
        return rules[0]
    if rules:
        return None
    named = [p for p in _rulesets_in(home.parent) if p.stem == home.name]
    return named[0] if len(named) == 1 else None


def _rulesets_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.rules") if _HEADER.search(_head(p)))


def _head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(8192)
    except OSError:
        return ""
