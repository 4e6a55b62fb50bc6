"""The benchmark's check, smaller: a statement with a known truth (clean references, typos, missing
references, grouped and part payments, payers known by name only) is allocated with no wrong allocation
and at least 95 % automatically, through the real import on PostgreSQL."""

from __future__ import annotations

from aiguillage.payments.testing.run import run
from aiguillage.payments.testing.scenario import build
from aiguillage.store.database import make_engine, session_factory

pytest_plugins = ["aiguillage.store.testing"]


def test_no_wrong_allocation_and_95_percent_automatic(postgres_url, make_tenant):
    scenario = build(600, 1200, seed=7)
    assert {kind for kind, _ in scenario.truth.values()} == {
        "clean_reference", "number_in_text", "typo", "no_reference", "grouped", "oldest_first", "partial",
        "name_only"}
    engine = make_engine(postgres_url)
    try:
        outcome = run(session_factory(engine), make_tenant(engine, "quality"), scenario)
    finally:
        engine.dispose()
    score = outcome.score
    assert score.wrong == 0, f"wrong allocations on lines {score.wrong_lines}"
    assert score.lines == 600 and score.rate >= 0.95, score.by_kind
    # Lines the evidence cannot settle are left, not guessed: some subscription amounts repeat.
    assert score.left == 600 - score.correct
    assert outcome.report.last_line().startswith("statement: 600 lines, ")
