"""fr-ctc-extended against the official EXTENDED-CTC-FR XSLTs (UBL and CII, FNFE-MPE 1.4.0).

French samples are given the EXTENDED-CTC-FR specification identifier and varied on what the
profile changes from EN 16931; fr-ctc-extended must fire every id, and only the ids, that the
official validation of the profile gives (its EXTENDED-CTC-FR XSLT and the BR-FR one), each with
its flag: our own ids (FR-EXT-*, AIG-*) aside, a rule the artefacts do not have is a difference.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fr_mutator import _set
from fr_oracle import br_fr_xslt, failed_asserts

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import load, rulesets_root
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice, read_invoice_file, write_invoice

REPO = Path(__file__).resolve().parents[1]
EXTENDED_ID = "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr"
BASES = ["fr-goods-B1-ubl.xml", "fr-exempt-VATEX-cii.xml", "fr-multirate-B1-ubl.xml"]


def _second_breakdown(doc: dict) -> bool:
    doc["vat_breakdown"].append(dict(doc["vat_breakdown"][0], taxable_amount="0.00", tax_amount="0.00"))
    return True


def _two_breakdowns(category: str) -> Callable[[dict], bool]:
    """Line 1 in `category` (rate 0), with two VAT breakdowns of it (the second of 0.00)."""

    def change(doc: dict) -> bool:
        line = doc["lines"][0]
        line["vat"] = {"category_code": category, "rate": "0"}
        first = {"category_code": category, "rate": "0", "taxable_amount": line["net_amount"], "tax_amount": "0.00", "exemption_reason": "Autoliquidation"}
        doc["vat_breakdown"] += [first, dict(first, taxable_amount="0.00")]
        return True

    return change


def _shift(field: str, delta: str) -> Callable[[dict], bool]:
    """Move a document total by `delta` (a rounding difference or a real error)."""

    def change(doc: dict) -> bool:
        doc["totals"][field] = str(Decimal(doc["totals"][field]) + Decimal(delta))
        return True

    return change


def _document_level(kind: str, amount: str, total: str | None) -> Callable[[dict], bool]:
    """An allowance or charge of `amount` (category S, 20 %), with the sum BT-107/108 given as `total`."""

    def change(doc: dict) -> bool:
        doc[kind] = [{"amount": amount, "vat_category_code": "S", "vat_rate": "20", "reason": "Remise" if kind == "allowances" else "Port"}]
        doc["totals"][f"{kind[:-1]}_total_amount"] = total
        return True

    return change


def _charge(code: str | None, *, line: bool = False, reason: str | None = None) -> Callable[[dict], bool]:
    """A charge with this reason code: on the document (15.00, category S 20 %, BT-108 given) or on
    line 1 (0.00, so no total moves). The writers do not write a reason code's list id (an
    EXTENDED-CTC-FR term): tests/test_fr_ctc_extended_terms.py varies it on the XML."""

    def change(doc: dict) -> bool:
        charge = {"reason_code": code, "reason": reason}
        if line:
            doc["lines"][0]["charges"] = [dict(charge, amount="0.00")]
        else:
            doc["charges"] = [dict(charge, amount="15.00", vat_category_code="S", vat_rate="20")]
            doc["totals"]["charge_total_amount"] = "15.00"
        return True

    return change


def _breakdown_o(reason: str | None, tax: str) -> Callable[[dict], bool]:
    """Line 1 and a VAT breakdown in category O, with this exemption reason and VAT amount."""

    def change(doc: dict) -> bool:
        line = doc["lines"][0]
        line["vat"] = {"category_code": "O"}
        doc["vat_breakdown"].append({"category_code": "O", "taxable_amount": line["net_amount"], "tax_amount": tax, "exemption_reason": reason})
        return True

    return change


VARIANTS = {
    "as written": lambda d: True,
    "two VAT breakdowns of one category": _second_breakdown,
    "a line in category E without E breakdown": _set("lines.vat.category_code", "E"),
    "a line in category K without K breakdown": _set("lines.vat.category_code", "K"),
    "a line in category O without O breakdown": _set("lines.vat.category_code", "O"),
    "a negative gross price": _set("lines.price.gross_price", "-5.00"),
    "an attribute without value": _set("lines.item.attributes", [{"name": "Couleur", "value": None}]),
    "an attribute without name": _set("lines.item.attributes", [{"name": None, "value": "Laiton"}]),
    "a line without unit": _set("lines.quantity_unit_code", None),
    "a line without net amount": _set("lines.net_amount", None),
    "a line without net price": _set("lines.price.net_price", None),
    "a line without VAT category": _set("lines.vat", None),
    "BT-106 off by 0.01": _shift("line_net_amount", "0.01"),
    "BT-106 off by 0.09": _shift("line_net_amount", "0.09"),
    "BT-106 missing": _set("totals.line_net_amount", None),
    "BT-109 off by 0.01": _shift("amount_without_vat", "0.01"),
    "BT-109 off by 0.09": _shift("amount_without_vat", "-0.09"),
    "BT-112 off by 0.01": _shift("amount_with_vat", "0.01"),
    "BT-112 off by 0.09": _shift("amount_with_vat", "0.09"),
    "BT-110 missing": _set("totals.vat_amount", None),
    "an allowance, BT-107 off by 0.01": _document_level("allowances", "10.00", "10.01"),
    "an allowance, BT-107 off by 0.02": _document_level("allowances", "10.00", "10.02"),
    "an allowance without BT-107": _document_level("allowances", "10.00", None),
    "a charge, BT-108 off by 0.01": _document_level("charges", "15.00", "14.99"),
    "a charge, BT-108 off by 0.05": _document_level("charges", "15.00", "15.05"),
    "BT-108 without charges": _document_level("charges", "0", "5.00"),
    "a charge without reason": _charge(None),
    "a line charge without reason": _charge(None, line=True),
    "a charge with an empty reason code": _charge(""),
    "a charge reason FC": _charge(" FC "),
    "a charge reason XYZ": _charge("XYZ"),
    "a line charge reason XYZ": _charge("XYZ", line=True, reason="Frais"),
    "a category O breakdown without exemption reason": _breakdown_o(None, "0.00"),
    "a category O breakdown with VAT": _breakdown_o("Hors champ", "1.00"),
    "two VAT breakdowns of category AE": _two_breakdowns("AE"),
    "two VAT breakdowns of category M": _two_breakdowns("M"),
    "a line in category L with an exemption reason": _set("lines.vat", {"category_code": "L", "rate": "7", "exemption_reason": "X"}),
}


def judged_ids() -> set[str]:
    text = (rulesets_root() / "standard" / "fr-ctc-extended.rules").read_text(encoding="utf-8")
    own = set(re.findall(r"^\s*rule (BR-FREXT\S+) ", text, re.MULTILINE))
    disabled = {x.strip() for line in re.findall(r"^\s*disable (.*?)(?: when .*)?$", text, re.MULTILINE) for x in line.split(",")}
    return own | disabled


@pytest.mark.conformance
@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_agrees_with_the_extended_artefact(conformance: Path, base: str, variant: str) -> None:
    doc = read_invoice_file(REPO / "samples" / "fr" / base).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
    doc["process_control"]["specification_identifier"] = EXTENDED_ID
    doc = copy.deepcopy(doc)
    VARIANTS[variant](doc)
    invoice = Invoice.model_validate(doc)
    for syntax in ("ubl", "cii"):
        assert_whole_verdict(write_invoice(invoice, syntax), syntax, conformance)


#: Our own ids, which no artefact has (FR-EXT-01 refuses an invoice without the profile).
OWN = ("FR-EXT-", "AIG-")


def official_verdict(xml: bytes, syntax: str, conformance: Path) -> dict[str, str]:
    """Every id the official validation of an EXTENDED-CTC-FR invoice gives, with its flag: the
    profile's XSLT and the (fatal) BR-FR one of the syntax."""
    fired = failed_asserts(xml, br_fr_xslt(conformance, syntax))
    fired.update(failed_asserts(xml, br_fr_xslt(conformance, syntax, extended=True)))
    return fired


def assert_whole_verdict(
    xml: bytes, syntax: str, conformance: Path, ruleset: str = "fr-ctc-extended", apart: frozenset[str] = frozenset()
) -> None:
    """`ruleset` fires on the invoice every id, and only the ids, the official validation gives,
    each with its flag (our own ids aside): a rule the profile's artefacts do not have is a
    difference, not only one of the ids fr-ctc-extended owns or disables. `apart`: ids a caller
    knows to differ for a reason outside the profile (said where it is given)."""
    official = {r: f for r, f in official_verdict(xml, syntax, conformance).items() if r not in apart}
    ours = {f.rule: f.severity for f in evaluate(read_invoice(xml), load(ruleset)).findings if not f.rule.startswith(OWN) and f.rule not in apart}
    assert ours == official, (
        f"{syntax} {ruleset}: official only {sorted(set(official.items()) - set(ours.items()))}, "
        f"ours only {sorted(set(ours.items()) - set(official.items()))}"
    )


#: The EXTENDED-CTC-FR samples, and the XML bases of the ruleset's own cases.
EXTENDED_XML = sorted(
    [*(p for pattern in ("fr-extended-*.xml", "fr-multivendor-*.xml") for p in (REPO / "samples" / "fr").glob(pattern)),
     *(REPO / "rulesets" / "standard" / "fr-ctc-extended" / "tests").glob("*.xml")]
)


@pytest.mark.conformance
@pytest.mark.parametrize("sample", EXTENDED_XML, ids=lambda p: p.name)
def test_extended_samples_get_the_official_verdict(conformance: Path, sample: Path) -> None:
    xml = sample.read_bytes()
    syntax = "cii" if b"CrossIndustryInvoice" in xml[:2000] else "ubl"
    for ruleset in ("fr-ctc-extended", "fr-ctc"):  # fr-ctc chooses fr-ctc-extended from BT-24
        assert_whole_verdict(xml, syntax, conformance, ruleset)


@pytest.mark.conformance
def test_the_variants_reach_the_profile_rules(conformance: Path) -> None:
    fired: set[str] = set()
    doc = read_invoice_file(REPO / "samples" / "fr" / BASES[0]).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
    doc["process_control"]["specification_identifier"] = EXTENDED_ID
    for change in VARIANTS.values():
        variant = copy.deepcopy(doc)
        change(variant)
        for syntax in ("ubl", "cii"):
            fired |= set(failed_asserts(write_invoice(Invoice.model_validate(variant), syntax), br_fr_xslt(conformance, syntax, extended=True)))
    own = {r for r in judged_ids() if r.startswith("BR-FREXT")}
    assert len(fired & own) >= 12, sorted(own - fired)
    replacements = {"UBL-FREXT-SR-48", "BR-FXEXT-S-08", "BR-FXEXT-S-08ini", "BR-FXEXT-S-08rev"}
    assert replacements <= fired, sorted(replacements - fired)


def test_an_invoice_without_the_profile_identifier_is_refused() -> None:
    decision = evaluate(read_invoice_file(REPO / "samples" / "fr" / BASES[0]), load("fr-ctc-extended"))
    assert [f.rule for f in decision.findings] == ["FR-EXT-01"]


@pytest.mark.conformance
@pytest.mark.parametrize("base", BASES)
def test_extended_sample_passes_the_artefacts(conformance: Path, base: str) -> None:
    doc = read_invoice_file(REPO / "samples" / "fr" / base).model_dump(mode="json", exclude={"provenance", "syntax_facts"})
    doc["process_control"]["specification_identifier"] = EXTENDED_ID
    invoice = Invoice.model_validate(doc)
    for syntax in ("ubl", "cii"):
        xml = write_invoice(invoice, syntax)
        fatal = {r for r, f in failed_asserts(xml, br_fr_xslt(conformance, syntax, extended=True)).items() if f == "fatal"}
        assert fatal == set()
        assert failed_asserts(xml, br_fr_xslt(conformance, syntax)) == {}
        assert [f.rule for f in evaluate(read_invoice(xml), load("fr-ctc-extended")).findings if f.severity in {"fatal", "error"}] == []
