"""The official EN 16931 and Peppol BIS 3.0 test suites, run through the standard rulesets.

One test item per test-set file, so a failure names the file and the rule.
The data comes from ../shared/conformance (or AIGUILLAGE_CONFORMANCE); when
it is missing these tests fail, they never skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import example_files, unit_test_files

from aiguillage.engine.conformance import FileReport, run_files
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice_file

#: Rule families that judge the XML itself (UBL syntax facts); they cannot carry over to CII.
UBL_ONLY_PREFIXES = ("UBL-",)

#: Official test sets whose tests are all commented out, like the rule itself (withdrawn).
WITHDRAWN = {"PEPPOL-COMMON-R048.xml"}

#: Peppol rules that judge the UBL XML itself, with what they look at that CII cannot say.
PEPPOL_UBL_ONLY = {
    "PEPPOL-EN16931-R043": "the ChargeIndicator text as written (CII gets the model's true/false)",
    "PEPPOL-EN16931-R044": "the price allowance's ChargeIndicator text as written",
    "PEPPOL-EN16931-R051": "the currencyID attribute of every amount (CII amounts carry none)",
    "PEPPOL-EN16931-R080": "a second project reference in a UBL credit note (the model holds one)",
    "PEPPOL-EN16931-R100": "a second cac:DocumentReference in a line (the model holds one)",
    "PEPPOL-EN16931-R101": "a line cac:DocumentReference that is not the invoiced object (no business term)",
    "PEPPOL-EN16931-F001": "the date text as written (an impossible date is no date in the model)",
    # Where Peppol's CII Schematron binds a rule otherwise (or not at all), peppol-bis-3 follows it
    # on CII input (rules.rules, `peppol_cii`; checked by tests/test_differential_peppol.py).
    "PEPPOL-EN16931-R046": "the CII binding has no gross price rule",
    "PEPPOL-EN16931-R053": "CII counts the header TaxTotalAmount by its currencyID; a fragment without a currency has none",
    "PEPPOL-EN16931-R054": "CII counts the header TaxTotalAmount by its currencyID; a fragment without a currency has none",
    **{f"PEPPOL-EN16931-P01{n:02d}": "the CII binding has no such rule (UBL only)" for n in range(4, 13)},
}

#: Single tests whose document says something only UBL can say (or CII cannot bind).
UBL_ONLY_TESTS = {
    ("PEPPOL-COMMON-EAS.xml", 2): "the EndpointID sits in a misspelt element (AccountingSellerParty)",
    ("PEPPOL-EN16931-CL001.xml", 2): "the attachment sits directly under the root",
    ("PEPPOL-EN16931-CL006.xml", 2): "three cac:InvoicePeriod; CII writes BT-8 inside VAT breakdowns, and the fragment has none",
    ("PEPPOL-EN16931-P0100.xml", 4): "Invoice or CreditNote root picks the code list; CII has one root",
    ("PEPPOL-EN16931-P0101.xml", 4): "Invoice or CreditNote root picks the code list; CII has one root",
    ("PEPPOL-EN16931-R053.xml", 3): "two cac:TaxTotal with subtotals (CII has no tax total grouping)",
    ("PEPPOL-EN16931-R054.xml", 4): "two cac:TaxTotal in one currency (CII has no tax total grouping)",
    ("BR-CL-03.xml", 2): "the currency of each amount (currencyID) is not a business term; CII carries one only on the VAT total",
    ("BR-CL-06.xml", 2): "BT-8 without any VAT breakdown: CII binds it inside ApplicableTradeTax only",
    ("BR-03.xml", 1): "the issue date is written but not a date ('123'): the model holds no date, so CII gets none",
    ("BR-CO-03.xml", 4): "BT-7 and BT-8 without any VAT breakdown: CII binds them inside ApplicableTradeTax only",
    ("BR-CO-15.xml", 8): "two cac:TaxTotal in the invoice currency: the model holds one BT-110, CII one total",
    # The CII binding judges these otherwise, and our CII verdict is the official CII artefact's
    # on the converted document (checked with the EN16931-CII XSLT; see the rule files' comments).
    ("BR-CO-17.xml", 9): "CII binding: a VAT amount exactly 1 off the product is within BR-CO-17's tolerance",
    **{(f"BR-IG-08-{n}.xml", t): "CII binding: the official BR-AF-08 reads the rate one level too high, never fires" for n, t in ((1, 5), (1, 6), (2, 4), (2, 5), (3, 4), (3, 5))},
    **{(f"BR-IP-08-{n}.xml", t): "CII binding: the official BR-AG-08 reads the rate one level too high, never fires" for n, t in ((1, 5), (1, 6), (2, 4), (2, 5), (3, 4), (3, 5))},
    **{("BR-O-01.xml", t): "CII binding: BR-O-01 asks only that a breakdown O be alone and used (lines O alone pass)" for t in (5, 7, 8, 9)},
    ("BR-IG-09.xml", 4): "CII binding: the official BR-AF-09 is true() (no check of the VAT amount)",
    ("BR-IP-09.xml", 4): "CII binding: the official BR-AG-09 is true() (no check of the VAT amount)",
    ("BR-S-09.xml", 6): "CII binding: a breakdown is picked by its code as written, so ' S ' is no breakdown S",
    ("BR-61.xml", 5): "CII binding: BR-61 judges each creditor account; with none there is nothing to judge",
    ("BR-S-08-2.xml", 5): "CII binding: BR-S-08 compares category codes as written, so the allowance ' S ' is not summed",
    ("BR-CO-18.xml", 3): "CII binding: BR-CO-18 is judged in each line item, and this document has no line",
}


def _carries_over_to_cii(path: Path, number: int, rule: str) -> bool:
    return not rule.startswith(UBL_ONLY_PREFIXES) and rule not in PEPPOL_UBL_ONLY and (path.name, number) not in UBL_ONLY_TESTS


def _describe(report: FileReport) -> str:
    lines = []
    for outcome in report.outcomes:
        if outcome.error:
            lines.append(f"test {outcome.test.number} (line {outcome.test.line}): cannot read: {outcome.error}")
        for m in outcome.mismatches:
            lines.append(f"test {outcome.test.number} (line {outcome.test.line}): {m.rule} expected {m.expected}, fired {m.fired or 'nothing'}")
    return "\n".join(lines)


@pytest.mark.conformance
@pytest.mark.parametrize("path", unit_test_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_unit_test_set_passes(path: Path) -> None:
    (report,) = run_files([path])
    assert report.outcomes or path.name in WITHDRAWN, f"{path} holds no test"
    assert report.failed == 0, _describe(report)


@pytest.mark.conformance
@pytest.mark.parametrize("path", unit_test_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_unit_test_set_passes_when_converted_to_cii(path: Path) -> None:
    """The rules see the semantic model: the same document written as CII gets the same verdicts."""
    (report,) = run_files([path], via="cii")
    for outcome in report.outcomes:
        outcome.mismatches = [m for m in outcome.mismatches if _carries_over_to_cii(path, outcome.test.number, m.rule)]
    assert report.failed == 0, _describe(report)


@pytest.mark.conformance
@pytest.mark.parametrize("path", example_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_example_has_no_fatal_or_error_finding(path: Path) -> None:
    invoice = read_invoice_file(path)
    rulesets = ["en16931"] + (["peppol-bis-3"] if path.parent.parent.name == "peppol" else [])
    for name in rulesets:
        decision = evaluate(invoice, library().compiled(name))
        blocking = [f"{f.rule} {f.severity}: {f.message} ({f.path})" for f in decision.findings if f.severity in ("fatal", "error")]
        assert not blocking, f"{name}: " + "; ".join(blocking)
