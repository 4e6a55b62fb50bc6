"""Read + EN 16931 rules: invoices per second on the official ~20 KB examples, and the large invoice.

Run: `python benchmarks/standard_rules.py [--ruleset en16931] [--seconds 3] [--large-lines 20000]`.

Per example (`ubl-tc434-example*`, `guide-example*`): best-of-rounds time to
read the bytes into the model and to evaluate the standard ruleset, the share
of each, and invoices/s on one core. Then a generated invoice of
`--large-lines` lines (benchmarks/make_large_invoice.py), read and evaluated
in a fresh process so its peak RSS is its own. The reference is the official
Schematron in Saxon-HE: about 5.4 ms per such invoice here (20x = 0.27 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiguillage.engine.evaluate import evaluate  # noqa: E402
from aiguillage.engine.loader import library  # noqa: E402
from aiguillage.model.syntaxes import read_invoice  # noqa: E402

SAXON_MS_PER_INVOICE = 5.4


def conformance_dir() -> Path:
    configured = os.environ.get("AIGUILLAGE_CONFORMANCE")
    return Path(configured) if configured else REPO.parent / "shared" / "conformance"


def examples() -> list[Path]:
    folder = conformance_dir() / "en16931" / "ubl-examples"
    return sorted(folder.glob("ubl-tc434-example*.xml")) + sorted(folder.glob("guide-example*.xml"))


def best(fn, seconds: float) -> float:  # noqa: ANN001
    """Best per-call time (s) over rounds of a few calls, for about `seconds`."""
    fn()
    best_time = float("inf")
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        for _ in range(10):
            fn()
        best_time = min(best_time, (time.perf_counter() - start) / 10)
    return best_time


def per_example(ruleset: str, seconds: float) -> None:
    compiled = library().compiled(ruleset)
    files = examples()
    print(f"ruleset {ruleset}: {len(files)} examples, best of ~{seconds:.1f} s each")
    print(f"{'example':28} {'KB':>5} {'read µs':>8} {'rules µs':>9} {'total µs':>9} {'read %':>7} {'findings':>8}")
    read_total = rules_total = 0.0
    for path in files:
        data = path.read_bytes()
        invoice = read_invoice(data, path.name)
        decision = evaluate(invoice, compiled)
        t_read = best(lambda data=data: read_invoice(data), seconds / 2)
        t_rules = best(lambda invoice=invoice: evaluate(invoice, compiled), seconds / 2)
        read_total += t_read
        rules_total += t_rules
        total = t_read + t_rules
        print(
            f"{path.name:28} {len(data) / 1024:5.1f} {t_read * 1e6:8.0f} {t_rules * 1e6:9.0f} {total * 1e6:9.0f}"
            f" {100 * t_read / total:6.0f}% {len(decision.findings):8}"
        )
    n = len(files)
    mean = (read_total + rules_total) / n
    print(
        f"mean per invoice: read {read_total / n * 1e6:.0f} µs + rules {rules_total / n * 1e6:.0f} µs"
        f" = {mean * 1e6:.0f} µs -> {1 / mean:,.0f} invoices/s on one core;"
        f" {SAXON_MS_PER_INVOICE * 1e-3 / mean:.1f}x the official Schematron in Saxon ({SAXON_MS_PER_INVOICE} ms)"
    )
    print(f"time share: reading {100 * read_total / (read_total + rules_total):.0f}%, rules {100 * rules_total / (read_total + rules_total):.0f}%")


def large(ruleset: str, lines: int) -> None:
    """Generate the large invoice, then read + evaluate it in a fresh process and report time and peak RSS."""
    path = Path(f"/tmp/aiguillage-large-{lines}.xml")
    if not path.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_large_invoice.py"), "--lines", str(lines), "-o", str(path)], check=True)
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--ruleset", ruleset], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    print(
        f"large invoice: {lines:,} lines, {path.stat().st_size / 1e6:.1f} MB: read {result['read_s']:.2f} s,"
        f" rules {result['rules_s']:.2f} s, total {result['read_s'] + result['rules_s']:.2f} s,"
        f" peak RSS {result['peak_mb']:.0f} MB, {result['findings']} findings"
    )


def child(path: Path, ruleset: str) -> None:
    compiled = library().compiled(ruleset)
    data = path.read_bytes()
    start = time.perf_counter()
    invoice = read_invoice(data, str(path))
    del data
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    decision = evaluate(invoice, compiled)
    rules_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": read_s, "rules_s": rules_s, "peak_mb": peak_mb, "findings": len(decision.findings)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ruleset", default="en16931")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--large-lines", type=int, default=20_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.ruleset)
        return
    per_example(args.ruleset, args.seconds)
    if args.large_lines:
        large(args.ruleset, args.large_lines)


if __name__ == "__main__":
    main()
