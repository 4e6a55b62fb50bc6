"""Comparing what a ruleset concluded with what a case expects.

Each difference becomes a `Problem`: what was checked, the expected and the
actual side (as lines, for a readable diff), and which rules' explain
entries say why, so the report can show the values that decided it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aiguillage.engine.conformance import ConformanceTest, judge
from aiguillage.engine.decision import Decision, Finding, Hold, Route
from aiguillage.engine.tester.specs import Expectations, FindingSpec, HoldSpec, RouteSpec
from aiguillage.model import catalogue

#: How many actual findings a problem lists before summarising the rest.
SHOWN_FINDINGS = 12


@dataclass
class Problem:
    """One expectation that did not hold."""

    #: What was checked: "finding ACME-01 error", "enriched order_reference", "routes".
    subject: str
    expected: list[str]
    actual: list[str]
    #: Lines common to both sides, shown unmarked between them (for lists such as routes).
    same: list[str] = field(default_factory=list)
    #: Rules whose explain entries show why (ids of enrich or validate rules).
    rules: list[str] = field(default_factory=list)
    #: Whether the route trace explains it.
    routes: bool = False
    hint: str = ""


def compare(decision: Decision, expect: Expectations, known_rules: Iterable[str] = ()) -> list[Problem]:
    """Every way the decision differs from the expectations (empty when the case passes)."""
    known = set(known_rules)
    problems: list[Problem] = []
    for spec in expect.findings:
        problems.extend(_present(decision, spec, known))
    for spec in expect.no_findings:
        problems.extend(_absent(decision, spec, known))
    for name, value in expect.enriched.items():
        problems.extend(_enriched(decision, str(name), value))
    if expect.routes is not None:
        problems.extend(_routes(decision.routes, expect.routes))
    if expect.holds is not None:
        problems.extend(_holds(decision.holds, expect.holds))
    if expect.valid is not None and expect.valid == decision.has_errors:
        blocking = [f for f in decision.findings if f.severity in ("fatal", "error")]
        problems.append(
            Problem(
                "valid (no fatal or error finding)" if expect.valid else "invalid (at least one fatal or error finding)",
                ["valid" if expect.valid else "at least one fatal or error finding"],
                [show_finding(f) for f in blocking[:SHOWN_FINDINGS]] or ["no fatal or error finding"],
                rules=[f.rule for f in blocking][:SHOWN_FINDINGS],
            )
        )
    return problems


def compare_test_set(decision: Decision, test: ConformanceTest) -> list[Problem]:
    """An official test's verdicts, judged as the conformance runner judges them."""
    fired: dict[str, set[str]] = {}
    for finding in decision.findings:
        fired.setdefault(finding.rule, set()).add(finding.severity)
    words = {"success": "does not fire", "error": "fires as fatal or error", "warning": "fires as warning"}
    return [
        Problem(f"finding {m.rule}", [words[m.expected]], [("fires as " + ", ".join(m.fired)) if m.fired else "does not fire"], rules=[m.rule])
        for m in judge(test, fired)
    ]


# --------------------------------------------------------------------------- findings


def finding_matches(spec: FindingSpec, finding: Finding) -> bool:
    if finding.rule != spec.rule:
        return False
    if spec.severity is not None and finding.severity != spec.severity:
        return False
    if spec.path is not None and spec.path != finding.path and spec.path not in finding.paths:
        return False
    if spec.occurrence is not None and spec.occurrence != finding.occurrence:
        return False
    return spec.message is None or spec.message in finding.message


def show_finding(f: Finding) -> str:
    where = f" [{f.occurrence}]" if f.occurrence else ""
    path = f" at {f.path}" if f.path else ""
    return f"{f.rule} {f.severity}{where}{path}: {f.message}"


def _present(decision: Decision, spec: FindingSpec, known: set[str]) -> list[Problem]:
    if any(finding_matches(spec, f) for f in decision.findings):
        return []
    same_rule = [f for f in decision.findings if f.rule == spec.rule]
    actual = [show_finding(f) for f in same_rule[:SHOWN_FINDINGS]] or [f"{spec.rule} did not fire"]
    return [Problem(f"finding {spec.rule}", [spec.describe()], actual, rules=[spec.rule], hint=_unknown(spec.rule, known))]


def _absent(decision: Decision, spec: FindingSpec, known: set[str]) -> list[Problem]:
    hits = [f for f in decision.findings if finding_matches(spec, f)]
    if not hits:
        return []
    shown = [show_finding(f) for f in hits[:SHOWN_FINDINGS]]
    if len(hits) > SHOWN_FINDINGS:
        shown.append(f"... and {len(hits) - SHOWN_FINDINGS} more")
    return [Problem(f"no finding {spec.rule}", [f"{spec.describe()} does not fire"], shown, rules=[spec.rule], hint=_unknown(spec.rule, known))]


def _unknown(rule: str, known: set[str]) -> str:
    if not known or rule in known or rule.startswith("engine-error:"):
        return ""
    near = difflib.get_close_matches(rule, sorted(known), n=1)
    return f"there is no rule {rule} in this ruleset or what it extends" + (f"; did you mean {near[0]}?" if near else "")


# --------------------------------------------------------------------------- enrichments


def _field_name(name: str) -> str:
    """`BT-13` → `order_reference`; paths are taken as written."""
    if name.upper().startswith("BT-"):
        entry = catalogue.lookup(name)
        if entry is not None and "[]" not in entry.path:
            return entry.path
    return name


def _enriched(decision: Decision, name: str, expected: Any) -> list[Problem]:
    field_name = _field_name(name)
    writes = [e for e in decision.enrichments if e.field == field_name]
    subject = f"enriched {field_name}"
    if expected is None:
        if not writes:
            return []
        last = writes[-1]
        return [Problem(subject, ["not written"], [f"{show_value(last.new)}  (written by rule {last.rule!r})"], rules=[w.rule for w in writes])]
    if not writes:
        others = [f"{e.field} = {show_value(e.new)}" for e in decision.enrichments]
        hint = ("enriched instead: " + "; ".join(others)) if others else "no rule wrote anything"
        return [Problem(subject, [show_value(expected)], ["not written"], rules=["*enrich"], hint=hint)]
    last = writes[-1]
    if same_value(expected, last.new):
        return []
    return [Problem(subject, [show_value(expected)], [f"{show_value(last.new)}  (written by rule {last.rule!r})"], rules=[w.rule for w in writes])]


def same_value(expected: Any, actual: Any) -> bool:
    """Equal as the analyst means it: numbers by value (5000 = 5000.00), dates by day, else as text."""
    if isinstance(actual, Decimal | int) and not isinstance(actual, bool):
        try:
            return Decimal(str(expected)) == Decimal(actual)
        except (InvalidOperation, ValueError):
            return False
    if isinstance(actual, date):
        return str(expected) == actual.isoformat()
    if isinstance(actual, bool):
        return str(expected).lower() == str(actual).lower()
    return str(expected) == str(actual)


def show_value(value: Any) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


# --------------------------------------------------------------------------- routes and holds


def show_route(route: Route) -> str:
    parts = [route.channel]
    if route.format:
        parts.append(f"as {route.format}")
    if route.to:
        parts.append(f"to {route.to}")
    if route.params:
        parts.append("with " + ", ".join(f"{k} = {show_value(v)}" for k, v in route.params.items()))
    return " ".join(parts)


def show_hold(hold: Hold) -> str:
    return f"approval by {hold.role}" if hold.kind == "approval" else f"hold {hold.reason!r}"


def route_matches(spec: RouteSpec, route: Route) -> bool:
    if spec.channel != route.channel:
        return False
    if spec.format is not None and spec.format != route.format:
        return False
    if spec.to is not None and spec.to != route.to:
        return False
    return all(k in route.params and same_value(v, route.params[k]) for k, v in spec.params)


def hold_matches(spec: HoldSpec, hold: Hold) -> bool:
    if spec.kind != hold.kind:
        return False
    if spec.kind == "approval":
        return spec.role is None or spec.role == hold.role
    return spec.reason is None or spec.reason in (hold.reason or "")


def _routes(actual: list[Route], expected: list[RouteSpec]) -> list[Problem]:
    return _pair("routes", actual, expected, route_matches, show_route, RouteSpec.describe, "no route")


def _holds(actual: list[Hold], expected: list[HoldSpec]) -> list[Problem]:
    return _pair("holds", actual, expected, hold_matches, show_hold, HoldSpec.describe, "no hold")


def _pair(subject: str, actual: list[Any], expected: list[Any], matches: Callable[[Any, Any], bool], show: Callable[[Any], str], describe: Callable[[Any], str], none: str) -> list[Problem]:
    """Match expected items one-to-one with actual ones; what is left on either side is the diff."""
    unused = list(actual)
    missing: list[Any] = []
    same: list[str] = []
    for spec in expected:
        hit = next((a for a in unused if matches(spec, a)), None)
        if hit is None:
            missing.append(spec)
        else:
            unused.remove(hit)
            same.append(show(hit))
    if not missing and not unused:
        return []
    return [
        Problem(
            subject,
            [describe(s) for s in missing] or ([] if expected else [none]),
            [show(a) for a in unused] or ([] if actual else [none]),
            same=same,
            routes=True,
        )
    ]
