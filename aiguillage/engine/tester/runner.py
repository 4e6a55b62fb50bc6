"""Running test cases: read or patch the invoice, load the ruleset, evaluate, compare.

Every case is evaluated with explain on: a failure then shows the values
that decided it, and coverage knows, per rule, whether it fired. A case that
cannot run (its invoice is unreadable, its ruleset has errors, a patch names
no field) fails with the reason; it never stops the other cases.

Reference data given by a case (`tables:`) replaces a table of the ruleset:
the ruleset's folder is copied to a scratch folder with the case's rows
written in place of the table file, and loaded from there. The rows are thus
checked against the table's declared shape exactly like the real file, and
nothing shared (the compiled standard rulesets, the library's cache) changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiguillage.dsl import ast
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.program import spliced_items
from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import Library, library
from aiguillage.engine.tester import copies
from aiguillage.engine.tester.cases import Case
from aiguillage.engine.tester.expect import Problem, compare, compare_test_set
from aiguillage.engine.tester.patch import PatchError, apply_patch
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice_file, read_xml_root


@dataclass
class CaseResult:
    """The outcome of one case."""

    case: Case
    problems: list[Problem] = field(default_factory=list)
    #: Why the case could not run at all (None when it ran).
    error: str | None = None
    decision: Decision | None = None
    compiled: CompiledRuleset | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and not self.problems


class Runner:
    """Runs cases against one rulesets library; keeps read invoices and overridden rulesets for the run."""

    def __init__(self, lib: Library | None = None) -> None:
        self.library = lib or library()
        self._invoices: dict[tuple[Path, int, int], Invoice] = {}
        self._scratch: Path | None = None
        self._overridden: dict[str, Path] = {}

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the scratch folder of overridden rulesets."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
            self._overridden.clear()

    # ---- running

    def run(self, case: Case) -> CaseResult:
        """Run one case. Without `today:` the invoice's issue date is the evaluation date, so a
        case decides the same way whatever day it runs."""
        start = time.perf_counter()
        result = CaseResult(case)
        try:
            result.compiled = self.compiled(case)
            invoice = self.invoice(case)
        except _CaseError as exc:
            result.error = str(exc)
        else:
            today = case.today or invoice.issue_date or date.today()
            # Explained: the ruleset's own rules (its coverage); a case that fails is evaluated
            # again with every rule explained, for the report (an inherited rule may be the why).
            own = (result.compiled.name,)
            decision = evaluate(invoice, result.compiled, lang=case.lang, explain=True, explain_only=own, today=today)
            result.problems = self._problems(case, result.compiled, decision)
            if result.problems:
                decision = evaluate(invoice, result.compiled, lang=case.lang, explain=True, today=today)
            result.decision = decision
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def _problems(case: Case, compiled: CompiledRuleset, decision: Any) -> Any:
        if case.vefa is not None:
            return compare_test_set(decision, case.vefa)
        return compare(decision, case.expect, _rule_ids(compiled))

    def run_all(self, cases: list[Case]) -> list[CaseResult]:
        return [self.run(case) for case in cases]

    # ---- the invoice

    def invoice(self, case: Case) -> Invoice:
        if case.vefa is not None:
            try:
                return read_xml_root(case.vefa.document, f"{case.file}#{case.vefa.number}")
            except InvoiceReadError as exc:
                raise _CaseError(f"cannot read the test's document: {exc}") from None
        path = case.invoice or case.base
        assert path is not None
        invoice = self._read(path)
        if not case.patch:
            return invoice
        try:
            return apply_patch(invoice, case.patch)
        except PatchError as exc:
            raise _CaseError(f"patch: {exc}") from None

    def _read(self, path: Path) -> Invoice:
        try:
            st = path.stat()
        except OSError:
            raise _CaseError(f"invoice file not found: {path}") from None
        key = (path.resolve(), st.st_mtime_ns, st.st_size)
        cached = self._invoices.get(key)
        if cached is None:
            try:
                cached = self._invoices[key] = read_invoice_file(path)
            except InvoiceReadError as exc:
                raise _CaseError(f"cannot read the invoice: {exc}") from None
        return cached

    # ---- the ruleset

    def compiled(self, case: Case) -> CompiledRuleset:
        if case.ruleset is None:
            raise _CaseError("no ruleset for this case: put the file in a tests/ folder beside the ruleset, or say ruleset: NAME")
        try:
            if not case.tables:
                return self.library.compiled(case.ruleset)
            return self.library.compiled(self._with_tables(case))
        except RulesError as exc:
            raise _CaseError(f"the ruleset has errors:\n{exc.render()}") from None
        except LookupError as exc:
            raise _CaseError(str(exc.args[0]) if exc.args else str(exc)) from None

    def _with_tables(self, case: Case) -> Path:
        """A copy of the case's ruleset whose tables are the case's; the same copy for the same data."""
        assert case.ruleset is not None
        source = self.library.locate(case.ruleset)
        # Parsed, not checked: the copy is checked when compiled (the parsed files come from the cache).
        main, items = spliced_items(source)
        declared = {d.name: d for d in items if isinstance(d, ast.TableDecl)}
        files: dict[str, bytes] = {}
        for name, rows in case.tables.items():
            decl = declared.get(str(name))
            if decl is None:
                known = ", ".join(sorted(declared)) or "none"
                raise _CaseError(f"tables: {main.name or source.stem} declares no table {name!r} (its tables: {known})")
            files[_relative(decl, source.parent)] = _table_bytes(case.file.parent, decl.source, rows)
        digest = hashlib.sha256(str(source).encode())
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name] + b"\0")
        key = digest.hexdigest()[:16]
        if key not in self._overridden:
            # Under the user cache, named by content: the next run finds it parsed and compiled.
            folder = copies.kept_copy(source.parent, files)
            if folder is None:
                if self._scratch is None:
                    self._scratch = Path(tempfile.mkdtemp(prefix="aiguillage-test-"))
                folder = self._scratch / key
                copies.write_copy(source.parent, folder, files)
            self._overridden[key] = folder / source.name
        return self._overridden[key]


class _CaseError(Exception):
    """Why a case could not run."""


def _relative(decl: ast.TableDecl, home: Path) -> str:
    """The table's file relative to the ruleset's folder (a table may be declared in an included file)."""
    assert decl.src is not None
    try:
        return (Path(decl.src.folder).resolve() / decl.source).relative_to(home.resolve()).as_posix()
    except ValueError:
        raise _CaseError(f"tables: the table file {decl.source} is outside the ruleset's folder; cannot replace it") from None


def _rule_ids(compiled: CompiledRuleset | None) -> list[str]:
    return [rule for unit in (compiled.units if compiled else []) for rule in unit.rule_ids]


def _table_bytes(folder: Path, table_file: str, rows: Any) -> bytes:
    """The case's rows in the format of the table's file (CSV or JSON); a string names a file."""
    if isinstance(rows, str):
        path = folder / rows
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _CaseError(f"tables: cannot read {path}: {exc.strerror}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _CaseError("tables: give each table as a list of rows (one mapping per row) or a file name")
    if not table_file.lower().endswith(".csv"):
        return json.dumps([{k: _cell(v, csv_cell=False) for k, v in r.items()} for r in rows], ensure_ascii=False, indent=1).encode()
    columns: list[str] = []
    for row in rows:
        columns.extend(str(k) for k in row if str(k) not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({str(k): _cell(v, csv_cell=True) for k, v in row.items()})
    return out.getvalue().encode()


def _cell(value: Any, *, csv_cell: bool) -> Any:
    if value is None:
        return "" if csv_cell else None
    if isinstance(value, bool):
        return ("true" if value else "false") if csv_cell else value
    if isinstance(value, Decimal):
        return format(value, "f") if csv_cell else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if not csv_cell else str(value)
