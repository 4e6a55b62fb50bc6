"""Print adapter: readable PDF text, hot-folder batches with manifests, and IPP Print-Jobs to a loopback printer."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_adapter_helpers import make_renderer, sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    PostalAddress,
    Route,
    TemporaryDeliveryError,
    ipp,
)
from aiguillage.adapters.print import PrintAdapter
from aiguillage.adapters.testing.ipp_printer import LoopbackIppPrinter


def delivery(key: str = "dlv-print-1", **settings: object) -> Delivery:
    return Delivery(delivery_key=key, invoice=sample_invoice(), route=Route(channel="print"),
                    settings=ChannelSettings(**settings), customer_id="ACME-FR-001",
                    created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def adapter(**config: object) -> PrintAdapter:
    return PrintAdapter(config, renderer=make_renderer())


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def batches(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith("batch-"))


def test_pdf_reads_back_with_the_invoice_content(tmp_path: Path) -> None:
    [document] = adapter(hot_folder=tmp_path).render(delivery())
    text = text_of(document.content)
    for expected in ("F2026-0042", "Atelier Lumière SAS", "ACME Retail France SA", "Lampe de bureau Orsay"):
        assert expected in text
    # charges, VAT breakdown, totals and payment details too
    for expected in ("652.75", "102.75", "Transport", "FR7630006000011234567890189"):
        assert expected in text.replace("\u202f", "").replace(",", "")


def test_french_rendition(tmp_path: Path) -> None:
    [document] = adapter(hot_folder=tmp_path).render(delivery(language="fr"))
    assert "Facture" in text_of(document.content)


def test_one_invoice_batches_publish_at_once(tmp_path: Path) -> None:
    result = adapter(hot_folder=tmp_path).deliver(delivery())
    assert result.status is DeliveryStatus.QUEUED
    [batch] = batches(tmp_path)
    manifest = json.loads((batch / "manifest.json").read_text())
    assert manifest["count"] == 1
    [entry] = manifest["documents"]
    assert entry["invoice_number"] == "F2026-0042" and entry["delivery_key"] == "dlv-print-1"
    assert entry["customer_id"] == "ACME-FR-001" and entry["pages"] >= 1
    assert entry["address"] == {"name": "ACME Retail France SA", "lines": ["1 avenue de la République"],
                                "post_code": "75011", "city": "Paris", "country_code": "FR"}
    assert "F2026-0042" in text_of((batch / entry["file"]).read_bytes())
    assert sorted(p.name for p in batch.iterdir()) == sorted([entry["file"], "manifest.json"])


def test_batches_fill_then_publish_atomically(tmp_path: Path) -> None:
    printer = adapter(hot_folder=tmp_path, batch_size=3)
    states = [printer.deliver(delivery(f"k{n}")).status for n in range(4)]
    assert states == [DeliveryStatus.STAGED, DeliveryStatus.STAGED, DeliveryStatus.QUEUED, DeliveryStatus.STAGED]
    [batch] = batches(tmp_path)
    manifest = json.loads((batch / "manifest.json").read_text())
    assert sorted(d["delivery_key"] for d in manifest["documents"]) == ["k0", "k1", "k2"]
    assert manifest["count"] == 3 and len(list(batch.glob("*.pdf"))) == 3
    # the fourth waits; an idle worker flushes it
    [done] = printer.idle()
    second = Path(done.split()[-1])
    assert json.loads((second / "manifest.json").read_text())["count"] == 1
    assert printer.idle() == [] and printer.hot_folder().flush() is None
    assert not [p for p in (tmp_path / ".staging").iterdir() if p.suffix in (".pdf", ".json")]


def test_resend_after_publication_is_not_printed_twice(tmp_path: Path) -> None:
    printer = adapter(hot_folder=tmp_path)
    printer.deliver(delivery("same"))
    assert printer.deliver(delivery("same")).status is DeliveryStatus.DUPLICATE
    assert len(batches(tmp_path)) == 1


def test_interrupted_assembly_is_redone(tmp_path: Path) -> None:
    printer = adapter(hot_folder=tmp_path, batch_size=5)
    printer.deliver(delivery("a"))
    (tmp_path / ".staging" / "batch-crashed.part").mkdir()  # what a crash mid-assembly leaves
    batch = printer.hot_folder().flush()
    assert not (tmp_path / ".staging" / "batch-crashed.part").exists()
    assert json.loads((batch / "manifest.json").read_text())["count"] == 1


def test_settings_address_wins_and_no_address_is_permanent(tmp_path: Path) -> None:
    address = PostalAddress(name="ACME Comptabilité", lines=["BP 12"], post_code="75001", city="Paris", country_code="FR")
    adapter(hot_folder=tmp_path).deliver(delivery(postal_address=address))
    entry = json.loads((batches(tmp_path)[0] / "manifest.json").read_text())["documents"][0]
    assert entry["address"]["name"] == "ACME Comptabilité"
    d = delivery("no-address")
    d.invoice.buyer.postal_address = None
    with pytest.raises(PermanentDeliveryError, match="postal address"):
        adapter(hot_folder=tmp_path).deliver(d)


def test_ipp_print_job_reaches_the_printer() -> None:
    with LoopbackIppPrinter() as printer:
        result = adapter(mode="ipp", printer_uri=printer.uri, sides="two-sided-long-edge").deliver(delivery())
        [job] = printer.jobs
    assert result.status is DeliveryStatus.DELIVERED and result.delivery_id.endswith("#job-101")
    assert job.version == (1, 1) and job.code == ipp.PRINT_JOB
    assert job.attribute(ipp.OPERATION_GROUP, "printer-uri") == printer.uri
    assert job.attribute(ipp.OPERATION_GROUP, "document-format") == "application/pdf"
    assert job.attribute(ipp.OPERATION_GROUP, "attributes-charset") == "utf-8"
    assert job.attribute(ipp.OPERATION_GROUP, "job-name").startswith("F2026-0042")
    assert job.attribute(ipp.JOB_GROUP, "sides") == "two-sided-long-edge"
    assert "F2026-0042" in text_of(job.data)


def test_ipp_busy_then_accepted() -> None:
    with LoopbackIppPrinter(statuses=[0x0507, 0x0000]) as printer:
        printing = adapter(mode="ipp", printer_uri=printer.uri)
        with pytest.raises(TemporaryDeliveryError, match="0x0507"):
            printing.deliver(delivery())
        assert printing.deliver(delivery()).status is DeliveryStatus.DELIVERED


def test_ipp_refused_document_is_permanent() -> None:
    with LoopbackIppPrinter(statuses=[0x040A]) as printer, pytest.raises(PermanentDeliveryError, match="0x040a"):
        adapter(mode="ipp", printer_uri=printer.uri).deliver(delivery())


def test_ipp_timeout_is_temporary() -> None:
    from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer

    with LoopbackHttpServer([Answer(200, delay=3)]) as slow, pytest.raises(TemporaryDeliveryError):
        adapter(mode="ipp", printer_uri=f"ipp://127.0.0.1:{slow.port}/printers/x", timeout=0.3).deliver(delivery())


def test_ipp_encoding_round_trip() -> None:
    request = ipp.print_job_request("ipp://h/p", b"%PDF-", request_id=7, copies=2, media="iso_a4_210x297mm")
    decoded = ipp.decode(request)
    assert (decoded.request_id, decoded.data) == (7, b"%PDF-")
    assert decoded.attribute(ipp.JOB_GROUP, "copies") == 2
    assert ipp.http_url("ipp://printer.example/printers/a") == "http://printer.example:631/printers/a"
    assert ipp.http_url("ipps://printer.example:8443/p") == "https://printer.example:8443/p"
    with pytest.raises(ValueError):
        ipp.decode(request[:20])
