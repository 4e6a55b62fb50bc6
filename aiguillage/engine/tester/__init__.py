"""The rule test harness: cases beside each ruleset, run like `opa test`.

    discovery.py where case files are, and which ruleset each one tests
    cases.py     a case, read from YAML (or an official test set)
    specs.py     what a case expects: findings, enrichments, routes, holds
    patch.py     a base invoice plus a patch of fields
    runner.py    evaluating a case (with explain) and comparing with its expectations
    expect.py    the comparison, as problems with an expected and an actual side
    coverage.py  which rules the cases made fire and not fire
    report.py    text, JSON and JUnit reports

`aiguillage test` and the pytest plugin (`aiguillage.testing.pytest_plugin`)
are thin layers over `collect` and `Runner`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aiguillage.engine.tester.cases import Case, load_cases
from aiguillage.engine.tester.discovery import find_case_files
from aiguillage.engine.tester.runner import CaseResult, Runner
from aiguillage.engine.tester.specs import Expectations
from aiguillage.engine.tester.yamlio import CaseFileError

__all__ = ["Case", "CaseResult", "Collected", "Runner", "collect", "run_paths"]


@dataclass
class Collected:
    """Cases found under some paths, and the case files that could not be read."""

    cases: list[Case] = field(default_factory=list)
    #: (file, why) for each unreadable case file: they count as failures.
    broken: list[tuple[Path, str]] = field(default_factory=list)

    def broken_results(self) -> list[CaseResult]:
        """Unreadable case files as failed results, so a typo never passes silently."""
        out = []
        for file, why in self.broken:
            case = Case(name="(the case file could not be read)", file=file, line=0, ruleset=None, expect=Expectations())
            out.append(CaseResult(case, error=why))
        return out


def collect(paths: list[Path], pattern: str | None = None, root: Path | None = None) -> Collected:
    """Every case under `paths` whose id (`file::name`) matches `pattern` (a regular expression)."""
    regex = re.compile(pattern) if pattern else None
    found = Collected()
    for file in find_case_files(paths):
        try:
            cases = load_cases(file)
        except (CaseFileError, ValueError, OSError) as exc:
            found.broken.append((file, str(exc)))
            continue
        found.cases.extend(c for c in cases if regex is None or regex.search(c.node_id(root)))
    return found


def run_paths(paths: list[Path], pattern: str | None = None, root: Path | None = None) -> list[CaseResult]:
    """Collect and run; unreadable case files come first, as failures."""
    found = collect(paths, pattern, root)
    with Runner() as runner:
        return found.broken_results() + runner.run_all(found.cases)
