"""The Factur-X profiles' structure families (rulesets/standard/factur-x/*-structure.rules).

The generated files must be what aiguillage.testing.facturx_families makes of the
artefacts and the reader today; every member must be an id the oracle can report
(the generator and the oracle name an assert alike); and on a profile invoice given
one element or attribute the profile does not use, or one element twice where it
allows one, our verdict and the artefact's (Saxon-HE) must name the same structure ids.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import REPO, conformance_dir
from lxml import etree

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice
from aiguillage.testing.facturx_codes import code_checks
from aiguillage.testing.facturx_families import (
    FILES,
    collect,
    insertions,
    model_term,
    presence,
    recorded,
    render,
)
from aiguillage.testing.facturx_oracle import (
    GUIDELINES,
    RULESETS,
    FacturXOracle,
    stylesheet,
    unnamed_id,
)
from aiguillage.testing.facturx_variants import as_profile

STANDARD = REPO / "rulesets" / "standard"
STRUCTURE = re.compile(r"^FX-(U|SCH-A)-")
EXAMPLE = "CII_example1.xml"
NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


def written(profile: str) -> dict[str, list[str]]:
    """Member id -> keys, as generated for the profile."""
    path = str(stylesheet(profile, conformance_dir()))
    families, _ = collect(path)
    found: dict[str, list[str]] = {}
    for (kind, *_), members in families.items():
        for rule, keys in members.items():
            found.setdefault(rule, []).extend(f"{kind}:{k}" for k in keys)
    for item, term in presence(path):
        found.setdefault(item.rule, []).append(f"presence:{term}")
    for rule, checks in code_checks(path)[0].items():
        found.setdefault(rule, []).extend(f"code:{c.term}" for c in checks)
    return found


@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_generated_structure_files_are_up_to_date(profile: str) -> None:
    path = STANDARD / FILES[profile]
    assert path.read_text(encoding="utf-8") == render(profile, conformance_dir()), (
        f"regenerate: python3 -m aiguillage.testing.facturx_families {profile} > {path}"
    )


@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_every_member_is_an_id_the_artefact_reports(profile: str) -> None:
    ids = FacturXOracle(stylesheet(profile, conformance_dir())).rule_ids
    members = written(profile)
    assert members, profile
    assert set(members) <= ids, sorted(set(members) - ids)


def test_unnamed_ids_digest_context_and_test() -> None:
    a = unnamed_id("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID", "@schemeID")
    assert re.fullmatch(r"FX-U-[0-9a-f]{8}", a)
    assert a == unnamed_id(" /rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID ", "@schemeID")
    assert a != unnamed_id("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID", "@schemeName")


def test_a_member_needs_the_fact_where_the_artefact_looks() -> None:
    """The reader records a currencyID on the grand total, not on the VAT total (BT-110 has
    one); a second seller name, but not a name in each of two sellers."""
    summation = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert recorded("attribute", f"{summation}/ram:GrandTotalAmount/@currencyID")
    assert not recorded("attribute", f"{summation}/ram:TaxTotalAmount/@currencyID")
    seller = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"
    )
    assert recorded("count", f"{seller}/ram:Name")
    buyer = seller.replace("SellerTradeParty", "BuyerTradeParty")
    assert model_term(f"{buyer}/ram:PostalTradeAddress") == "buyer.postal_address"
    assert model_term(f"{buyer}/ram:SpecifiedTaxRegistration") is None  # only its ram:ID is read


def _structure_ids(
    oracle: FacturXOracle, xml: bytes, ours_ids: set[str], ruleset: str = "factur-x"
) -> tuple[set[str] | None, set[str]]:
    """The structure ids the artefact and our ruleset (by default the one BT-24 chooses) fire."""
    official = oracle.judge(xml)
    if official.error is not None:
        return None, set()
    chooser = library().compiled(ruleset)
    theirs = {rule for rule, _ in official.fired if rule in ours_ids}
    ours = {
        f.rule for f in evaluate(read_invoice(xml), chooser).findings if STRUCTURE.match(f.rule)
    }
    return theirs, ours


@pytest.mark.conformance
@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_each_written_insertion_gets_the_official_verdict(profile: str, oracle_cache: Path) -> None:
    """Every not-used element or attribute written as a member, added where the artefact looks
    for it in a profile invoice (when the invoice has that place), and every count member's
    element given twice there."""
    artefact = stylesheet(profile, conformance_dir())
    oracle = FacturXOracle(artefact, cache=oracle_cache)
    members = written(profile)
    xml = as_profile(
        (conformance_dir() / "en16931" / "cii-examples" / EXAMPLE).read_bytes(), profile
    )
    root = etree.fromstring(xml)
    checked = 0
    changes: list[tuple[str, bytes]] = []
    for insertion in insertions(str(artefact)):
        if insertion.rule not in members:
            continue
        changed = copy.deepcopy(root)
        targets = changed.xpath(insertion.context, namespaces=NAMESPACES)
        if not targets:
            continue
        (step,) = insertion.path
        if step.startswith("@"):
            targets[0].set(step[1:], "X")
        else:
            prefix, _, local = step.partition(":")
            etree.SubElement(targets[0], f"{{{NAMESPACES[prefix]}}}{local}").text = "1"
        changes.append(
            (f"{insertion.rule}: {step} in {insertion.context}", etree.tostring(changed))
        )
    for rule, keys in members.items():
        for key in keys:
            kind, _, path = key.partition(":")
            if kind != "count":
                continue
            changed = copy.deepcopy(root)
            found = changed.xpath("/rsm:CrossIndustryInvoice/" + path, namespaces=NAMESPACES)
            if found:
                found[0].addnext(copy.deepcopy(found[0]))
                changes.append((f"{rule}: {path} twice", etree.tostring(changed)))
    for what, changed_xml in changes:
        theirs, ours = _structure_ids(oracle, changed_xml, set(members))
        if theirs is None:
            continue
        assert ours == theirs, f"{profile}: {what}"
        checked += 1
    assert checked >= 1


def test_the_factur_x_code_lists_are_the_code_databases() -> None:
    build = REPO / "rulesets" / "codelists" / "factur-x" / "build.py"
    spec = importlib.util.spec_from_file_location("facturx_codelists", build)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    contents = module.contents(conformance_dir())
    assert {p.stem for p in build.parent.glob("*.json")} == set(contents), (
        f"regenerate: python {build}"
    )
    for name, content in contents.items():
        written_list = json.loads((build.parent / f"{name}.json").read_text(encoding="utf-8"))
        assert written_list == content, f"regenerate: python {build}"


@pytest.mark.conformance
@pytest.mark.parametrize("profile", list(GUIDELINES))
def test_each_written_code_gets_the_official_verdict(profile: str, oracle_cache: Path) -> None:
    """Every code-value rule, its value made one no list has ("QQ") in a profile invoice
    (where the invoice has the element)."""
    artefact = stylesheet(profile, conformance_dir())
    oracle = FacturXOracle(artefact, cache=oracle_cache)
    written_codes, _ = code_checks(str(artefact))
    members = set(written(profile)) | set(written_codes)
    xml = as_profile(
        (conformance_dir() / "en16931" / "cii-examples" / EXAMPLE).read_bytes(), profile
    )
    root = etree.fromstring(xml)
    checked = 0
    for rule, checks in written_codes.items():
        for check in checks:
            changed = copy.deepcopy(root)
            found = changed.xpath("/rsm:CrossIndustryInvoice/" + check.key, namespaces=NAMESPACES)
            if not found:
                continue
            if check.select == ".":
                found[0].text = "QQ"
            else:
                found[0].set(check.select[1:], "QQ")
            theirs, ours = _structure_ids(  # the profile's own ruleset: BT-24 changes too
                oracle, etree.tostring(changed), members, RULESETS[profile]
            )
            if theirs is None:
                continue
            assert rule in theirs and ours == theirs, f"{profile}: {rule} {check.key}"
            checked += 1
    assert checked >= 1


@pytest.mark.conformance
def test_minimum_judges_its_guideline_and_codes_as_its_artefact(oracle_cache: Path) -> None:
    """The MINIMUM code rules (generated into factur-x/minimum-structure.rules), the profile's
    ruleset used on its own as `--ruleset factur-x-minimum` does: another BT-24, a type
    code, country and currency outside the lists (STD: EN 16931 has it, Factur-X has STN),
    a value with a space before it, an empty currency (not judged)."""
    oracle = FacturXOracle(stylesheet("minimum", conformance_dir()), cache=oracle_cache)
    compiled = library().compiled("factur-x-minimum")
    ids = {m.id for unit in compiled.units for m in unit.metas if STRUCTURE.match(m.id)}
    xml = as_profile(
        (conformance_dir() / "en16931" / "cii-examples" / EXAMPLE).read_bytes(), "minimum"
    )
    changes = [
        (b"urn:factur-x.eu:1p0:minimum", b"urn:factur-x.eu:1p0:basicwl"),
        (b"<ram:TypeCode>380", b"<ram:TypeCode>999"),
        (b"<ram:TypeCode>380", b"<ram:TypeCode> 380"),
        (b"<ram:CountryID>NL", b"<ram:CountryID>XX"),
        (b"<ram:InvoiceCurrencyCode>EUR", b"<ram:InvoiceCurrencyCode>STD"),
        (b"<ram:InvoiceCurrencyCode>EUR", b"<ram:InvoiceCurrencyCode>"),
    ]
    for old, new in changes:
        changed = xml.replace(old, new, 1)
        assert changed != xml, old
        official = oracle.judge(changed)
        assert official.error is None, official.error
        theirs = {rule for rule, _ in official.fired if rule in ids}
        ours = {f.rule for f in evaluate(read_invoice(changed), compiled).findings if f.rule in ids}
        assert ours == theirs, new
        assert theirs or new.endswith(b">"), new
