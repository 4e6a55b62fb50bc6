"""The semantic model, its catalogue, the JSON syntax and hostile-input handling."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from aiguillage.model.catalogue import by_id, catalogue, lookup
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.invoice import Invoice
from aiguillage.model.jsonio import read_json, write_json
from aiguillage.model.syntaxes import detect_syntax, read_invoice

# ---------------------------------------------------------------- catalogue


def test_catalogue_has_every_business_term_and_group() -> None:
    ids = {e.id for e in catalogue()}
    expected_bt = {f"BT-{n}" for n in range(1, 166)} - {"BT-4"}  # EN 16931 has no BT-4
    expected_bg = {f"BG-{n}" for n in range(1, 33)}
    assert expected_bt <= ids
    assert expected_bg <= ids
    # scheme identifiers of identifiers are terms too
    assert {"BT-29-1", "BT-30-1", "BT-34-1", "BT-46-1", "BT-49-1", "BT-157-1", "BT-158-1", "BT-158-2", "BT-125-1", "BT-125-2"} <= ids


def test_catalogue_ids_are_unique_and_paths_resolve() -> None:
    entries = catalogue()
    assert len({e.id for e in entries}) == len(entries)
    assert lookup("BT-131").path == "lines[].net_amount"
    assert lookup("bt-31").path == "seller.vat_identifier"
    assert lookup("lines.net_amount").id == "BT-131"
    assert lookup("lines[].item.name").id == "BT-153"
    assert lookup("seller.legal_registration_identifier.scheme").id == "BT-30-1"
    assert lookup("BG-25").is_group and lookup("BG-25").repeats
    assert lookup("no.such.field") is None


def test_catalogue_types_and_cardinality() -> None:
    table = by_id()
    assert table["BT-2"].data_type == "date" and table["BT-2"].card == "1..1"
    assert table["BT-146"].data_type == "unit_price"
    assert table["BT-129"].data_type == "quantity"
    assert table["BG-23"].card == "1..n"
    assert all(e.description for e in catalogue())


# ---------------------------------------------------------------- JSON

MINIMAL = {
    "number": "INV-1",
    "issue_date": "2026-11-27",
    "currency_code": "EUR",
    "totals": {"amount_due_for_payment": "120.10", "line_net_amount": 100},
    "lines": [{"identifier": "1", "quantity": 2.50, "net_amount": "100.00"}],
}


def test_json_reads_decimals_exactly_and_dates_as_dates() -> None:
    invoice = read_json(json.dumps(MINIMAL).encode(), "min.json")
    assert invoice.issue_date == date(2026, 11, 27)
    assert invoice.totals.amount_due_for_payment == Decimal("120.10")
    assert str(invoice.totals.amount_due_for_payment) == "120.10"
    assert str(invoice.lines[0].quantity) == "2.5"  # a JSON number, read as written
    assert invoice.totals.line_net_amount == Decimal("100")
    assert invoice.provenance.syntax == "json"


def test_json_round_trip_keeps_every_digit() -> None:
    invoice = read_json(json.dumps(MINIMAL).encode())
    again = read_json(write_json(invoice))
    assert again.model_dump(exclude={"provenance"}) == invoice.model_dump(exclude={"provenance"})
    assert '"120.10"' in write_json(invoice).decode()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"number": "1",\n "issue_date": "2026-02-30"}', "/issue_date"),
        (b'{"lines": [{"net_amount": "ten"}]}', "/lines/0/net_amount"),
        (b'{"seller": {"nmae": "x"}}', "/seller/nmae"),
    ],
)
def test_json_errors_name_the_pointer(body: bytes, where: str) -> None:
    with pytest.raises(InvoiceReadError) as info:
        read_json(body, "bad.json")
    assert info.value.pointer == where
    assert str(info.value).startswith(f"bad.json at {where}: ")


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(InvoiceReadError) as info:
        read_invoice(b'{"number": "1",\n  "issue_date": }', "x.json")
    assert (info.value.line, info.value.column) == (2, 17)


# ---------------------------------------------------------------- hostile and broken XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["billion-laughs", "external-entity", "external-dtd"])
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(InvoiceReadError) as info:
        read_invoice(body, "evil.xml")
    assert info.value.kind == "hostile"
    assert "DTD" in str(info.value)
    assert info.value.line == 2


def test_malformed_xml_names_line_and_column() -> None:
    body = b'<?xml version="1.0"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">\n  <ID>1</Id>\n</Invoice>'
    with pytest.raises(InvoiceReadError) as info:
        read_invoice(body, "broken.xml")
    err = info.value
    assert err.kind == "malformed"
    assert (err.line, err.column) == (3, 13)
    assert str(err).startswith("broken.xml:3:13: malformed XML")


def test_size_limit_is_enforced_before_parsing() -> None:
    with pytest.raises(InvoiceReadError) as info:
        read_invoice(b"<a/>" + b" " * 2000, "big.xml", limit=1000)
    assert info.value.kind == "too_large"
    assert "over the limit of 1,000 bytes" in str(info.value)


def test_size_limit_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_MAX_DOCUMENT_BYTES", "10")
    with pytest.raises(InvoiceReadError, match="over the limit of 10 bytes"):
        read_invoice(b'{"number": "12345678901"}')


def test_unknown_root_element_is_named() -> None:
    with pytest.raises(InvoiceReadError) as info:
        read_invoice(b'<?xml version="1.0"?>\n<Order xmlns="urn:example:order"/>', "order.xml")
    assert info.value.kind == "unknown_root"
    assert "<{urn:example:order}Order>" in str(info.value)
    assert info.value.line == 2


def test_unknown_syntax() -> None:
    assert detect_syntax(b"\xef\xbb\xbf<?xml") == "xml"
    assert detect_syntax(b"%PDF-1.7") == "pdf"
    with pytest.raises(InvoiceReadError, match="not an invoice"):
        read_invoice(b"hello", "x.txt")


def test_model_refuses_unknown_fields_but_not_missing_data() -> None:
    assert Invoice.model_validate({}).lines == []
    with pytest.raises(ValueError):
        Invoice.model_validate({"sellr": {}})


def test_large_ubl_is_streamed_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import conformance_dir

    from aiguillage.model import syntaxes

    data = (conformance_dir() / "en16931" / "ubl-examples" / "ubl-tc434-example1.xml").read_bytes()
    whole = syntaxes.read_invoice(data, "x.xml")
    monkeypatch.setattr(syntaxes, "STREAM_ABOVE_BYTES", 0)
    calls: list[int] = []
    import aiguillage.model.ubl as ubl

    real = ubl.read_ubl_bytes
    monkeypatch.setattr(ubl, "read_ubl_bytes", lambda *a, **k: calls.append(1) or real(*a, **k))
    streamed = syntaxes.read_invoice(data, "x.xml")
    assert calls == [1]
    assert streamed.model_dump(exclude={"syntax_facts"}) == whole.model_dump(exclude={"syntax_facts"})
    assert sorted(f.model_dump_json() for f in streamed.syntax_facts) == sorted(f.model_dump_json() for f in whole.syntax_facts)
