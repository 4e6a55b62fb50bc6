"""Fax adapter: G4 TIFF at fax resolution, sent through a real SMTP gateway on loopback and a loopback fax API."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from test_adapter_helpers import long_invoice, make_renderer, sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    Route,
    TemporaryDeliveryError,
)
from aiguillage.adapters.fax import FaxAdapter, fax_number
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer


def delivery(key: str = "dlv-fax-1", invoice: object = None, **settings: object) -> Delivery:
    values = {"fax_number": "+33 1 23 45 67 89", **settings}
    return Delivery(delivery_key=key, invoice=invoice or sample_invoice(), route=Route(channel="fax"),
                    settings=ChannelSettings(**values), created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def frames(tiff: bytes) -> list[dict]:
    image = Image.open(io.BytesIO(tiff))
    out = []
    for index in range(image.n_frames):
        image.seek(index)
        out.append({"mode": image.mode, "compression": image.info.get("compression"),
                    "dpi": tuple(round(v) for v in image.info["dpi"]), "size": image.size,
                    "black": image.convert("L").histogram()[0]})
    return out


def test_multi_page_g4_tiff_at_fax_resolution() -> None:
    renderer = make_renderer()
    invoice = long_invoice(90)
    pdf_pages = len(PdfReader(io.BytesIO(renderer.pdf(invoice, "en"))).pages)
    assert pdf_pages >= 2
    [document] = FaxAdapter({}, renderer=renderer).render(delivery(invoice=invoice))
    assert document.media_type == "image/tiff" and document.filename == "F2026-0042.tif"
    pages = frames(document.content)
    assert len(pages) == pdf_pages
    for page in pages:
        assert page["mode"] == "1" and page["compression"] == "group4" and page["dpi"] == (204, 196)
        assert page["size"][0] == 1728
        assert 2100 < page["size"][1] < 2350  # A4 at 196 dpi: 11.69 in x 196
        assert page["black"] > 1000  # there is print on the page


def test_fax_number_normalisation() -> None:
    assert fax_number("+33 1 23-45.67 (89)") == "+33123456789"
    assert fax_number("0033 1 23 45 67 89") == "+33123456789"
    with pytest.raises(PermanentDeliveryError, match="not a fax number"):
        fax_number("call me")
    with pytest.raises(PermanentDeliveryError, match="no fax number"):
        fax_number(None)


def test_email_to_fax_gateway(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        fax = FaxAdapter({"mode": "email_gateway", "gateway_domain": "fax.example", "from_address": "fax@atelier.example",
                          "smtp": {"port": server.port, "username": "aiguillage", "password": "secret",
                                   "ca_file": str(server.cert)}}, renderer=make_renderer())
        result = fax.deliver(delivery())
        [mail] = server.received
    assert result.status is DeliveryStatus.DELIVERED and result.channel == "fax"
    assert mail.rcpt_tos == ["33123456789@fax.example"]
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "image/tiff"
    page = frames(attachment.get_content())[0]
    assert page["compression"] == "group4" and page["dpi"] == (204, 196)


def test_gateway_down_is_temporary(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        port = server.port
    fax = FaxAdapter({"smtp": {"port": port}, "timeout": 2}, renderer=make_renderer())
    with pytest.raises(TemporaryDeliveryError):
        fax.deliver(delivery())


def multipart_fields(body: bytes, content_type: str) -> dict[str, object]:
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=policy.default)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = part.get_content() if part.get_filename() is None else (part.get_filename(), part.get_content())
    return fields


def test_fax_http_api_receives_number_and_tiff() -> None:
    with LoopbackHttpServer([Answer(201, json.dumps({"id": "fax-991"}).encode())]) as api:
        fax = FaxAdapter({"mode": "http_api", "api_url": api.url + "/faxes", "api_token": "tok"},
                         renderer=make_renderer())
        result = fax.deliver(delivery())
        [request] = api.received
    assert result.delivery_id == "fax-991"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["idempotency-key"] == "dlv-fax-1"
    fields = multipart_fields(request.body, request.headers["content-type"])
    assert fields["to"].strip() == "+33123456789" and fields["reference"].strip() == "dlv-fax-1"
    filename, tiff = fields["file"]
    assert filename == "F2026-0042.tif"
    assert frames(tiff)[0]["mode"] == "1"


def test_fax_api_fails_then_recovers_and_rejects_permanently() -> None:
    with LoopbackHttpServer([Answer(503), Answer(200, b'{"fax_id": "f2"}')]) as api:
        fax = FaxAdapter({"mode": "http_api", "api_url": api.url}, renderer=make_renderer())
        rendered = fax.render(delivery())
        with pytest.raises(TemporaryDeliveryError):
            fax.send(delivery(), rendered)
        assert fax.send(delivery(), rendered).delivery_id == "f2"
    with LoopbackHttpServer([Answer(422, b'{"error": "number not reachable"}')]) as api, \
            pytest.raises(PermanentDeliveryError, match="422"):
        FaxAdapter({"mode": "http_api", "api_url": api.url}, renderer=make_renderer()).deliver(delivery())


def test_fax_api_timeout_is_temporary() -> None:
    with LoopbackHttpServer([Answer(200, delay=3)]) as api, pytest.raises(TemporaryDeliveryError):
        FaxAdapter({"mode": "http_api", "api_url": api.url, "timeout": 0.3}, renderer=make_renderer()).deliver(delivery())
