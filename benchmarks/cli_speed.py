"""What a user of the command line feels, next to the official validator measured in the same run.

Run: `python benchmarks/cli_speed.py [--runs N] [--files 3900] [--large PATH] [--only start,invoice,large]`.

Every figure is given as wall time and as CPU time (user + sys of the whole
process, its workers included): on a shared machine the wall time counts the
waits for a core, the CPU time mostly does not.

- start: whole processes (best of `--runs`) of `aiguillage --help`, `check` of one
  customer ruleset and `evaluate` of one invoice with en16931, warm on-disk cache and
  `.pyc` files (one untimed run first; PYTHONDONTWRITEBYTECODE is removed from the
  measured processes' environment, as a user's Python writes and uses `.pyc` files); beside them one whole Saxon run of the official
  EN 16931 UBL XSLT on the same invoice.
- invoice: marginal cost per invoice of `evaluate --ruleset en16931 --format jsonl`
  over `--files` copies of the official UBL examples, i.e. (T(N) − T(1)) / (N − 1),
  beside Saxon's per-invoice cost with the stylesheet compiled once.
- large: one whole `evaluate` of a large invoice (`make_large_invoice.py`, 20,000
  lines by default), wall time and peak RSS, beside one whole Saxon run on it.

Python is run as `sys.executable` (not a pyenv shim, which adds ~70 ms of bash).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from official import REPO, best_process, run_process, saxon_argv, saxon_per_invoice, ubl_examples  # noqa: E402

CUSTOMER = REPO / "rulesets" / "customers" / "distrilux" / "distrilux.rules"
ONE_INVOICE = REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"


def _env() -> dict[str, str]:
    """The environment of the measured processes: as a user's, whose Python keeps its `.pyc` files.

    PYTHONDONTWRITEBYTECODE is removed (a shell that sets it makes every run compile the
    source of ~40 modules again, +70 ms a user never pays); the untimed first run of each
    command writes the `.pyc` files, as it fills the on-disk cache.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


_PYC_NOTE = "Python's .pyc files written and used (PYTHONDONTWRITEBYTECODE removed), on-disk cache warm"


def aiguillage(*args: str) -> list[str]:
    return [sys.executable, "-m", "aiguillage", *args]


def report_start(runs: int) -> None:
    env = _env()
    commands = {
        "aiguillage --help": aiguillage("--help"),
        "aiguillage check (one customer ruleset)": aiguillage("check", str(CUSTOMER)),
        "aiguillage evaluate (one invoice, en16931)": aiguillage("evaluate", "--ruleset", "en16931", str(ONE_INVOICE)),
    }
    for argv in commands.values():
        run_process(argv, env)  # fills the on-disk cache
    bare, _, bare_cpu = best_process([sys.executable, "-c", "pass"], runs, env)
    saxon, saxon_rss, saxon_cpu = best_process(saxon_argv([ONE_INVOICE]), max(2, runs // 2))
    print(f"start-up, whole processes, best of {runs}: wall, CPU (user + sys), peak RSS (python itself: {bare * 1e3:.0f} ms, CPU {bare_cpu * 1e3:.0f} ms)")
    print(f"  ({_PYC_NOTE})")
    for name, argv in commands.items():
        took, rss, cpu = best_process(argv, runs, env)
        print(f"  {name:<44} {took * 1e3:6.0f} ms  CPU {cpu * 1e3:5.0f} ms {rss:5.0f} MB   goal ≤ 300 ms ({saxon / took:.1f}× less than the official XSLT run)")
    print(f"  {'official XSLT in Saxon-HE, one invoice':<44} {saxon * 1e3:6.0f} ms  CPU {saxon_cpu * 1e3:5.0f} ms {saxon_rss:5.0f} MB")


def report_invoice(files: int, runs: int) -> None:
    examples = ubl_examples()
    env = _env()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        copies = [Path(tmp) / f"{i:05d}-{examples[i % len(examples)].name}" for i in range(files)]
        for i, path in enumerate(copies):
            shutil.copyfile(examples[i % len(examples)], path)
        base = aiguillage("evaluate", "--ruleset", "en16931", "--format", "jsonl")
        commands = {
            "one": [*base, "--jobs", "1", str(copies[0])],
            "jobs 1": [*base, "--jobs", "1", *map(str, copies)],
            f"jobs {cores}": [*base, "--jobs", str(cores), *map(str, copies)],
        }
        best = dict.fromkeys(commands, float("inf"))
        best_cpu = dict.fromkeys(commands, float("inf"))
        run_process(commands["one"], env)
        for _ in range(runs):  # interleaved, so that a busy minute hits all of them alike
            for name, argv in commands.items():
                wall, _, cpu = run_process(argv, env)
                best[name], best_cpu[name] = min(best[name], wall), min(best_cpu[name], cpu)
        saxon, saxon_cpu = saxon_per_invoice(examples, rounds=max(2, runs // 2))
    print(f"per invoice, `evaluate --format jsonl` over {files} files ({len(examples)} official UBL examples, cycled), "
          f"marginal cost (T({files}) − T(1)) / {files - 1}, best of {runs} interleaved runs ({_PYC_NOTE})")
    print(f"  official XSLT in Saxon-HE, stylesheet compiled once: {saxon:.3f} ms per invoice, CPU {saxon_cpu:.3f} ms "
          f"(goal for us: ≤ {saxon / 20:.3f} ms, 20×)")
    for name in commands:
        if name == "one":
            continue
        ours = (best[name] - best["one"]) / (files - 1) * 1e3
        cpu = (best_cpu[name] - best_cpu["one"]) / (files - 1) * 1e3
        print(f"  ours, --{name}: {ours:.3f} ms per invoice ({best[name]:.2f} s − {best['one']:.2f} s): "
              f"{saxon / ours:.1f}× faster than the official XSLT; CPU {cpu:.3f} ms per invoice, all processes "
              f"({saxon_cpu / cpu:.1f}× less than the XSLT's)")


def report_large(path: Path, runs: int) -> None:
    env = _env()
    argv = aiguillage("evaluate", "--ruleset", "en16931", "--format", "jsonl", str(path))
    run_process(argv, env)
    took, rss, cpu = best_process(argv, runs, env)
    saxon, saxon_rss, saxon_cpu = best_process(saxon_argv([path]), 1)
    print(f"large invoice {path.name} ({path.stat().st_size / 1e6:.1f} MB), whole processes ({_PYC_NOTE})")
    print(f"  ours:  {took:.2f} s, CPU {cpu:.2f} s, {rss:.0f} MB peak   (goal ≤ 1 s, ≤ 250 MB)")
    print(f"  official XSLT in Saxon-HE: {saxon:.2f} s, CPU {saxon_cpu:.2f} s, {saxon_rss:.0f} MB peak ({saxon / took:.1f}× our time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="whole processes per figure; the best is kept")
    parser.add_argument(
        "--files", type=int, default=3900,
        help="invoices for the per-invoice figure (default 3,900, the batch of the issue's first figure: "
        "with --jobs, each forked worker's fixed cost, ≈ 15 ms, is spread as a month-end batch spreads it)",
    )
    parser.add_argument("--large", type=Path, help="a large invoice (default: generated with 20,000 lines)")
    parser.add_argument("--only", default="start,invoice,large", help="comma-separated: start, invoice, large")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if "start" in parts:
        report_start(args.runs)
    if "invoice" in parts:
        report_invoice(args.files, args.runs)
    if "large" in parts:
        path = args.large
        if path is None:
            from make_large_invoice import generate

            path = Path(tempfile.gettempdir()) / "aiguillage-large-20000.xml"
            if not path.exists():
                path.write_bytes(generate(20_000))
        report_large(path, max(1, args.runs // 2))


if __name__ == "__main__":
    main()
