"""Running YAML test cases against the text in the editor, with the CLI's own harness (`aiguillage test`).

The text and the cases are written to a scratch folder laid out as the
harness expects (`NAME.rules`, `tests/cases.yaml`), with the project's sample
invoices beside the cases so `invoice: atelier-lumiere-F2026-0042.json` (or
`base:` with `patch:`) names one. A fresh rulesets library is used per run, so
nothing of the scratch folder stays in the process-wide cache.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiguillage.demo import samples_root
from aiguillage.engine.loader import Library, library
from aiguillage.engine.tester import Runner, collect
from aiguillage.engine.tester.coverage import Coverage, measure
from aiguillage.engine.tester.report import summary, text_report
from aiguillage.web.workspace.trying import samples


@dataclass(frozen=True)
class CaseRun:
    passed: int
    failed: int
    #: What `aiguillage test --coverage` prints for this run.
    report: str
    summary: str
    coverage: Coverage


def run(name: str, text: str, cases_yaml: str) -> CaseRun:
    with tempfile.TemporaryDirectory(prefix="aiguillage-workspace-") as scratch:
        home = Path(scratch)
        (home / f"{name}.rules").write_text(text, encoding="utf-8")
        tests = home / "tests"
        tests.mkdir()
        (tests / "cases.yaml").write_text(cases_yaml, encoding="utf-8")
        for sample in samples():
            shutil.copyfile(samples_root() / sample, tests / sample)
        collected = collect([tests])
        with Runner(Library(library().root)) as runner:
            results = runner.run_all(collected.cases) + collected.broken_results()
        coverage = measure(results)
        passed = sum(r.passed for r in results)
        return CaseRun(passed, len(results) - passed, text_report(results, coverage=coverage, root=home),
                       summary(results), coverage)
