"""A Schematron source compiled by aiguillage.testing.schematron judges as its publisher's own compiled XSLT.

The French BR-FR artefacts ship both (`fr/{ubl,cii}/BR-FR-Flux2-Schematron-*.sch` and
`.xslt`): on mutated variants of the French samples, the stylesheet compiled here
from the `.sch` and the published one must give the same verdict, ids and flags,
and stop on the same documents. This is what makes the compiled Peppol Schematron
(which Peppol publishes only as `.sch`) a trustworthy oracle.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, conformance_dir

from aiguillage.testing.mutations import Mutator
from aiguillage.testing.oracle import Oracle
from aiguillage.testing.schematron import compile_schematron, is_schematron

VARIANTS = 150


@pytest.mark.conformance
@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_a_compiled_schematron_judges_as_the_published_xslt(syntax: str, tmp_path: Path) -> None:
    folder = conformance_dir() / "fr" / syntax
    compiled = Oracle(folder / f"BR-FR-Flux2-Schematron-{syntax.upper()}.sch", cache=tmp_path)
    published = Oracle(folder / f"BR-FR-Flux2-Schematron-{syntax.upper()}.xslt", cache=tmp_path)
    assert compiled.rule_ids == published.rule_ids
    samples = [(p.name, p.read_bytes()) for p in sorted((REPO / "samples" / "fr").glob("*.xml"))]
    samples = [(name, xml) for name, xml in samples if compiled.reads(xml)]
    assert len(samples) >= 5
    different = []
    fired = 0
    for variant in Mutator(syntax).variants(samples, VARIANTS, seed=0):
        ours, theirs = compiled.judge(variant.xml), published.judge(variant.xml)
        fired += bool(theirs.fired)
        if ours.fired != theirs.fired or (ours.error is None) != (theirs.error is None):
            different.append(
                f"{variant.name} [{variant.description}]: {sorted(ours.fired ^ theirs.fired)}"
            )
    assert fired > VARIANTS // 10, (
        "too few variants make the BR-FR rules fire to tell the two apart"
    )
    assert not different, "\n".join(different[:20])


def test_only_a_schematron_is_compiled(tmp_path: Path) -> None:
    stylesheet = tmp_path / "plain.xslt"
    stylesheet.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>'
    )
    assert not is_schematron(stylesheet)
    with pytest.raises(ValueError, match="not an ISO Schematron schema"):
        compile_schematron(stylesheet, tmp_path)
