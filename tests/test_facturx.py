"""Factur-X: a readable PDF with the CII inside; reading it back loses no business term."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader, PdfWriter
from test_cii import assert_schema_valid, business, cii_examples, filled_invoice

from aiguillage.model.cii import write_cii
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.facturx import read_facturx, write_facturx
from aiguillage.model.invoice import Invoice, InvoiceLine
from aiguillage.model.rendition import format_amount, render_pdf
from aiguillage.model.syntaxes import read_invoice, read_invoice_file, write_invoice


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (a long name may wrap)."""
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.conformance
@pytest.mark.parametrize("path", cii_examples(), ids=lambda p: p.name)
def test_example_round_trips_through_facturx(path: Path) -> None:
    invoice = read_invoice_file(path)
    pdf = write_facturx(invoice)
    again = read_invoice(pdf, "invoice.pdf")
    assert business(again) == business(invoice)
    assert again.provenance.syntax == "facturx" and again.provenance.size == len(pdf)
    text = " ".join(pdf_text(pdf))
    assert invoice.number in text
    assert one_line(invoice.seller.name) in text
    assert format_amount(invoice.totals.amount_due_for_payment) in text


def declares_en16931() -> list[Path]:
    """Examples whose BT-24 is EN 16931 itself: the library takes the Factur-X level from it
    (three examples declare ZUGFeRD 1 "comfort", which it cannot map to a Factur-X level)."""
    return [p for p in cii_examples() if b">urn:cen.eu:en16931:2017</ram:ID>" in p.read_bytes()]


@pytest.mark.conformance
@pytest.mark.parametrize("path", declares_en16931(), ids=lambda p: p.name)
def test_embedded_xml_is_en16931_factur_x(path: Path) -> None:
    """The library itself finds the XML, checks it against its XSD and sees the EN 16931 level."""
    pdf = write_facturx(read_invoice_file(path))
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml" and xml
    assert_schema_valid(xml)
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    assert "Factur-X" in (PdfReader(io.BytesIO(pdf)).metadata.get("/Keywords") or "")


def test_every_business_term_round_trips_through_facturx() -> None:
    invoice = filled_invoice()
    assert business(read_facturx(write_facturx(invoice))) == business(invoice)


def test_the_dispatcher_writes_facturx() -> None:
    invoice = filled_invoice()
    assert write_invoice(invoice, "facturx").startswith(b"%PDF")


# ---------------------------------------------------------------- the rendition


def long_invoice(count: int) -> Invoice:
    lines = [
        InvoiceLine(
            identifier=f"L{n:03d}",
            quantity=Decimal("2"),
            quantity_unit_code="C62",
            net_amount=Decimal("20.00"),
            price={"net_price": Decimal("10.00")},
            vat={"category_code": "S", "rate": Decimal("20")},
            item={"name": f"Article number {n}", "description": "A thing " * (n % 7)},
        )
        for n in range(1, count + 1)
    ]
    return Invoice(
        number="LONG-1",
        type_code="380",
        currency_code="EUR",
        seller={"name": "Long Seller SA"},
        totals={"amount_due_for_payment": Decimal("4800.00"), "line_net_amount": Decimal("4000.00")},
        lines=lines,
    )


def test_long_invoices_paginate_and_repeat_the_line_header() -> None:
    pages = pdf_text(render_pdf(long_invoice(200)))
    assert len(pages) > 3
    for page in pages[1:-1]:
        assert "Description" in page and "Net amount" in page and "Unit price" in page
    every_page = " ".join(pages)
    assert all(f"L{n:03d}" in every_page for n in range(1, 201))
    assert "Page 2" in pages[1]


def test_french_rendition() -> None:
    invoice = long_invoice(3)
    text = " ".join(pdf_text(render_pdf(invoice, "fr")))
    assert "Facture" in text and "Net à payer" in text and "Désignation" in text
    assert format_amount(Decimal("4800.00"), "fr") == "4\u00a0800,00"
    assert one_line(format_amount(Decimal("4800.00"), "fr").replace("\u00a0", " ")) in text.replace("\u00a0", " ")


def test_credit_notes_are_titled_as_such() -> None:
    invoice = long_invoice(1)
    invoice.type_code = "381"
    assert "Credit note" in pdf_text(render_pdf(invoice))[0]


def test_rendition_shows_payment_and_vat_details(conformance: Path) -> None:
    invoice = read_invoice_file(conformance / "en16931" / "cii-examples" / "CII_example5.xml")
    text = " ".join(pdf_text(render_pdf(invoice)))
    for expected in ("DK1212341234123412", "Payref1", "SEPA credit transfer", "VAT breakdown", "Loyal customer", "Ordered through our website", "2,337.5"):
        assert expected in text


def test_odd_text_renders() -> None:
    invoice = Invoice(number="<&>", seller={"name": "Ωmega «Ünïcode» & <b>bold</b>\x01"}, notes=[{"text": "x" * 30_000}])
    text = " ".join(pdf_text(render_pdf(invoice)))
    assert "<&>" in text and "Ωmega «Ünïcode» & <b>bold</b>" in text


def test_same_invoice_same_pdf() -> None:
    invoice = long_invoice(2)
    assert render_pdf(invoice) == render_pdf(invoice)


# ---------------------------------------------------------------- what is not a Factur-X


def test_a_pdf_without_invoice_xml_is_a_clear_error() -> None:
    with pytest.raises(InvoiceReadError, match="no Factur-X or ZUGFeRD invoice XML") as caught:
        read_invoice(render_pdf(long_invoice(1)), "plain.pdf")
    assert caught.value.source == "plain.pdf"


def test_a_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(InvoiceReadError, match="not a readable PDF"):
        read_facturx(b"%PDF-1.7\nthis is not a PDF at all")


def with_attachment(name: str, xml: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(render_pdf(long_invoice(1))))
    writer.add_attachment(name, xml)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_zugferd_1_is_named() -> None:
    xml = b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>'
    with pytest.raises(InvoiceReadError, match="ZUGFeRD 1.0"):
        read_facturx(with_attachment("ZUGFeRD-invoice.xml", xml))


def test_a_hostile_embedded_xml_is_refused() -> None:
    cii = write_cii(long_invoice(1)).decode()
    body = cii.split("?>", 1)[1]
    xml = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>{body}'.encode()
    with pytest.raises(InvoiceReadError, match="in the embedded factur-x.xml: document declares a DTD") as caught:
        read_facturx(with_attachment("factur-x.xml", xml))
    assert caught.value.kind == "hostile"


def test_an_oversized_pdf_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_MAX_DOCUMENT_BYTES", "1000")
    with pytest.raises(InvoiceReadError, match="over the limit"):
        read_facturx(render_pdf(long_invoice(1)))
