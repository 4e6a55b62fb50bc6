"""Coverage figures of the rule test harness, against a count made by hand.

tests/tester_data/tiny has six rules and three cases. By hand (see its cases.yaml):

| rule                           | case 1          | case 2        | case 3              | status        |
| ------------------------------ | --------------- | ------------- | ------------------- | ------------- |
| Buyer reference from the order | wrote           | no write      | no write (no order) | both ways     |
| T-01 number exists             | held            | fired         | held                | both ways     |
| T-02 under budget              | held            | fired         | not applicable      | both ways     |
| T-03 units, per line           | held            | fired         | no line             | both ways     |
| T-04 when currency = XXX       | not applicable  | n/a           | n/a                 | never applied |
| T-05 seller name               | fired           | fired         | fired               | fired only    |

4 of 6 both ways: 66.7 %. Routes: `has errors` taken once (case 2), `otherwise` twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.engine.tester import Runner, collect
from aiguillage.engine.tester.coverage import measure

TINY = Path(__file__).parent / "tester_data" / "tiny"


@pytest.fixture(scope="module")
def coverage():  # noqa: ANN201
    found = collect([TINY])
    with Runner() as runner:
        results = runner.run_all(found.cases)
    assert [r.passed for r in results] == [True, True, True], [r.problems for r in results]
    return measure(results)


def test_ruleset_figures_match_the_hand_count(coverage) -> None:  # noqa: ANN001
    [tiny] = coverage.rulesets
    assert tiny.name == "tiny"
    assert tiny.cases == 3
    assert len(tiny.rules) == 6
    assert tiny.both_ways == 4
    assert round(tiny.percent, 1) == 66.7
    assert coverage.percent == tiny.percent


def test_each_rule_has_the_hand_counted_status(coverage) -> None:  # noqa: ANN001
    rules = coverage.rulesets[0].rules
    assert {rule: use.status for rule, use in rules.items()} == {
        "Buyer reference from the order": "both ways",
        "T-01": "both ways",
        "T-02": "both ways",
        "T-03": "both ways",
        "T-04": "never applied",
        "T-05": "fired only",
    }
    assert (rules["Buyer reference from the order"].fired, rules["Buyer reference from the order"].not_fired) == (1, 2)
    assert (rules["T-01"].fired, rules["T-01"].not_fired) == (1, 2)
    assert (rules["T-02"].fired, rules["T-02"].not_fired) == (1, 1)
    assert (rules["T-03"].fired, rules["T-03"].not_fired) == (1, 1)
    assert (rules["T-05"].fired, rules["T-05"].not_fired) == (3, 0)


def test_routes_taken(coverage) -> None:  # noqa: ANN001
    routes = coverage.rulesets[0].routes
    assert [(r.condition, r.taken) for r in routes.values()] == [("has errors", 1), ("otherwise", 2)]


def test_customer_rulesets_are_fully_covered() -> None:
    """The shipped customer rulesets' cases exercise each of their rules both ways."""
    root = Path(__file__).resolve().parents[1] / "rulesets" / "customers"
    found = collect([root])
    assert not found.broken
    with Runner() as runner:
        results = runner.run_all(found.cases)
    failed = [r.case.name for r in results if not r.passed]
    assert failed == []
    coverage = measure(results)
    assert {c.name for c in coverage.rulesets} >= {"maison-dufresne", "ville-de-liege", "distrilux", "paper-small-business"}
    assert {c.name: c.percent for c in coverage.rulesets} == {c.name: 100.0 for c in coverage.rulesets}
