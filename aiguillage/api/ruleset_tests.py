"""Running a ruleset's test cases sent with the request (`POST /v1/rulesets/{id}/test`).

The seam is `run_cases(compiled, cases, lang)`: cases in, a report out.
Cases arrive in the request body (an analyst's editor sends what it has:
the draft and a few invoices with what they must produce), each invoice as
XML text or the model's JSON, with a small expectation format: valid or
not, rules that must fire or stay silent, the routes and holds in order,
values enrichment must write. The file-based harness of `aiguillage test`
(engine/tester: YAML cases beside a ruleset, patches, coverage) answers the
same question for rulesets kept in the repository; an endpoint that runs a
stored ruleset's own case files would plug in here, behind the same
signature.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiguillage.api.schemas.rulesets import CaseResult, TestCase, TestExpectation, TestReport
from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.syntaxes import read_invoice


def run_cases(compiled: CompiledRuleset, cases: list[TestCase], lang: str = "en") -> TestReport:
    """Evaluate every case and compare with what it expects; one case never stops the others."""
    results = [_run(compiled, case, lang) for case in cases]
    passed = sum(r.passed for r in results)
    return TestReport(passed=passed, failed=len(results) - passed, cases=results)


def _run(compiled: CompiledRuleset, case: TestCase, lang: str) -> CaseResult:
    data = case.invoice.encode("utf-8") if isinstance(case.invoice, str) else json.dumps(case.invoice).encode("utf-8")
    try:
        invoice = read_invoice(data, f"case {case.name!r}")
    except InvoiceReadError as exc:
        return CaseResult(name=case.name, passed=False, failures=[f"the invoice cannot be read: {exc}"],
                          rules_fired=[], routes=[])
    decision = evaluate(invoice, compiled, lang=lang, today=case.today)
    failures = compare(decision, case.expect)
    return CaseResult(name=case.name, passed=not failures, failures=failures, rules_fired=decision.rules_fired(),
                      routes=[r.channel for r in decision.routes])


def compare(decision: Decision, expect: TestExpectation) -> list[str]:
    """Each expectation the decision does not meet, in words an analyst can act on."""
    failures: list[str] = []
    fired = set(decision.rules_fired())
    if expect.valid is not None and expect.valid == decision.has_errors:
        blocking = sorted({f.rule for f in decision.findings if f.severity in ("fatal", "error")})
        failures.append("expected a valid invoice, but " + ", ".join(blocking) + " found errors"
                        if expect.valid else "expected an error or fatal finding, got none")
    for rule in expect.fires:
        if rule not in fired:
            failures.append(f"expected {rule} to fire; it did not")
    for rule in expect.silent:
        if rule in fired:
            messages = [f.message for f in decision.findings if f.rule == rule]
            failures.append(f"expected {rule} not to fire; it did: {messages[0]}")
    if expect.routes is not None:
        actual = [r.channel for r in decision.routes]
        if actual != expect.routes:
            failures.append(f"expected routes {expect.routes}, got {actual}")
    if expect.holds is not None:
        actual_holds = [h.kind for h in decision.holds]
        if actual_holds != expect.holds:
            failures.append(f"expected holds {expect.holds}, got {actual_holds}")
    written = {e.field: e.new for e in decision.enrichments}
    for field, value in expect.enriched.items():
        if field not in written:
            failures.append(f"expected {field} to be enriched; no rule wrote it")
        elif not _same(written[field], value):
            failures.append(f"expected {field} = {value!r}, enrichment wrote {written[field]!s}")
    return failures


def _same(actual: Any, expected: Any) -> bool:
    """Compare as text, so 12.50 written as a Decimal matches "12.50" or 12.5 in JSON."""
    if actual == expected:
        return True
    try:
        return Decimal(str(actual)) == Decimal(str(expected))
    except ArithmeticError:
        return str(actual) == str(expected)
