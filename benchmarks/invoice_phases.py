"""Where one invoice's time goes: parse, reader walk, model, rules, JSON, each in one process.

Run: `python benchmarks/invoice_phases.py [--rounds 20]` prints, per official UBL
example (the files `cli_speed.py` uses), the CPU time of each phase, best of
`--rounds` (CPU, not wall: on a shared machine the wall time counts the waits
for a core). Each phase is measured cumulatively (parse; parse and walk; the
whole read; read and rules; all of it), the differences are the phases.

For figures a busy machine does not move, count instructions instead:
`valgrind --tool=callgrind python benchmarks/invoice_phases.py --phase full --count N`
for N = 1 and N = 101; (Ir(101) − Ir(1)) / 100 is one invoice's count.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from official import REPO, ubl_examples  # noqa: E402

sys.path.insert(0, str(REPO))

from aiguillage.engine.evaluate import evaluate  # noqa: E402
from aiguillage.engine.loader import library  # noqa: E402
from aiguillage.model import ubl_reader  # noqa: E402
from aiguillage.model.syntaxes import read_invoice  # noqa: E402
from aiguillage.model.ubl_dispatch import Reader  # noqa: E402
from aiguillage.model.xmlsafe import parse_xml  # noqa: E402

DAY = date(2026, 1, 1)
PHASES = ("parse", "walk", "read", "rules", "full")


def steps(compiled: object) -> dict[str, Callable[[str, bytes], object]]:
    """Each phase, cumulative: what runs for one file up to and including it."""

    def walk(name: str, data: bytes) -> object:
        root = parse_xml(data, name)
        return ubl_reader._read_root(root, {}, Reader(root.tag.endswith("CreditNote")))

    def full(name: str, data: bytes) -> object:
        decision = evaluate(read_invoice(data, name), compiled, today=DAY)
        decision.file = name
        return decision.model_dump_json()

    return {
        "parse": lambda name, data: parse_xml(data, name),
        "walk": walk,
        "read": lambda name, data: read_invoice(data, name),
        "rules": lambda name, data: evaluate(read_invoice(data, name), compiled, today=DAY),
        "full": full,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per phase; the best is kept")
    parser.add_argument(
        "--phase", choices=PHASES, help="run only this phase, --count files once (for callgrind)"
    )
    parser.add_argument(
        "--count", type=int, default=101, help="with --phase: how many files (cycled)"
    )
    args = parser.parse_args()
    examples = ubl_examples()
    files = [(str(p), p.read_bytes()) for p in examples]
    run = steps(library().compiled("en16931"))
    gc.freeze()
    gc.disable()  # as `aiguillage evaluate` does once its ruleset is loaded
    if args.phase:
        step = run[args.phase]
        for i in range(args.count):
            step(*files[i % len(files)])
        return
    for name, data in files[:5]:  # warm: the first read and evaluation build what later ones reuse
        run["full"](name, data)
    cumulative: dict[str, float] = {}
    for phase in PHASES:
        step = run[phase]
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            for name, data in files:
                step(name, data)
            best = min(best, time.process_time() - started)
        cumulative[phase] = best / len(files) * 1e6
    print(f"CPU per invoice, {len(files)} official UBL examples, best of {args.rounds} rounds (µs)")
    previous = 0.0
    labels = {
        "parse": "lxml parse (hardened)",
        "walk": "reader walk (generated code)",
        "read": "model (pydantic), facts",
        "rules": "en16931 rules, the Decision",
        "full": "JSON of the Decision",
    }
    for phase in PHASES:
        print(f"  {labels[phase]:<32} {cumulative[phase] - previous:7.1f}")
        previous = cumulative[phase]
    print(f"  {'total':<32} {cumulative['full']:7.1f}")


if __name__ == "__main__":
    main()
