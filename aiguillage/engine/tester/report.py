"""Reports of a test run: text for people, JSON for tools, JUnit XML for CI.

A failure reads as a small diff (`-` what the case expects, `+` what the
ruleset concluded) followed by the explain entries of the rules concerned,
with the values that decided them: the analyst sees why without re-running.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from aiguillage.engine.decision import ExplainEntry
from aiguillage.engine.tester.coverage import Coverage
from aiguillage.engine.tester.expect import Problem, show_finding, show_value
from aiguillage.engine.tester.runner import CaseResult

#: Occurrences of one explain entry shown before the rest are summarised.
SHOWN_OCCURRENCES = 6


def summary(results: list[CaseResult]) -> str:
    """The last line of every run: `N passed, M failed`."""
    passed = sum(r.passed for r in results)
    return f"{passed} passed, {len(results) - passed} failed"


def failure_text(result: CaseResult, root: Path | None = None) -> str:
    """Why one case failed: the diff per expectation, then the explain that decided it."""
    case = result.case
    lines = [f"FAILED {case.node_id(root)}  ({case.file.name}:{case.line})"]
    if result.error is not None:
        lines.append("  the case could not run: " + result.error.replace("\n", "\n    "))
        return "\n".join(lines)
    for problem in result.problems:
        lines.extend(problem_lines(problem))
    why = explain_lines(result)
    if why:
        lines.append("  why (explain):")
        lines.extend(why)
    return "\n".join(lines)


def problem_lines(problem: Problem) -> list[str]:
    lines = [f"  {problem.subject}"]
    lines.extend(f"    - expected: {text}" for text in problem.expected)
    lines.extend(f"      as expected: {text}" for text in problem.same)
    lines.extend(f"    + actual:   {text}" for text in problem.actual)
    if problem.hint:
        lines.append(f"    ({problem.hint})")
    return lines


def explain_lines(result: CaseResult) -> list[str]:
    """Explain entries of the rules the problems name (all enrich rules for `*enrich`), and the
    route trace when a route or hold differs."""
    decision = result.decision
    if decision is None or not decision.explain:
        return []
    wanted = {rule for p in result.problems for rule in p.rules}
    all_enrich = "*enrich" in wanted
    routes = any(p.routes for p in result.problems)
    lines: list[str] = []
    for entry in decision.explain:
        if entry.kind == "route":
            if routes:
                lines.extend(entry_lines(entry))
        elif entry.rule in wanted or (all_enrich and entry.kind == "enrich"):
            lines.extend(entry_lines(entry))
    if routes:
        blocking = [f for f in decision.findings if f.severity in ("fatal", "error")]
        if blocking:
            lines.append("    fatal and error findings (what `has errors` sees):")
            lines.extend(f"      {show_finding(f)}" for f in blocking[:SHOWN_OCCURRENCES])
            if len(blocking) > SHOWN_OCCURRENCES:
                lines.append(f"      ... and {len(blocking) - SHOWN_OCCURRENCES} more")
    return lines


def entry_lines(entry: ExplainEntry, limit: int | None = SHOWN_OCCURRENCES) -> list[str]:
    """One rule's explain: fired or not, then per occurrence the verdict and the deciding values.

    With a `limit`, a rule with many occurrences shows the telling ones first (failed
    validations, writes); `aiguillage evaluate --explain` passes None to show them all.
    """
    if entry.kind == "route":
        state = "matched" if entry.fired else "no match"
    elif entry.kind == "validate":
        state = "fired" if entry.fired else "passed"
    else:
        state = "fired" if entry.fired else "not fired"
    lines = [f"    {entry.rule} ({entry.ruleset}): {state}"]
    occurrences = entry.occurrences
    if limit is not None and entry.kind != "route" and len(occurrences) > limit:
        interesting = [o for o in occurrences if (o.passed is False) == (entry.kind == "validate") and o.applicable]
        occurrences = (interesting or occurrences)[:limit]
    for occ in occurrences:
        label = f"{occ.occurrence}: " if occ.occurrence else ""
        if not occ.applicable:
            verdict = "not applicable"
        elif entry.kind == "validate":
            verdict = "ok" if occ.passed else "FAILED"
        elif entry.kind == "enrich":
            verdict = "wrote" if occ.passed else "no change"
        else:
            verdict = "yes" if occ.passed else "no"
        values = "; ".join(f"{k} = {show_value(v)}" for k, v in occ.values.items())
        lines.append(f"      {label}{verdict}" + (f"  ({values})" if values else ""))
    hidden = len(entry.occurrences) - len(occurrences)
    if hidden > 0:
        lines.append(f"      ... {hidden} more occurrence{'s' if hidden != 1 else ''}")
    return lines


def text_report(results: list[CaseResult], *, verbose: bool = False, coverage: Coverage | None = None, root: Path | None = None) -> str:
    """The whole run for a terminal: failures in full, passes when verbose, coverage, the summary line."""
    lines: list[str] = []
    for result in results:
        if result.passed:
            if verbose:
                lines.append(f"PASS {result.case.node_id(root)}  ({result.seconds * 1000:.1f} ms)")
        else:
            lines.append(failure_text(result, root))
            lines.append("")
    if coverage is not None:
        lines.extend(coverage_lines(coverage, verbose=verbose))
        lines.append("")
    lines.append(summary(results))
    return "\n".join(lines)


def coverage_lines(coverage: Coverage, *, verbose: bool = False) -> list[str]:
    lines = ["coverage (rules exercised both ways: fired on one case, not fired on another):"]
    for cov in coverage.rulesets:
        lines.append(
            f"  {cov.name}: {cov.percent:.1f}%  ({cov.both_ways} of {len(cov.rules)} rules both ways, "
            f"{cov.count('fired only')} fired only, {cov.count('never fired')} never fired, {cov.count('never applied')} never applied; {cov.cases} cases)"
        )
        for use in cov.rules.values():
            if verbose or use.status != "both ways":
                lines.append(f"    {use.status:<13} {use.rule}  (fired in {use.fired}, not fired in {use.not_fired})")
        if cov.routes:
            taken = sum(1 for r in cov.routes.values() if r.taken)
            lines.append(f"    routes: {taken} of {len(cov.routes)} taken")
            for route in cov.routes.values():
                if verbose or not route.taken:
                    state = f"taken in {route.taken}" if route.taken else "never taken"
                    lines.append(f"      {state:<12} {route.label}  {route.condition}")
    lines.append(f"  total: {coverage.percent:.1f}% ({coverage.both_ways} of {coverage.rules} rules)")
    return lines


def json_report(results: list[CaseResult], coverage: Coverage | None = None, root: Path | None = None) -> str:
    passed = sum(r.passed for r in results)
    out: dict[str, Any] = {
        "cases": [_case_json(r, root) for r in results],
        "passed": passed,
        "failed": len(results) - passed,
    }
    if coverage is not None:
        out["coverage"] = {
            "percent": round(coverage.percent, 2),
            "rules": coverage.rules,
            "both_ways": coverage.both_ways,
            "rulesets": [
                {
                    "name": c.name,
                    "path": c.path,
                    "cases": c.cases,
                    "percent": round(c.percent, 2),
                    "rules": [{"rule": u.rule, "kind": u.kind, "status": u.status, "fired": u.fired, "not_fired": u.not_fired} for u in c.rules.values()],
                    "routes": [{"route": r.label, "condition": r.condition, "taken": r.taken} for r in c.routes.values()],
                }
                for c in coverage.rulesets
            ],
        }
    return json.dumps(out, indent=2, ensure_ascii=False)


def _case_json(result: CaseResult, root: Path | None) -> dict[str, Any]:
    return {
        "id": result.case.node_id(root),
        "file": str(result.case.file),
        "line": result.case.line,
        "name": result.case.name,
        "ruleset": result.compiled.name if result.compiled else result.case.ruleset,
        "passed": result.passed,
        "seconds": round(result.seconds, 4),
        "error": result.error,
        "report": None if result.passed else failure_text(result, root),
        "problems": [
            {"subject": p.subject, "expected": p.expected, "actual": p.actual, "as_expected": p.same, "hint": p.hint or None}
            for p in result.problems
        ],
    }


def junit_report(results: list[CaseResult], root: Path | None = None) -> str:
    """JUnit XML: one test suite per case file, one test case per case; the failure text is the
    same diff a terminal shows."""
    suites = ET.Element("testsuites", name="aiguillage test")
    by_file: dict[str, list[CaseResult]] = {}
    for result in results:
        by_file.setdefault(result.case.node_id(root).split("::", 1)[0], []).append(result)
    total = failed = errors = 0
    for file, group in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=file)
        suite_failed = suite_errors = 0
        for result in group:
            case = ET.SubElement(suite, "testcase", classname=file, name=result.case.name, time=f"{result.seconds:.4f}", file=file, line=str(result.case.line))
            if result.error is not None:
                suite_errors += 1
                node = ET.SubElement(case, "error", message=result.error.splitlines()[0] if result.error else "error")
                node.text = failure_text(result, root)
            elif result.problems:
                suite_failed += 1
                node = ET.SubElement(case, "failure", message="; ".join(p.subject for p in result.problems))
                node.text = failure_text(result, root)
        suite.set("tests", str(len(group)))
        suite.set("failures", str(suite_failed))
        suite.set("errors", str(suite_errors))
        suite.set("time", f"{sum(r.seconds for r in group):.4f}")
        total += len(group)
        failed += suite_failed
        errors += suite_errors
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("errors", str(errors))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
