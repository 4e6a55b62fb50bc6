"""`aiguillage conformance --ruleset fr-ctc --oracle BR-FR-…-UBL.xslt --oracle BR-FR-…-CII.xslt FILES…`:
the French artefacts as the integrator's oracle, on samples/fr and on mutated variants of it.

The BR-FR artefacts know only BR-FR ids; fr-ctc also runs EN 16931, whose findings the artefact
cannot judge, so only the ids the stylesheet has are compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fr_mutator import MUTATIONS, mutate
from fr_oracle import br_fr_xslt

from aiguillage.cli.main import main
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import load
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice, read_invoice_file, write_invoice
from aiguillage.testing.oracle import Oracle

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "fr"
BASE = SAMPLES / "fr-goods-B1-ubl.xml"
#: a few changes that fire BR-FR rules, and one ("negative price") that fires an EN 16931 rule too
CHOSEN = ["number too long", "number with a space", "issue date in 1999", "type 262 without contract",
          "type 384 without reference", "negative price", "rate 3 decimals", "price 7 decimals"]


def _variants(folder: Path) -> list[Path]:
    doc = read_invoice_file(BASE).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
    out = []
    for number, name in enumerate(CHOSEN):
        assert name in MUTATIONS
        mutated = mutate(doc, name)
        assert mutated is not None, name
        for syntax in ("ubl", "cii"):
            path = folder / f"variant-{number:02d}-{syntax}.xml"
            path.write_bytes(write_invoice(Invoice.model_validate(mutated), syntax))
            out.append(path)
    return out


def _oracles(conformance: Path) -> list[str]:
    return ["--oracle", str(br_fr_xslt(conformance, "ubl")), "--oracle", str(br_fr_xslt(conformance, "cii"))]


@pytest.mark.conformance
def test_fr_ctc_agrees_with_the_br_fr_artefacts_on_samples_and_variants(
    conformance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variants = _variants(tmp_path)
    samples = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".xml", ".pdf"))
    code = main(["conformance", "--ruleset", "fr-ctc", *_oracles(conformance), str(SAMPLES), *map(str, variants)])
    captured = capsys.readouterr()
    total = len(samples) + len(variants)
    assert captured.out.strip().splitlines() == [f"differential: {total} documents, {total} agree, 0 differ (100.0%)"]
    assert code == 0
    assert "compared with BR-FR-Flux2-Schematron-UBL.xslt" in captured.err
    # the comparison is not empty: the variants fire BR-FR rules, and EN 16931 rules the artefact cannot judge
    fired = {f.rule for p in variants for f in evaluate(read_invoice(p.read_bytes()), load("fr-ctc")).findings}
    assert any(r.startswith("BR-FR") for r in fired)
    assert any(not r.startswith("BR-FR") for r in fired)


@pytest.mark.conformance
def test_the_br_fr_artefact_knows_only_br_fr_ids(conformance: Path) -> None:
    for syntax in ("ubl", "cii"):
        ids = Oracle(br_fr_xslt(conformance, syntax)).rule_ids
        assert len(ids) > 100 and all(i.startswith("BR-FR") for i in ids)


@pytest.mark.conformance
def test_a_ruleset_without_the_br_fr_rules_differs(conformance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variants = _variants(tmp_path)
    code = main(["conformance", "--ruleset", "en16931", *_oracles(conformance), *map(str, variants)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert "official only: BR-FR-" in "\n".join(lines[:-1])
    assert lines[-1].startswith(f"differential: {len(variants)} documents, ") and "(100.0%)" not in lines[-1]


@pytest.mark.conformance
def test_a_document_of_a_syntax_no_stylesheet_reads_is_a_difference(conformance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "--ruleset", "fr-ctc", "--oracle", str(br_fr_xslt(conformance, "ubl")),
                 str(SAMPLES / "fr-goods-B1-cii.xml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "reads this syntax; add --oracle for it" in out
