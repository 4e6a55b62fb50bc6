"""Official conformance test sets (the VEFA `testSet` format) and how a verdict is judged.

Each file names a configuration (`tc434-ubl`, `peppolbis-en16931-base-3.0-ubl`,
…) and holds tests: a document plus, for some rule ids, the expected outcome:
`success` (must not fire), `error` (must fire as fatal/error) or `warning`
(must fire as warning). Only the rules a test names are judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from aiguillage.model.xmlsafe import parse_xml

VEFA_NS = "http://difi.no/xsd/vefa/validator/1.0"
_TEST = f"{{{VEFA_NS}}}test"
_ASSERT = f"{{{VEFA_NS}}}assert"
_OUTCOMES = {f"{{{VEFA_NS}}}success": "success", f"{{{VEFA_NS}}}error": "error", f"{{{VEFA_NS}}}warning": "warning"}

#: Severities that satisfy each expected outcome.
SATISFIES = {"error": frozenset({"fatal", "error"}), "warning": frozenset({"warning"})}


@dataclass(slots=True)
class ConformanceTest:
    """One test of a test set: a document and the expected outcome per rule."""

    file: Path
    number: int
    configuration: str
    expectations: dict[str, str]
    document: etree._Element
    line: int | None
    description: str = ""

    @property
    def syntax(self) -> str:
        return "cii" if self.configuration.endswith("-cii") or "cii" in self.configuration.split("-") else "ubl"


@dataclass(slots=True)
class Mismatch:
    """A rule that did not behave as the test says."""

    rule: str
    expected: str
    fired: list[str] = field(default_factory=list)


def default_ruleset(configuration: str) -> str:
    """The standard ruleset a test set's configuration calls for."""
    return "peppol-bis-3" if configuration.startswith("peppol") else "en16931"


def load_test_set(path: Path) -> list[ConformanceTest]:
    """Read one test-set file; raises `InvoiceReadError` if it is not readable XML."""
    root = parse_xml(path.read_bytes(), str(path))
    if root.tag != f"{{{VEFA_NS}}}testSet":
        raise ValueError(f"{path}: not a conformance test set (root <{etree.QName(root).localname}>)")
    configuration = root.get("configuration", "")
    tests: list[ConformanceTest] = []
    for number, test in enumerate(root.iter(_TEST), start=1):
        expectations: dict[str, str] = {}
        description = ""
        document = None
        for child in test:
            if child.tag == _ASSERT:
                for item in child:
                    outcome = _OUTCOMES.get(item.tag)
                    if outcome and item.text:
                        expectations[item.text.strip()] = outcome
                    elif etree.QName(item).localname == "description" and item.text:
                        description = " ".join(item.text.split())
            elif isinstance(child.tag, str) and document is None:
                document = child
        if document is not None:
            tests.append(ConformanceTest(path, number, configuration, expectations, document, document.sourceline, description))
    return tests


def find_test_sets(paths: Iterable[Path]) -> list[Path]:
    """Test-set files under the given files or folders, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml"))
        else:
            found.append(path)
    return found


def judge(test: ConformanceTest, fired: Mapping[str, Iterable[str]]) -> list[Mismatch]:
    """Compare what fired (rule id → severities) with what the test expects."""
    mismatches: list[Mismatch] = []
    for rule, expected in test.expectations.items():
        severities = sorted(set(fired.get(rule, ())))
        if expected == "success":
            ok = not severities
        else:
            ok = any(s in SATISFIES[expected] for s in severities)
        if not ok:
            mismatches.append(Mismatch(rule, expected, severities))
    return mismatches


# --------------------------------------------------------------------------- running


@dataclass(slots=True)
class TestOutcome:
    """The verdict on one test: passed, or the rules that misbehaved (or why it could not run)."""

    test: ConformanceTest
    ruleset: str
    mismatches: list[Mismatch]
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


@dataclass(slots=True)
class FileReport:
    """All outcomes of one test-set file."""

    file: Path
    configuration: str
    outcomes: list[TestOutcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed


def run_test(test: ConformanceTest, compiled, ruleset: str, *, via: str | None = None) -> TestOutcome:  # noqa: ANN001
    """Read the test's document (optionally converted to another syntax first), evaluate, judge."""
    from aiguillage.engine.evaluate import evaluate
    from aiguillage.model.errors import InvoiceReadError
    from aiguillage.model.syntaxes import read_invoice, read_xml_root, write_invoice

    source = f"{test.file}#{test.number}"
    try:
        invoice = read_xml_root(test.document, source)
        if via is not None:
            invoice = read_invoice(write_invoice(invoice, via), source)
    except InvoiceReadError as exc:
        return TestOutcome(test, ruleset, [], error=str(exc))
    decision = evaluate(invoice, compiled)
    fired: dict[str, set[str]] = {}
    for finding in decision.findings:
        fired.setdefault(finding.rule, set()).add(finding.severity)
    return TestOutcome(test, ruleset, judge(test, fired))


def run_files(paths: Iterable[Path], *, ruleset: str | None = None, via: str | None = None, library=None) -> list[FileReport]:  # noqa: ANN001
    """Run every test of every test-set file under `paths` with its ruleset (or the one given)."""
    from aiguillage.engine.loader import library as default_library

    lib = library or default_library()
    reports: list[FileReport] = []
    for path in find_test_sets(paths):
        tests = load_test_set(path)
        configuration = tests[0].configuration if tests else ""
        report = FileReport(path, configuration)
        for test in tests:
            name = ruleset or default_ruleset(test.configuration)
            report.outcomes.append(run_test(test, lib.compiled(name), name, via=via))
        reports.append(report)
    return reports
