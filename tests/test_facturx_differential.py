"""Differential tests: the factur-x-* rulesets against the official Factur-X 1.09 artefacts.

Every valid EN 16931 CII example and the project's CII samples are made into
invoices of each profile (aiguillage.testing.facturx_variants: BT-24 set, what
the profile does not carry dropped), then mutated deterministically
(aiguillage.testing.mutations, a few hundred variants per profile); each variant
is judged by the profile's artefact in Saxon-HE and by the profile's ruleset,
chosen by `factur-x` from BT-24 as in production. They must fire the same
(rule id, flag) on every id both have: the bracketed ids, and the structure
asserts written as families (FX-SCH-A-* serials and FX-U-* ids,
aiguillage.testing.facturx_families; the others are not rules of ours yet:
docs/facturx.md). Besides the mutations of aiguillage.testing.mutations, a
variant may add an element or attribute the profile's artefact reports as not
used. Accepted
differences are listed with their reasons in tests/facturx_known.yaml, per
profile; an entry nothing needs any more fails too, so the list only shrinks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, agreement, conformance_dir

from aiguillage.engine.loader import library
from aiguillage.testing import known_differences
from aiguillage.testing.differential import compare
from aiguillage.testing.facturx_families import insertions
from aiguillage.testing.facturx_oracle import GUIDELINES, FacturXOracle, stylesheet
from aiguillage.testing.facturx_variants import as_profile
from aiguillage.testing.known_differences import unexplained
from aiguillage.testing.mutations import Mutator

VARIANTS = int(os.environ.get("AIGUILLAGE_FX_VARIANTS", "300"))
SEED = int(os.environ.get("AIGUILLAGE_DIFF_SEED", "0"))
KNOWN = REPO / "tests" / "facturx_known.yaml"
#: The project's own CII samples in the differential, named (a new one re-deals every variant).
SAMPLES = (
    "fr-credit-note-381-cii.xml",
    "fr-down-payment-386-cii.xml",
    "fr-exempt-VATEX-cii.xml",
    "fr-goods-B1-cii.xml",
    "fr-self-billing-389-cii.xml",
    "fr-services-S1-cii.xml",
)


def documents(profile: str) -> list[tuple[str, bytes]]:
    paths = sorted((conformance_dir() / "en16931" / "cii-examples").glob("*.xml"))
    paths += [REPO / "samples" / "fr" / name for name in SAMPLES]
    return [(path.name, as_profile(path.read_bytes(), profile)) for path in paths]


def known_entries() -> dict[str, list[dict[str, str]]]:
    data = known_differences.load(KNOWN)
    assert set(data) <= set(GUIDELINES), f"{KNOWN}: unknown profile in {sorted(data)}"
    return data


@pytest.mark.conformance
@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_mutated_profile_invoices_get_the_official_verdict(
    profile: str, oracle_cache: Path, record_property: Any
) -> None:
    chooser = library().compiled("factur-x")
    compiled = chooser.profiles[GUIDELINES[profile]]
    ours = {m.id for unit in compiled.units for m in unit.metas if m.kind == "validate"}
    artefact = stylesheet(profile, conformance_dir())
    oracle = FacturXOracle(artefact, cache=oracle_cache)
    oracle.scope = oracle.rule_ids & ours
    entries = known_entries().get(profile, [])
    used: set[int] = set()
    failures: list[str] = []
    total = agree = stopped = 0
    docs = documents(profile)
    for name, xml in docs:  # the profile invoices themselves hold
        comparison = compare(name, xml, oracle, chooser, oracle.scope)
        assert not unexplained(comparison, entries, used), comparison.describe()
    for variant in Mutator("cii", insertions=insertions(str(artefact))).variants(
        docs, VARIANTS, SEED
    ):
        comparison = compare(variant.name, variant.xml, oracle, chooser, oracle.scope)
        total += 1
        agree += comparison.agrees
        stopped += comparison.official.error is not None
        left = unexplained(comparison, entries, used)
        if left:
            failures.append(f"{variant.name} [{variant.description}]: " + "; ".join(left))
    assert total >= VARIANTS * 0.99, f"only {total} variants were made"
    summary = agreement(f"factur-x {profile}", total, agree, stopped) + f", on {len(oracle.scope)} ids"
    record_property("agreement", summary)
    assert not failures, summary + f", {len(failures)} unexplained:\n" + "\n".join(failures[:40])
    stale = known_differences.stale(entries, used)
    if VARIANTS >= 300 and SEED == 0:
        assert not stale, f"{summary}; entries of {KNOWN.name} nothing needs any more: {stale}"


@pytest.mark.conformance
@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_the_comparison_covers_the_profile_rules(profile: str) -> None:
    """Most of the artefact's named rules are compared (a scope that shrank would hide differences)."""
    compiled = library().compiled("factur-x").profiles[GUIDELINES[profile]]
    ours = {m.id for unit in compiled.units for m in unit.metas if m.kind == "validate"}
    named = {
        i
        for i in FacturXOracle(stylesheet(profile, conformance_dir())).rule_ids
        if not i.startswith(("FX-SCH", "FX-U"))
    }
    assert len(named & ours) >= 0.6 * len(named), sorted(named - ours)
