"""Running YAML test cases against the text in the editor, with the CLI's own harness (`aiguillage test`).

The text and the cases are written to a scratch folder laid out as the
harness expects (`NAME.rules`, `tests/cases.yaml`), with the project's sample
invoices beside the cases so `invoice: atelier-lumiere-F2026-0042.json` (or
`base:` with `patch:`) names one, and the tenant's stored invoices the cases
name as `stored-ID.json` (read through the tenant-scoped repository: another
tenant's id is simply not there, and the case fails as "not found"). A fresh rulesets library is used per run, so
nothing of the scratch folder stays in the process-wide cache.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from aiguillage.demo import samples_root
from aiguillage.engine.decision import Decision
from aiguillage.engine.loader import Library, library
from aiguillage.engine.tester import Case, CaseResult, Runner, collect
from aiguillage.engine.tester.coverage import Coverage, measure
from aiguillage.engine.tester.report import summary, text_report
from aiguillage.web.workspace.trying import samples


def _stays_in(case: Case, folder: Path, rules: Path) -> bool:
    """Whether the case tests the text in the editor and reads only files of the scratch folder."""
    named = [case.invoice, case.base, *(Path(case.file.parent, v) for v in case.tables.values() if isinstance(v, str))]
    root = folder.resolve()
    return case.ruleset is not None and Path(case.ruleset).resolve() == rules.resolve() \
        and all(p is None or Path(p).resolve().is_relative_to(root) for p in named)


@dataclass(frozen=True)
class CaseRun:
    passed: int
    failed: int
    #: What `aiguillage test --coverage` prints for this run.
    report: str
    summary: str
    coverage: Coverage


#: How cases name one of the tenant's stored invoices (written beside the cases for the run).
STORED_NAME = re.compile(r"stored-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json")


def stored_file(invoice_id: object) -> str:
    return f"stored-{invoice_id}.json"


def case_from(label: str, invoice_file: str, decision: Decision) -> str:
    """A YAML case (an item of `cases:`) expecting what `decision` decided: valid or not, routes, holds."""
    routes = [{k: v for k, v in (("channel", r.channel), ("format", r.format), ("to", r.to)) if v}
              for r in decision.routes]
    holds = [{"approval": h.role} if h.kind == "approval" else {"hold": h.reason} for h in decision.holds]
    item = {"name": f"{label} decides as on {decision.today.isoformat()}", "base": invoice_file,
            "expect": {"valid": not decision.has_errors, "routes": routes, "holds": holds}}
    dumped = yaml.safe_dump([item], allow_unicode=True, sort_keys=False, default_flow_style=None)
    return "".join("  " + line for line in dumped.splitlines(keepends=True))


def add_case(cases_yaml: str, case: str) -> str:
    """The cases text with one more case at the end of its `cases:` list (started when empty)."""
    text = cases_yaml.rstrip()
    return (text + "\n" if text else "cases:\n") + case


def run(name: str, text: str, cases_yaml: str, stored: dict[str, bytes] | None = None) -> CaseRun:
    with tempfile.TemporaryDirectory(prefix="aiguillage-workspace-") as scratch:
        home = Path(scratch)
        (home / f"{name}.rules").write_text(text, encoding="utf-8")
        tests = home / "tests"
        tests.mkdir()
        (tests / "cases.yaml").write_text(cases_yaml, encoding="utf-8")
        for sample in samples():
            shutil.copyfile(samples_root() / sample, tests / sample)
        for file_name, data in (stored or {}).items():
            (tests / file_name).write_bytes(data)
        collected = collect([tests])
        rules = home / f"{name}.rules"
        inside = [c for c in collected.cases if _stays_in(c, tests, rules)]
        outside = [CaseResult(c, error="a case tests the text in the editor and may only name the sample invoices and "
                                       "stored-ID.json files beside it (no other ruleset or folder on the server)")
                   for c in collected.cases if c not in inside]
        with Runner(Library(library().root)) as runner:
            results = runner.run_all(inside) + outside + collected.broken_results()
        coverage = measure(results)
        passed = sum(r.passed for r in results)
        report = text_report(results, coverage=coverage, root=home).replace(f"{home}/", "")  # the scratch folder means nothing to the reader
        return CaseRun(passed, len(results) - passed, report,
                       summary(results), coverage)
