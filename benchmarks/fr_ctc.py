"""fr-ctc against the official BR-FR XSLT: milliseconds per French sample, measured in the same run.

Run: `python benchmarks/fr_ctc.py [--rounds 20]`.

For each XML sample of samples/fr/ (UBL and CII): best-of-rounds time to read the bytes and
evaluate `fr-ctc` (EN 16931 + BR-FR), and, beside it, the official BR-FR Flux 2 XSLT in Saxon-HE
(saxonche, the test extra) on the same bytes, parse included. The XSLT judges only the BR-FR
rules; fr-ctc runs the EN 16931 rules too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from fr_oracle import br_fr_xslt, failed_asserts  # noqa: E402

from aiguillage.engine.evaluate import evaluate  # noqa: E402
from aiguillage.engine.loader import load  # noqa: E402
from aiguillage.model.syntaxes import read_invoice  # noqa: E402


def best(call, rounds: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    conformance = Path(os.environ.get("AIGUILLAGE_CONFORMANCE") or REPO.parent / "shared" / "conformance")
    ruleset = load("fr-ctc")
    ours_total = xslt_total = 0.0
    samples = sorted((REPO / "samples" / "fr").glob("fr-*.xml"))
    print(f"{'sample':45} {'fr-ctc ms':>10} {'BR-FR XSLT ms':>14}")
    for path in samples:
        data = path.read_bytes()
        syntax = "cii" if b"CrossIndustryInvoice" in data[:2000] else "ubl"
        stylesheet = br_fr_xslt(conformance, syntax)
        failed_asserts(data, stylesheet)  # compile once, outside the timing
        ours = best(lambda data=data: evaluate(read_invoice(data), ruleset), args.rounds)
        xslt = best(lambda data=data, s=stylesheet: failed_asserts(data, s), args.rounds)
        ours_total += ours
        xslt_total += xslt
        print(f"{path.name:45} {ours:10.3f} {xslt:14.3f}")
    n = len(samples)
    print(f"{'mean':45} {ours_total / n:10.3f} {xslt_total / n:14.3f}   ({xslt_total / ours_total:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
