"""Allocation of a bank statement: automatic rate, WRONG allocations (must be 0), import time.

    python benchmarks/allocation.py [--lines 10000] [--invoices 20000] [--database URL] [--seed 14]

Builds a camt.053 statement of `--lines` credits against `--invoices` open
invoices (2,000 customers) with a known truth (see
`aiguillage/payments/testing/scenario.py`): clean RF references, invoice
numbers in the text, references with a typo, no reference, grouped
payments, oldest-first payments, part payments, payers known by name only.
Stores customers and invoices, makes their balances, imports the statement
through `payments.importing.import_statement` (the code the CLI and the API
run) and scores every line against the truth.

Beside ours, the rate a reference-only matcher would reach on the same
statement (lines whose RF reference is valid and names exactly the one
invoice paid, in full): what the engine adds over the obvious.

The database is a scratch PostgreSQL database on the test server when it
answers (dropped afterwards), else a scratch SQLite file; `--database` to choose.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from aiguillage.payments.reference import creditor_reference, references_in
from aiguillage.payments.testing.run import run
from aiguillage.payments.testing.scenario import build
from aiguillage.store import migrate
from aiguillage.store.database import make_engine, session_factory


def _database(given: str | None) -> tuple[str, object]:
    if given:
        return given, None
    try:
        from aiguillage.store.testing import create_postgres_database, drop_postgres_database

        url = create_postgres_database()
        return url.render_as_string(hide_password=False), lambda: drop_postgres_database(url)
    except BaseException:  # noqa: BLE001 - pytest's skip is a BaseException; fall back to SQLite
        folder = tempfile.mkdtemp(prefix="aiguillage-alloc-")
        return f"sqlite:///{Path(folder) / 'bench.db'}", None


def reference_only_rate(scenario) -> float:  # noqa: ANN001
    """Lines a matcher of valid RF references alone settles: one reference, naming the one invoice, paid in full."""
    amounts = {i.number: i.amount for i in scenario.invoices}
    hits = 0
    for line, credit in enumerate(scenario.credits, start=1):
        _kind, truth = scenario.truth[line]
        found, _ = references_in(" ".join(p for p in (credit.structured, credit.remittance) if p))
        if len(truth) == 1 and len(found) == 1:
            [(number, amount)] = truth.items()
            hits += found[0] == creditor_reference(number) and amount == amounts[number]
    return hits / len(scenario.credits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--database")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    scenario = build(args.lines, args.invoices, seed=args.seed)
    print(f"scenario: {len(scenario.credits):,} statement lines, {len(scenario.invoices):,} open invoices, "
          f"{len(scenario.customers):,} customers (built in {time.perf_counter() - started:.1f} s)")
    url, cleanup = _database(args.database)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        from aiguillage.store.testing import new_tenant

        tenant_id = new_tenant(engine, "alloc")
        outcome = run(session_factory(engine), tenant_id, scenario)
    finally:
        engine.dispose()
        if cleanup:
            cleanup()
    s = outcome.score
    print(f"database: {engine.dialect.name}")
    print(f"load: {outcome.load_s:.1f} s (customers and invoices, bulk); balances: {outcome.balances_s:.1f} s")
    print(f"import: {outcome.import_s:.1f} s for {outcome.statement_bytes / 1e6:.1f} MB camt.053 "
          f"({s.lines / outcome.import_s:,.0f} lines/s; {outcome.import_cpu_s:.1f} s CPU in this process, "
          f"the rest is the database and waiting on a shared machine)")
    print(outcome.report.last_line())
    print("kind                 lines   correct   wrong")
    for kind, (lines, correct, wrong) in sorted(s.by_kind.items()):
        print(f"{kind:<20} {lines:>6} {correct:>9} {wrong:>7}")
    print(f"automatic allocation: {s.correct:,} of {s.lines:,} lines = {s.rate:.1%} (target >= 95 %)")
    print(f"reference-only matcher on the same statement: {reference_only_rate(scenario):.1%}")
    print(f"WRONG allocations: {s.wrong} (must be 0){'  lines: ' + str(s.wrong_lines[:20]) if s.wrong else ''}")
    return 1 if s.wrong else 0


if __name__ == "__main__":
    sys.exit(main())
