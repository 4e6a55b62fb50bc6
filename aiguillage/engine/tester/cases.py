"""Test cases of a ruleset: what they say, read from YAML (or an official test set).

A case is one invoice (a file, or a base invoice plus a patch of fields),
optionally other reference data and an evaluation date, and what the
ruleset must conclude (`specs.py`). Case files live in a `tests/` folder
beside their ruleset (`discovery.py`); the ruleset is the one in the folder
above unless the file names another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aiguillage.engine.conformance import ConformanceTest, default_ruleset, load_test_set
from aiguillage.engine.tester.discovery import is_test_set, ruleset_for
from aiguillage.engine.tester.specs import Expectations, check_keys, line_of, parse_expectations
from aiguillage.engine.tester.yamlio import CaseFileError, load_yaml

_CASE_KEYS = ("name", "description", "ruleset", "invoice", "base", "patch", "today", "lang", "tables", "expect")
_DEFAULT_KEYS = ("ruleset", "invoice", "base", "patch", "today", "lang", "tables")


@dataclass
class Case:
    """One test case of a ruleset."""

    name: str
    file: Path
    line: int
    #: Ruleset name or .rules path; None when the file's folder says nothing and the case neither.
    ruleset: str | None
    expect: Expectations
    invoice: Path | None = None
    base: Path | None = None
    patch: dict[str, Any] = field(default_factory=dict)
    today: date | None = None
    lang: str = "en"
    #: Table name → rows (list of objects) or a file with them, replacing the ruleset's table.
    tables: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: For a case that is a test of an official test set: the test.
    vefa: ConformanceTest | None = None

    def node_id(self, root: Path | None = None) -> str:
        """`rulesets/customers/acme/tests/po.yaml::PO looked up`: how reports and pytest name it."""
        return f"{display_path(self.file, root)}::{self.name}"


def display_path(path: Path, root: Path | None = None) -> str:
    """The path relative to `root` (default: the working folder) when it is below it."""
    base = (root or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return str(path)


def load_cases(path: Path) -> list[Case]:
    """Every case of one file (YAML, or an official test set: one case per test)."""
    if is_test_set(path):
        return _test_set_cases(path)
    data = load_yaml(path)
    if isinstance(data, list):
        defaults: dict[str, Any] = {}
        items = data
    elif isinstance(data, dict) and "cases" in data:
        check_keys(path, data, (*_DEFAULT_KEYS, "cases"), "a case file")
        defaults = {k: v for k, v in data.items() if k != "cases"}
        items = data["cases"]
        if not isinstance(items, list):
            raise CaseFileError(f"{path}:{line_of(data)}: 'cases' must be a list of cases")
    elif isinstance(data, dict):
        defaults, items = {}, [data]
    else:
        raise CaseFileError(f"{path}: a case file holds a case, a list of cases, or 'cases:' with a list")
    cases: list[Case] = []
    names: dict[str, int] = {}
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise CaseFileError(f"{path}: case {number} must be a mapping (name:, invoice:, expect:, ...)")
        merged = {**defaults, **item}
        for key in ("patch", "tables"):
            if isinstance(defaults.get(key), dict) and isinstance(item.get(key), dict):
                merged[key] = {**defaults[key], **item[key]}
        case = _case(path, merged, line_of(item), number)
        if case.name in names:
            raise CaseFileError(f"{path}:{case.line}: two cases are named {case.name!r} (first on line {names[case.name]})")
        names[case.name] = case.line
        cases.append(case)
    return cases


def _test_set_cases(path: Path) -> list[Case]:
    own = ruleset_for(path)
    cases = []
    for test in load_test_set(path):
        label = test.description or ", ".join(f"{r} {o}" for r, o in test.expectations.items())
        name = f"test {test.number}" + (f": {label}" if label else "")
        ruleset = str(own) if own is not None else default_ruleset(test.configuration)
        cases.append(Case(name=name[:120], file=path, line=test.line or 0, ruleset=ruleset, expect=Expectations(), vefa=test))
    return cases


def _case(path: Path, data: dict[str, Any], line: int, number: int) -> Case:
    where = f"{path}:{line}"
    check_keys(path, data, _CASE_KEYS, "a case", line)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CaseFileError(f"{where}: case {number} has no name (name: \"what it shows\")")
    if "::" in name:
        raise CaseFileError(f"{where}: a case name cannot contain '::'")
    invoice, base = data.get("invoice"), data.get("base")
    if invoice is not None and base is not None:
        raise CaseFileError(f"{where}: give either invoice: (a file as it is) or base: with patch:, not both")
    if invoice is None and base is None:
        raise CaseFileError(f"{where}: case {name!r} has no invoice (invoice: FILE, or base: FILE with patch:)")
    patch = data.get("patch") or {}
    if not isinstance(patch, dict):
        raise CaseFileError(f"{where}: patch: must map field paths to values (order_reference: \"PO-123456\")")
    if patch and base is None:
        raise CaseFileError(f"{where}: patch: needs base: (the invoice to patch); invoice: is used as it is")
    today = data.get("today")
    if today is not None and not isinstance(today, date):
        try:
            today = date.fromisoformat(str(today))
        except ValueError:
            raise CaseFileError(f"{where}: today: must be a date like 2026-11-27, got {today!r}") from None
    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        raise CaseFileError(f"{where}: tables: must map a table name to its rows (a list) or to a file")
    ruleset = data.get("ruleset")
    if ruleset is not None:
        ruleset = str(ruleset)
        if ruleset.endswith(".rules"):
            ruleset = str((path.parent / ruleset).resolve())
    else:
        found = ruleset_for(path)
        ruleset = str(found) if found is not None else None
    expect = parse_expectations(path, data.get("expect"), line)
    return Case(
        name=name.strip(),
        file=path,
        line=line,
        ruleset=ruleset,
        expect=expect,
        invoice=(path.parent / str(invoice)) if invoice is not None else None,
        base=(path.parent / str(base)) if base is not None else None,
        patch=dict(patch),
        today=today,
        lang=str(data.get("lang") or "en"),
        tables=dict(tables),
        description=str(data.get("description") or ""),
    )
