"""Which rules the cases exercised, per ruleset under test.

A rule is *exercised both ways* when some case made it fire and some case
made it not fire:

- a validate rule fires when its assert fails; it counts as not firing only
  where it applied (its `when` held and it had an occurrence to check) and
  its assert held: a rule whose `when` never held is not tested by passing;
- an enrich rule fires when it writes; it does not fire when it ran without
  writing (its `when` was false, or `fill` found the field already set).

Coverage = rules exercised both ways / rules, counting the ruleset's own
rules (inherited ones belong to the ruleset that defines them, which has
its own tests). Route lines are reported beside: which were taken at least once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.tester.runner import CaseResult


@dataclass
class RuleUse:
    """How often one rule fired, and did not fire, over the cases."""

    rule: str
    kind: str
    fired: int = 0
    not_fired: int = 0

    @property
    def status(self) -> str:
        """"both ways", "fired only", "never fired", or "never applied" (its `when` never held, or no case had an occurrence)."""
        if self.fired and self.not_fired:
            return "both ways"
        if self.fired:
            return "fired only"
        if self.not_fired:
            return "never fired"
        return "never applied"


@dataclass
class RouteUse:
    label: str
    condition: str
    taken: int = 0


@dataclass
class RulesetCoverage:
    """Coverage of one ruleset by the cases that test it."""

    name: str
    path: str
    cases: int = 0
    rules: dict[str, RuleUse] = field(default_factory=dict)
    routes: dict[str, RouteUse] = field(default_factory=dict)

    @property
    def both_ways(self) -> int:
        return sum(1 for r in self.rules.values() if r.status == "both ways")

    @property
    def percent(self) -> float:
        return 100.0 * self.both_ways / len(self.rules) if self.rules else 100.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rules.values() if r.status == status)


@dataclass
class Coverage:
    rulesets: list[RulesetCoverage] = field(default_factory=list)

    @property
    def rules(self) -> int:
        return sum(len(r.rules) for r in self.rulesets)

    @property
    def both_ways(self) -> int:
        return sum(r.both_ways for r in self.rulesets)

    @property
    def percent(self) -> float:
        return 100.0 * self.both_ways / self.rules if self.rules else 100.0


def measure(results: list[CaseResult]) -> Coverage:
    """Coverage of every ruleset the cases ran against, from their explain entries."""
    by_name: dict[str, RulesetCoverage] = {}
    for result in results:
        compiled, decision = result.compiled, result.decision
        if compiled is None or decision is None or decision.explain is None:
            continue
        cov = by_name.get(compiled.name)
        if cov is None:
            cov = by_name[compiled.name] = _empty(compiled)
        cov.cases += 1
        for entry in decision.explain:
            if entry.ruleset != compiled.name:
                continue
            if entry.kind == "route":
                use = cov.routes.get(entry.rule)
                if use is not None:
                    use.taken += entry.fired
                else:
                    condition = entry.occurrences[0].occurrence if entry.occurrences else ""
                    cov.routes[entry.rule] = RouteUse(entry.rule, condition or "", int(entry.fired))
                continue
            rule = cov.rules.get(entry.rule)
            if rule is None:
                continue
            if entry.fired:
                rule.fired += 1
            elif entry.kind == "enrich" or any(o.applicable for o in entry.occurrences):
                rule.not_fired += 1
    return Coverage(sorted(by_name.values(), key=lambda c: c.name))


def _empty(compiled: CompiledRuleset) -> RulesetCoverage:
    """The ruleset's own enabled rules, none used yet."""
    unit = compiled.units[-1]
    flags = compiled.flags[-1]
    rules = {m.id: RuleUse(m.id, m.kind) for m, on in zip(unit.metas, flags, strict=True) if on}
    return RulesetCoverage(compiled.name, unit.program.path, rules=rules)
