"""Patching a base invoice by field path, as case files do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aiguillage.engine.tester.patch import PatchError, apply_patch
from aiguillage.model.syntaxes import read_invoice_file

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0042.json"


@pytest.fixture(scope="module")
def invoice():  # noqa: ANN201
    return read_invoice_file(SAMPLE)


def test_fields_by_path_and_by_business_term(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"order_reference": "PO-123456", "BT-10": "REF-1", "totals.amount_with_vat": Decimal("12000.00"), "due_date": date(2027, 1, 31)})
    assert patched.order_reference == "PO-123456"
    assert patched.buyer_reference == "REF-1"
    assert patched.totals.amount_with_vat == Decimal("12000.00") and str(patched.totals.amount_with_vat) == "12000.00"
    assert patched.due_date == date(2027, 1, 31)
    assert invoice.order_reference == "PO-204518", "the base invoice is never changed"


def test_occurrences_count_from_one_and_star_means_all(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"lines[2].quantity": 3, "lines[*].vat.rate": "20"})
    assert patched.lines[1].quantity == Decimal("3")
    assert [line.vat.rate for line in patched.lines] == [Decimal("20")] * 3
    with pytest.raises(PatchError, match=r"counted from 1, as in findings \(lines\[1\] is the first\)"):
        apply_patch(invoice, {"lines[0].quantity": "3"})
    with pytest.raises(PatchError, match=r"the invoice has 3 lines; \[5\] is beyond"):
        apply_patch(invoice, {"lines[5].quantity": "3"})


def test_one_past_the_end_adds_an_occurrence(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"lines[4].identifier": "4", "lines[4].net_amount": "1.00"})
    assert len(patched.lines) == 4 and patched.lines[3].net_amount == Decimal("1.00")


def test_identifiers_value_and_scheme(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"buyer.legal_registration_identifier": "12345678901234", "seller.identifiers[1]": "3012345000208"})
    assert patched.buyer.legal_registration_identifier.value == "12345678901234"
    assert patched.buyer.legal_registration_identifier.scheme == "0009", "the scheme is kept"
    assert patched.seller.identifiers[0].value == "3012345000208" and patched.seller.identifiers[0].scheme == "0088"
    patched = apply_patch(invoice, {"buyer.legal_registration_identifier.scheme": None})
    assert patched.buyer.legal_registration_identifier.scheme is None


def test_null_removes_and_repeat_copies(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"delivery": None, "charges": None, "lines": {"repeat": 3, "times": 250}})
    assert patched.delivery is None and patched.charges == []
    assert len(patched.lines) == 250
    assert [line.identifier for line in patched.lines[:3]] == ["1", "2", "3"]
    assert {line.item.name for line in patched.lines} == {invoice.lines[2].item.name}


def test_missing_groups_are_created(invoice) -> None:  # noqa: ANN001
    patched = apply_patch(invoice, {"payee.name": "Factor SA"})
    assert patched.payee.name == "Factor SA"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"order_referense": "x"}, "the invoice has no field 'order_referense'; did you mean order_reference?"),
        ({"lines.quantity": "3"}, "lines repeats; say which one: lines[1] (the first), or lines[*] (all)"),
        ({"seller[1].name": "x"}, "seller does not repeat"),
        ({"BT-131": "1"}, "repeats; name it by path"),
        ({"issue_date": "not a date"}, "the patched invoice is not valid at issue_date"),
        ({"lines": "many"}, "a repeating group is set to a list, to null, or to {repeat: N, times: M}"),
    ],
)
def test_mistakes_are_explained(invoice, patch: dict, message: str) -> None:  # noqa: ANN001
    with pytest.raises(PatchError) as caught:
        apply_patch(invoice, patch)
    assert message in str(caught.value)
