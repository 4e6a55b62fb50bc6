"""AIG-DT-01: a value that is not of its type is a fatal finding, in UBL and CII, never a crash."""

from __future__ import annotations

import pytest
from conftest import conformance_dir

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.syntaxes import read_invoice, write_invoice


def _findings(data: bytes) -> list:
    return [f for f in evaluate(read_invoice(data, "t.xml"), library().compiled("en16931")).findings if f.rule == "AIG-DT-01"]


def _example() -> bytes:
    return (conformance_dir() / "en16931" / "ubl-examples" / "ubl-tc434-example1.xml").read_bytes()


def test_a_valid_invoice_has_none() -> None:
    assert _findings(_example()) == []


def test_an_impossible_issue_date_is_reported_with_its_line() -> None:
    data = _example().replace(b"<cbc:IssueDate>2015-01-09</cbc:IssueDate>", b"<cbc:IssueDate>2017-02-30</cbc:IssueDate>")
    assert data != _example()
    (finding,) = _findings(data)
    assert finding.severity == "fatal"
    assert "2017-02-30" in finding.message and "cbc:IssueDate" in finding.message
    assert "line 17" in finding.message


def test_an_amount_that_is_not_a_number_is_reported() -> None:
    data = _example().replace(b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">x', 1)
    assert data != _example()
    (finding,) = _findings(data)
    assert "cbc:PayableAmount" in finding.message


@pytest.mark.parametrize(("bad", "rule"), [(b"20170230", "AIG-DT-01"), (b"2017-01-01", "CII-DT-097")])
def test_cii_dates_are_judged_too(bad: bytes, rule: str) -> None:
    """A CII date that is not YYYYMMDD is the official CII-DT-097; one that fits the
    pattern but is no date stays AIG-DT-01 (the CII artefact reads dates as text)."""
    cii = write_invoice(read_invoice(_example()), "cii")
    start = cii.index(b'<udt:DateTimeString format="102">') + len(b'<udt:DateTimeString format="102">')
    broken = cii[:start] + bad + cii[start + 8 :]
    findings = evaluate(read_invoice(broken, "t.xml"), library().compiled("en16931")).findings
    (finding,) = [f for f in findings if f.rule in ("AIG-DT-01", "CII-DT-097")]
    assert finding.rule == rule
    assert bad.decode() in finding.message or rule == "CII-DT-097"
