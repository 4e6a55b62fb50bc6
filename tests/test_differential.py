"""Differential tests: our en16931 ruleset against the official EN 16931 XSLTs, on mutated invoices.

Every valid example (EN 16931 and Peppol, UBL and CII, and the project's own
samples) is mutated deterministically (aiguillage.testing.mutations) into
2,000 variants per syntax; each variant is judged by the official artefact
in Saxon-HE and by our ruleset, and the sets of fired (rule id, flag) must be
equal. The only accepted differences are listed, with their reasons, in
tests/differential_known.yaml; a listed entry nothing needs any more fails
too, so the list only shrinks.

The artefact's verdicts are cached per session in pytest's shared base
temporary folder, so xdist workers run each variant's XSLT once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, agreement, conformance_dir

from aiguillage.cli.main import main
from aiguillage.engine.loader import library
from aiguillage.testing import known_differences
from aiguillage.testing.differential import Comparison, compare
from aiguillage.testing.known_differences import unexplained
from aiguillage.testing.mutations import Mutator
from aiguillage.testing.oracle import Oracle

VARIANTS = int(os.environ.get("AIGUILLAGE_DIFF_VARIANTS", "2000"))
SEED = int(os.environ.get("AIGUILLAGE_DIFF_SEED", "0"))
KNOWN = REPO / "tests" / "differential_known.yaml"
STYLESHEETS = {"ubl": "EN16931-UBL-validation.xslt", "cii": "EN16931-CII-validation.xslt"}


#: The project's own samples in the differential. Named, not globbed: variants are dealt round-robin
#: over the documents from one seed, so a new document re-deals every variant and the known list
#: (tests/differential_known.yaml) must be refreshed in the same change that adds it here.
DIFFERENTIAL_SAMPLES = ("atelier-lumiere-F2026-0120-distrilux.xml", "imprimerie-mosane-2026-0318-liege.xml")


def documents(syntax: str) -> list[tuple[str, bytes]]:
    """The valid examples of one syntax (the 3 MB one with an attachment left out: it adds time, not cases)."""
    base = conformance_dir()
    if syntax == "ubl":
        paths = sorted((base / "en16931" / "ubl-examples").iterdir()) + sorted((base / "peppol" / "examples").glob("*.xml"))
    else:
        paths = sorted((base / "en16931" / "cii-examples").glob("*.xml"))
    paths += [REPO / "samples" / name for name in DIFFERENTIAL_SAMPLES]
    found = []
    for path in paths:
        data = path.read_bytes()
        is_cii = b"CrossIndustryInvoice" in data[:2000]
        if (syntax == "cii") == is_cii and len(data) < 500_000:
            found.append((path.name, data))
    return found


def known_entries() -> dict[str, list[dict[str, str]]]:
    return known_differences.load(KNOWN)


def run(syntax: str, cache: Path) -> Iterator[tuple[Any, Comparison]]:
    stylesheet = conformance_dir() / "en16931" / "xslt" / STYLESHEETS[syntax]
    oracle = Oracle(stylesheet, cache=cache)
    compiled = library().compiled("en16931")
    mutator = Mutator(syntax, stylesheet)
    for variant in mutator.variants(documents(syntax), VARIANTS, SEED):
        yield variant, compare(variant.name, variant.xml, oracle, compiled)


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_mutated_invoices_get_the_official_verdict(syntax: str, oracle_cache: Path, record_property: Any) -> None:
    entries = known_entries().get(syntax, [])
    used: set[int] = set()
    failures: list[str] = []
    total = agree = stopped = 0
    for variant, comparison in run(syntax, oracle_cache):
        total += 1
        agree += comparison.agrees
        stopped += comparison.official.error is not None
        left = unexplained(comparison, entries, used)
        if left:
            failures.append(f"{variant.name} [{variant.description}]: " + "; ".join(left))
    assert total >= VARIANTS * 0.99, f"only {total} variants were made"
    stale = known_differences.stale(entries, used)
    summary = agreement(f"en16931 {syntax}", total, agree, stopped)
    record_property("agreement", summary)
    assert not failures, summary + f", {len(failures)} unexplained:\n" + "\n".join(failures[:40])
    if VARIANTS >= 2000 and SEED == 0:
        assert not stale, f"{summary}; entries of {KNOWN.name} nothing needs any more: {stale}"


def test_mutations_are_deterministic() -> None:
    stylesheet = conformance_dir() / "en16931" / "xslt" / STYLESHEETS["cii"]
    docs = documents("cii")[:3]
    first = [(v.kind, v.description, v.xml) for v in Mutator("cii", stylesheet).variants(docs, 40, seed=7)]
    again = [(v.kind, v.description, v.xml) for v in Mutator("cii", stylesheet).variants(docs, 40, seed=7)]
    other = [(v.kind, v.description, v.xml) for v in Mutator("cii", stylesheet).variants(docs, 40, seed=8)]
    assert first == again
    assert first != other
    assert {kind for kind, _, _ in first} == {"delete", "duplicate", "amount", "code", "date", "attribute", "unused", "swap"}


def test_cli_oracle_prints_differences_then_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = conformance_dir()
    good = base / "en16931" / "cii-examples" / "CII_example1.xml"
    broken = tmp_path / "no-issue-date.xml"
    # BR-03 in CII: an issue date without format="102" is no date for the artefact.
    broken.write_bytes(good.read_bytes().replace(b'format="102"', b'format="610"', 1))
    stylesheet = base / "en16931" / "xslt" / STYLESHEETS["cii"]
    code = main(["conformance", "--oracle", str(stylesheet), str(good), str(broken)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("differential: 2 documents, ")
    agreeing = int(lines[-1].split(", ")[1].split()[0])
    assert code == (0 if agreeing == 2 else 1)
    assert len(lines) - 1 == 2 - agreeing
    assert all(line.startswith(str(broken)) for line in lines[:-1])
