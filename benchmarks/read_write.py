"""Read and write throughput per syntax on the conformance examples, next to bare lxml parsing.

Run: `python benchmarks/read_write.py [--repeat N] [--per-file] [--large PATH]`. For each
syntax in `SYNTAXES` it reports, per example invoice (best round, in µs): bare
lxml parsing of the bytes (`etree.fromstring`, default parser), our read
(hardened parse included), the ratio of the two, and our write. Rounds of the
three alternate, so that drift in machine speed hits them alike. Add a
syntax by adding a `Syntax` entry. The examples come from
`AIGUILLAGE_CONFORMANCE` or `../shared/conformance`.

`--large PATH` reads one large invoice (`make_large_invoice.py`) in each way
listed in `LARGE_READERS`, each in a fresh process so that its peak RSS is
its own, and reports wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiguillage.model.xmlsafe import parse_xml  # noqa: E402

#: Documents bigger than this are left out of the per-invoice figures (the 3 MB attachment example).
TYPICAL_MAX_BYTES = 200_000


@dataclass(frozen=True)
class Syntax:
    """One syntax to measure: where its examples are and how to read and write it."""

    name: str
    folders: tuple[str, ...]
    read: Callable[[bytes], object]
    write: Callable[[object], bytes]


def _ubl_read(data: bytes) -> object:
    from aiguillage.model.ubl import read_ubl

    return read_ubl(parse_xml(data), size=len(data))


def _ubl_write(invoice: object) -> bytes:
    from aiguillage.model.ubl import write_ubl

    return write_ubl(invoice)  # type: ignore[arg-type]


def _cii_read(data: bytes) -> object:
    from aiguillage.model.cii import read_cii

    return read_cii(parse_xml(data), size=len(data))


def _cii_write(invoice: object) -> bytes:
    from aiguillage.model.cii import write_cii

    return write_cii(invoice)  # type: ignore[arg-type]


#: One entry per syntax.
SYNTAXES = [
    Syntax("ubl", ("en16931/ubl-examples", "peppol/examples"), _ubl_read, _ubl_write),
    Syntax("cii", ("en16931/cii-examples",), _cii_read, _cii_write),
]


def conformance_dir() -> Path:
    configured = os.environ.get("AIGUILLAGE_CONFORMANCE")
    return Path(configured) if configured else REPO.parent / "shared" / "conformance"


def example_paths(syntax: Syntax) -> list[Path]:
    base = conformance_dir()
    files = sorted(p for folder in syntax.folders for p in (base / folder).glob("*") if p.is_file())
    return [p for p in files if p.stat().st_size <= TYPICAL_MAX_BYTES]


def examples(syntax: Syntax) -> list[bytes]:
    return [p.read_bytes() for p in example_paths(syntax)]


def best_us(fns: list[Callable[[object], object]], items: list[list], repeat: int) -> list[float]:
    """µs per item for each function: the best of seven alternating rounds."""
    best = [float("inf")] * len(fns)
    for _ in range(7):
        for index, (fn, docs) in enumerate(zip(fns, items, strict=True)):
            start = time.perf_counter()
            for _ in range(repeat):
                for doc in docs:
                    fn(doc)
            best[index] = min(best[index], (time.perf_counter() - start) / repeat / len(docs))
    return [b * 1e6 for b in best]


def report(syntax: Syntax, repeat: int) -> None:
    docs = examples(syntax)
    if not docs:
        print(f"{syntax.name}: no examples found under {conformance_dir()}")
        return
    invoices = [syntax.read(d) for d in docs]
    gc.collect()
    gc.freeze()  # the setup's objects are not the measured code's garbage to scan
    parse, read, write = best_us([etree.fromstring, syntax.read, syntax.write], [docs, docs, invoices], repeat)
    size = statistics.mean(len(d) for d in docs) / 1024
    print(f"{syntax.name}: {len(docs)} examples, mean {size:.1f} KB")
    print(f"  lxml parse   {parse:8.1f} µs/invoice  (bare etree.fromstring)")
    print(f"  read (model) {read:8.1f} µs/invoice  = {read / parse:.2f}x lxml parse  ({1e6 / read:,.0f} invoices/s)")
    print(f"  write        {write:8.1f} µs/invoice  ({1e6 / write:,.0f} invoices/s)")


def report_per_file(syntax: Syntax, repeat: int) -> None:
    """The same figures for each example on its own."""
    print(f"{syntax.name}: {'example':45s} {'KB':>6s} {'parse µs':>9s} {'read µs':>8s} {'ratio':>6s} {'write µs':>9s}")
    for path in example_paths(syntax):
        data = path.read_bytes()
        invoice = syntax.read(data)
        parse, read, write = best_us([etree.fromstring, syntax.read, syntax.write], [[data], [data], [invoice]], repeat)
        print(f"{'':{len(syntax.name) + 2}s}{path.name[:45]:45s} {len(data) / 1024:6.1f} {parse:9.1f} {read:8.1f} {read / parse:6.2f} {write:9.1f}")


def _ubl_read_tree(data: bytes) -> object:
    from aiguillage.model.ubl import read_ubl

    return read_ubl(parse_xml(data), size=len(data))


def _ubl_read_stream(data: bytes) -> object:
    from aiguillage.model.ubl import read_ubl_bytes

    return read_ubl_bytes(data)


#: Ways to read a large invoice: the whole tree then the model, or streaming (iterparse).
LARGE_READERS: dict[str, Callable[[bytes], object]] = {
    "ubl tree": _ubl_read_tree,
    "ubl stream": _ubl_read_stream,
}


def report_large(path: Path) -> None:
    """Each large reader in a fresh process: its own wall time and peak RSS."""
    for name in LARGE_READERS:
        subprocess.run([sys.executable, __file__, "--large", str(path), "--reader", name], check=True)


def measure_large(path: Path, name: str) -> None:
    data = path.read_bytes()
    import aiguillage.model.ubl  # noqa: F401  (imports are not part of the read)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    invoice = LARGE_READERS[name](data)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = len(getattr(invoice, "lines", []))
    facts = len(getattr(invoice, "syntax_facts", []))
    print(
        f"{name:11s} {path.name}: {len(data) / 1e6:.1f} MB, {lines:,} lines, {facts:,} facts: "
        f"read {took * 1000:.0f} ms (parse included), peak RSS {peak:.0f} MB (before reading {before:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="passes over the examples per round")
    parser.add_argument("--large", type=Path, help="read this large invoice instead (see make_large_invoice.py)")
    parser.add_argument("--per-file", action="store_true", help="also report each example on its own")
    parser.add_argument("--reader", choices=sorted(LARGE_READERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large and args.reader:
        measure_large(args.large, args.reader)
        return
    if args.large:
        report_large(args.large)
        return
    for syntax in SYNTAXES:
        report(syntax, args.repeat)
        if args.per_file:
            report_per_file(syntax, args.repeat)


if __name__ == "__main__":
    main()
