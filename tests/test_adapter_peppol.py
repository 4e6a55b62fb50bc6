"""Peppol adapter against a loopback access point: envelope, BIS form, receipts, timeouts, failures, recovery."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from lxml import etree
from test_adapter_helpers import make_renderer, sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    Route,
    TemporaryDeliveryError,
    create_adapter,
)
from aiguillage.adapters.peppol import BIS_CUSTOMIZATION_ID, BIS_PROFILE_ID, PeppolAdapter, bis_form
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer

SBDH = "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"


def delivery(key: str = "dlv-0001", **settings: object) -> Delivery:
    return Delivery(
        delivery_key=key,
        invoice=sample_invoice(),
        route=Route(channel="peppol", format="ubl"),
        settings=ChannelSettings(**settings),
        created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    )


def adapter(url: str, timeout: float = 5.0) -> PeppolAdapter:
    return PeppolAdapter({"access_point_url": url + "/outbound", "timeout": timeout}, renderer=make_renderer())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_envelope_names_participants_document_type_process_and_instance() -> None:
    rendered = adapter("http://127.0.0.1:1").render(delivery(peppol_participant_id="0088:3098765000017"))
    assert len(rendered) == 1 and rendered[0].kind == "sbdh"
    root = etree.fromstring(rendered[0].content)
    header = root.find(f"{SBDH}StandardBusinessDocumentHeader")
    assert header.findtext(f"{SBDH}HeaderVersion") == "1.0"
    sender = header.find(f"{SBDH}Sender/{SBDH}Identifier")
    receiver = header.find(f"{SBDH}Receiver/{SBDH}Identifier")
    assert (sender.text, sender.get("Authority")) == ("0009:41234567800012", "iso6523-actorid-upis")
    assert (receiver.text, receiver.get("Authority")) == ("0088:3098765000017", "iso6523-actorid-upis")
    ident = header.find(f"{SBDH}DocumentIdentification")
    assert ident.findtext(f"{SBDH}Standard") == UBL
    assert ident.findtext(f"{SBDH}TypeVersion") == "2.1"
    assert ident.findtext(f"{SBDH}InstanceIdentifier") == "dlv-0001"
    assert ident.findtext(f"{SBDH}Type") == "Invoice"
    assert ident.findtext(f"{SBDH}CreationDateAndTime") == "2026-11-20T09:30:00Z"
    scopes = {scope.findtext(f"{SBDH}Type"): scope for scope in header.iter(f"{SBDH}Scope")}
    assert scopes["DOCUMENTID"].findtext(f"{SBDH}InstanceIdentifier") == f"{UBL}::Invoice##{BIS_CUSTOMIZATION_ID}::2.1"
    assert scopes["DOCUMENTID"].findtext(f"{SBDH}Identifier") == "busdox-docid-qns"
    assert scopes["PROCESSID"].findtext(f"{SBDH}InstanceIdentifier") == BIS_PROFILE_ID
    assert scopes["PROCESSID"].findtext(f"{SBDH}Identifier") == "cenbii-procid-ubl"
    assert scopes["COUNTRY_C1"].findtext(f"{SBDH}InstanceIdentifier") == "FR"
    invoice = root[1]
    assert invoice.tag == f"{{{UBL}}}Invoice"
    assert invoice.findtext(f"{CBC}CustomizationID") == BIS_CUSTOMIZATION_ID
    assert invoice.findtext(f"{CBC}ProfileID") == BIS_PROFILE_ID
    assert invoice.findtext(f"{CBC}ID") == "F2026-0042"
    # the whole invoice made it into the envelope
    assert invoice.findtext(f".//{CBC}PayableAmount") == "652.75"


def test_receiver_defaults_to_the_buyer_electronic_address() -> None:
    root = etree.fromstring(adapter("http://127.0.0.1:1").render(delivery())[0].content)
    assert root.findtext(f".//{SBDH}Receiver/{SBDH}Identifier") == "0009:52198765400027"


def test_bis_form_puts_customization_before_id_and_keeps_an_existing_profile() -> None:
    ubl = (f'<Invoice xmlns="{UBL}" xmlns:cbc="{CBC[1:-1]}"><cbc:UBLVersionID>2.1</cbc:UBLVersionID>'
           '<cbc:ProfileID>urn:custom:process</cbc:ProfileID><cbc:ID>1</cbc:ID></Invoice>').encode()
    root = bis_form(ubl)
    names = [etree.QName(child).localname for child in root]
    assert names == ["UBLVersionID", "CustomizationID", "ProfileID", "ID"]
    assert root.findtext(f"{CBC}ProfileID") == "urn:custom:process"
    bare = bis_form(f'<Invoice xmlns="{UBL}" xmlns:cbc="{CBC[1:-1]}"><cbc:ID>1</cbc:ID></Invoice>'.encode())
    assert [etree.QName(c).localname for c in bare] == ["CustomizationID", "ProfileID", "ID"]
    assert bare.findtext(f"{CBC}ProfileID") == BIS_PROFILE_ID


def test_no_receiver_is_permanent() -> None:
    d = delivery()
    d.invoice.buyer.electronic_address = None
    with pytest.raises(PermanentDeliveryError, match="no Peppol receiver"):
        adapter("http://127.0.0.1:1").render(d)


def test_malformed_participant_id_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError, match="participant id"):
        adapter("http://127.0.0.1:1").render(delivery(peppol_participant_id="not-an-id"))


def test_access_point_receives_the_envelope_and_its_message_id_is_recorded() -> None:
    with LoopbackHttpServer([Answer(202, b'{"messageId": "ap-msg-77"}')]) as server:
        result = adapter(server.url).deliver(delivery())
        assert result.delivery_id == "ap-msg-77"
        assert result.status is DeliveryStatus.DELIVERED and result.channel == "peppol"
        assert "ap-msg-77" in result.receipt
        [request] = server.received
    assert request.path == "/outbound"
    assert request.headers["content-type"] == "application/xml"
    assert request.headers["x-delivery-key"] == "dlv-0001"
    root = etree.fromstring(request.body)
    assert root.findtext(f".//{SBDH}InstanceIdentifier") == "dlv-0001"
    assert root[1].findtext(f"{CBC}ID") == "F2026-0042"


def test_message_id_from_header_and_bearer_token_sent() -> None:
    with LoopbackHttpServer([Answer(200, b"OK", "text/plain", headers={"X-Message-Id": "hdr-1"})]) as server:
        peppol = PeppolAdapter({"access_point_url": server.url, "bearer_token": "s3cret"}, renderer=make_renderer())
        result = peppol.deliver(delivery())
        assert result.delivery_id == "hdr-1"
        assert server.received[0].headers["authorization"] == "Bearer s3cret"


def test_timeout_is_temporary() -> None:
    with LoopbackHttpServer([Answer(200, delay=3.0)]) as server, \
            pytest.raises(TemporaryDeliveryError, match="no answer|cannot connect"):
        adapter(server.url, timeout=0.3).deliver(delivery())


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_client_errors_are_permanent(status: int) -> None:
    with LoopbackHttpServer([Answer(status, b'{"error": "unknown receiver"}')]) as server, \
            pytest.raises(PermanentDeliveryError) as caught:
        adapter(server.url).deliver(delivery())
    assert f"HTTP {status}" in str(caught.value)
    assert "unknown receiver" in caught.value.detail


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_are_temporary(status: int) -> None:
    with LoopbackHttpServer([Answer(status)]) as server, pytest.raises(TemporaryDeliveryError):
        adapter(server.url).deliver(delivery())


def test_connection_refused_is_temporary() -> None:
    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        adapter(f"http://127.0.0.1:{closed_port()}", timeout=2).deliver(delivery())


def test_fails_then_recovers_with_the_same_instance_id() -> None:
    script = [Answer(503), Answer(200, b'{"messageId": "m-2"}')]
    with LoopbackHttpServer(script) as server:
        peppol = adapter(server.url)
        d = delivery("dlv-retry")
        with pytest.raises(TemporaryDeliveryError):
            peppol.deliver(d)
        assert peppol.deliver(d).delivery_id == "m-2"
        first, second = server.received
    assert first.body == second.body  # a re-send is byte-identical, so the access point can de-duplicate


def test_registry_builds_the_adapter_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_PEPPOL_ACCESS_POINT_URL", "http://127.0.0.1:9/ap")
    monkeypatch.setenv("AIGUILLAGE_PEPPOL_TIMEOUT", "7")
    peppol = create_adapter("peppol")
    assert isinstance(peppol, PeppolAdapter)
    assert peppol.config.access_point_url == "http://127.0.0.1:9/ap" and peppol.config.timeout == 7
