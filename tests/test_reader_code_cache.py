"""The UBL reader's generated code is compiled once per content: later processes load it from the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aiguillage import cache as disk_cache

REPO = Path(__file__).resolve().parents[1]
INVOICE = REPO / "samples" / "imprimerie-mosane-2026-0318-liege.xml"  # UBL

#: Imports the reader in a fresh interpreter, reads one invoice, and tells what the cache did.
_SCRIPT = f"""
import builtins, json
compiled = []
real_compile = builtins.compile
def counting(source, filename, *args, **kwargs):
    if str(filename).startswith("<ubl reader"):
        compiled.append(filename)
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = counting
from aiguillage import cache
from aiguillage.model.syntaxes import read_invoice_file
invoice = read_invoice_file({str(INVOICE)!r})
print(json.dumps({{"compiled": len(compiled), "hits": cache.STATS.hits, "writes": cache.STATS.writes,
                  "damaged": cache.STATS.damaged, "invoice": invoice.model_dump(mode="json")}}))
"""


def _run(cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), disk_cache.ENV_VAR: str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_second_process_compiles_no_reader_code_and_reads_the_same(tmp_path: Path) -> None:
    cold = _run(tmp_path / "cache")
    assert cold["compiled"] > 100 and cold["writes"] >= 1
    assert [p.parent.name for p in (tmp_path / "cache").rglob("*.pickle")] == ["reader"]
    warm = _run(tmp_path / "cache")
    assert warm["compiled"] == 0 and warm["hits"] == 1 and warm["writes"] == 0
    assert warm["invoice"] == cold["invoice"]


def test_a_damaged_entry_is_compiled_again_and_rewritten(tmp_path: Path) -> None:
    cold = _run(tmp_path / "cache")
    (entry,) = (tmp_path / "cache").rglob("*.pickle")
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    damaged = _run(tmp_path / "cache")
    assert (
        damaged["damaged"] == 1
        and damaged["compiled"] == cold["compiled"]
        and damaged["writes"] >= 1
    )
    assert damaged["invoice"] == cold["invoice"]
    assert _run(tmp_path / "cache")["compiled"] == 0


def test_without_a_cache_the_reader_compiles_and_reads_the_same(tmp_path: Path) -> None:
    cold = _run(tmp_path / "cache")
    off = _run("off")  # type: ignore[arg-type]
    assert off["compiled"] == cold["compiled"] and off["writes"] == 0
    assert off["invoice"] == cold["invoice"]
