"""pytest plugin: every ruleset test case is a pytest item, so CI runs them with the rest.

Enabled for this repository by `-p aiguillage.testing.pytest_plugin` in the
pytest options of pyproject.toml (with `rulesets` among the test paths). A
case file (YAML, or an official test set, in a `tests/` folder beside a
ruleset) becomes a pytest file whose items are its cases, named after them:

    rulesets/customers/acme/tests/po.yaml::PO looked up from the order book

A failing case shows the same diff and explain as `aiguillage test`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiguillage.engine.tester import Runner
from aiguillage.engine.tester.cases import Case, load_cases
from aiguillage.engine.tester.discovery import is_case_file, ruleset_for
from aiguillage.engine.tester.report import failure_text
from aiguillage.engine.tester.runner import CaseResult
from aiguillage.engine.tester.yamlio import CaseFileError

_RUNNER = pytest.StashKey[Runner]()


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Ruleset case files only: YAML (or a test set) under a `tests/` folder whose ruleset is known."""
    if not _beside_ruleset(file_path) or not is_case_file(file_path):
        return None
    return RulesetCaseFile.from_parent(parent, path=file_path)


def _beside_ruleset(path: Path) -> bool:
    """True where `aiguillage test` would find the file's ruleset by its place: keeps pytest
    away from YAML that has nothing to do with rulesets."""
    return any(p.name == "tests" for p in path.parents) and ruleset_for(path) is not None


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(_RUNNER, None)
    if runner is not None:
        runner.close()


def _runner(config: pytest.Config) -> Runner:
    runner = config.stash.get(_RUNNER, None)
    if runner is None:
        runner = config.stash[_RUNNER] = Runner()
    return runner


class RulesetCaseFile(pytest.File):
    """A case file; an unreadable one is a collection error naming file and line."""

    def collect(self) -> Any:
        try:
            cases = load_cases(self.path)
        except (CaseFileError, ValueError) as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield RulesetCaseItem.from_parent(self, name=case.name, case=case)


class RulesetCaseFailed(Exception):
    """Raised by a failing case; carries the result for the report."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.case.name)
        self.result = result


class RulesetCaseItem(pytest.Item):
    """One case."""

    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        result = _runner(self.config).run(self.case)
        if not result.passed:
            raise RulesetCaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RulesetCaseFailed):
            return failure_text(excinfo.value.result, self.config.rootpath)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.case.line - 1, 0), f"ruleset case: {self.case.name}"
