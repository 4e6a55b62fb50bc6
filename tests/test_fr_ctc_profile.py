"""fr-ctc-extended chosen by BT-24: one customer ruleset extending "fr-ctc" judges EN 16931 French
invoices with fr-ctc and EXTENDED-CTC-FR invoices with fr-ctc-extended in fr-ctc's place
(`profile "…extended-ctc-fr" uses "fr-ctc-extended"` in fr-ctc.rules).

The judge is the official artefact of the profile the invoice declares: the EN 16931 XSLT for an
EN 16931 invoice, the EXTENDED-CTC-FR XSLT for an extended one, on the ids the profile changes.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from fr_oracle import br_fr_xslt, en16931_xslt, failed_asserts
from test_fr_ctc_extended import EXTENDED_ID, VARIANTS, judged_ids

from aiguillage.dsl.formatter import format_text
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import load
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice, read_invoice_file, write_invoice

REPO = Path(__file__).resolve().parents[1]
CUSTOMER = "quincaillerie-martin"  # extends "fr-ctc", not "fr-ctc-extended"
SAMPLE = REPO / "samples" / "fr" / "fr-quincaillerie-martin-B1-ubl.xml"
EN16931_ID = "urn:cen.eu:en16931:2017"
CHOSEN = sorted(["as written", "two VAT breakdowns of one category", "a negative gross price",
                 "an attribute without value", "a line without unit", "a line in category E without E breakdown"])


def _sample(specification: str, variant: str) -> Invoice:
    doc = read_invoice_file(SAMPLE).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
    doc["process_control"]["specification_identifier"] = specification
    doc = copy.deepcopy(doc)
    VARIANTS[variant](doc)
    return Invoice.model_validate(doc)


def test_the_customer_ruleset_has_the_extended_profile() -> None:
    compiled = load(CUSTOMER)
    assert [n for n, _ in compiled.rulesets] == ["en16931", "fr-ctc", CUSTOMER]
    variant = compiled.profiles[EXTENDED_ID]
    assert [n for n, _ in variant.rulesets] == ["en16931", "fr-ctc", "fr-ctc-extended", CUSTOMER]
    assert variant.profile == EXTENDED_ID and variant.route_unit is not None and variant.route_unit.name == CUSTOMER
    # a ruleset that already extends fr-ctc-extended has no profile left to choose
    assert load("fr-ctc-extended").profiles == {}


def test_the_profile_is_chosen_by_bt24_only() -> None:
    compiled = load(CUSTOMER)
    extended = evaluate(_sample(f"  {EXTENDED_ID} ", "a negative gross price"), compiled)
    plain = evaluate(_sample(EN16931_ID, "a negative gross price"), compiled)
    assert "fr-ctc-extended" in [r.name for r in extended.rulesets]
    assert "fr-ctc-extended" not in [r.name for r in plain.rulesets]
    assert "BR-28" in {f.rule for f in plain.findings}
    assert "BR-28" not in {f.rule for f in extended.findings}
    # the customer's own route still decides (a clean invoice of either profile goes the same way)
    clean = [evaluate(_sample(spec, "as written"), compiled) for spec in (EXTENDED_ID, EN16931_ID)]
    assert clean[0].routes and [r.channel for r in clean[0].routes] == [r.channel for r in clean[1].routes]


@pytest.mark.conformance
@pytest.mark.parametrize("variant", CHOSEN)
def test_one_customer_ruleset_agrees_with_the_artefact_of_each_profile(conformance: Path, variant: str) -> None:
    compiled = load(CUSTOMER)
    judged = judged_ids()
    for syntax in ("ubl", "cii"):
        xml = write_invoice(_sample(EXTENDED_ID, variant), syntax)
        official = {r: f for r, f in failed_asserts(xml, br_fr_xslt(conformance, syntax, extended=True)).items() if r in judged}
        ours = {f.rule: f.severity for f in evaluate(read_invoice(xml), compiled).findings if f.rule in judged}
        assert ours == official, f"extended, {syntax}: official {official}, {CUSTOMER} {ours}"

        xml = write_invoice(_sample(EN16931_ID, variant), syntax)
        official_ids = {r for r in failed_asserts(xml, en16931_xslt(conformance, syntax)) if r in judged}
        our_ids = {f.rule for f in evaluate(read_invoice(xml), compiled).findings if f.rule in judged}
        assert our_ids == official_ids, f"EN 16931, {syntax}: official {official_ids}, {CUSTOMER} {our_ids}"


def test_a_profile_line_formats_and_a_repeated_one_is_refused(tmp_path: Path) -> None:
    from aiguillage.dsl.diagnostics import RulesError
    from aiguillage.engine.loader import Library

    text = 'ruleset "x" version 1\nprofile "urn:a" uses "y"\nprofile "urn:a" uses "z"\n'
    assert 'profile "urn:a" uses "y"' in format_text(text)
    (tmp_path / "standard").mkdir()
    (tmp_path / "standard" / "x.rules").write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match='profile "urn:a" is given twice'):
        Library(tmp_path).program("x")


def test_a_profile_ruleset_must_extend_the_ruleset_naming_it(tmp_path: Path) -> None:
    from aiguillage.engine.loader import Library

    (tmp_path / "standard").mkdir()
    (tmp_path / "standard" / "x.rules").write_text('ruleset "x" version 1\nprofile "urn:a" uses "y"\n', encoding="utf-8")
    (tmp_path / "standard" / "y.rules").write_text('ruleset "y" version 1\n', encoding="utf-8")
    with pytest.raises(LookupError, match='profile ruleset "y" must extend "x"'):
        Library(tmp_path).compiled("x")


def test_a_stored_customer_ruleset_extending_fr_ctc_gets_the_profile() -> None:
    from aiguillage.engine.stored import StoredRulesets
    from aiguillage.store.hashing import sha256_hex

    text = 'ruleset "dupont"\nextends "fr-ctc"\n\nroute\n  otherwise -> peppol\n'
    compiled = StoredRulesets().compiled("dupont", text, sha256_hex(text))
    assert [n for n, _ in compiled.profiles[EXTENDED_ID].rulesets] == ["en16931", "fr-ctc", "fr-ctc-extended", "dupont"]
    extended = evaluate(_sample(EXTENDED_ID, "a negative gross price"), compiled)
    plain = evaluate(_sample(EN16931_ID, "a negative gross price"), compiled)
    assert "BR-28" in {f.rule for f in plain.findings} and "BR-28" not in {f.rule for f in extended.findings}
