"""The PA channel against a loopback PA built from the Flow service's OpenAPI file (XP Z12-013 1.3.0).

Every call the adapter makes is judged by the published description
(`pa.violations` stays empty); the loopback also refuses what the
description refuses, which the last tests prove.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from conftest import REPO, conformance_dir

from aiguillage.adapters import (
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    Route,
    TemporaryDeliveryError,
)
from aiguillage.adapters.flowapi import FlowService, sign, verify
from aiguillage.adapters.pa import PaAdapter
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.adapters.testing.openapi_check import OpenApiDescription, SpecViolation
from aiguillage.adapters.testing.pa_server import LoopbackPa
from aiguillage.fr import cdar
from aiguillage.model.syntaxes import read_invoice, read_invoice_file

SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"


def flow_spec() -> Path:
    return conformance_dir() / "fr" / "xp-z12-013" / "flow-service-1.3.0.json"


@pytest.fixture
def pa():
    with LoopbackPa(tokens={"tok-acme": "acme", "tok-other": "other"}, spec=flow_spec()) as server:
        yield server
        assert server.violations == [], "a request or answer broke the published description"


def delivery(fmt: str | None = "cii", invoice_id: str | None = None) -> Delivery:
    return Delivery(delivery_key=f"t/{uuid.uuid4()}/pa#1", invoice=read_invoice_file(SAMPLE),
                    route=Route(channel="pa", format=fmt), invoice_id=invoice_id or str(uuid.uuid4()),
                    tenant_id=str(uuid.uuid4()))


def adapter(pa: LoopbackPa, token: str = "tok-acme", timeout: float = 2.0) -> PaAdapter:
    return PaAdapter({"base_url": pa.url, "token": token, "timeout": timeout})


@pytest.mark.parametrize(("fmt", "syntax", "media"), [
    ("cii", "CII", "application/xml"), ("ubl", "UBL", "application/xml"), ("factur-x", "Factur-X", "application/pdf"),
])
def test_invoice_is_submitted_as_one_flow_in_the_route_format(pa: LoopbackPa, fmt: str, syntax: str, media: str) -> None:
    sent = delivery(fmt)
    result = adapter(pa).deliver(sent)
    flow = pa.flows[result.delivery_id]
    assert result.status is DeliveryStatus.QUEUED and result.channel == "pa"
    assert (flow.syntax, flow.media_type, flow.tracking_id, flow.owner) == (syntax, media, sent.invoice_id, "acme")
    assert read_invoice(flow.content).number == "F2026-0120"
    assert json.loads(result.receipt or "{}")["flowId"] == result.delivery_id
    assert [r.operation.operation_id for r in pa.requests] == ["createFlow"]


def test_route_without_format_sends_cii_and_a_pdf_route_is_refused(pa: LoopbackPa) -> None:
    result = adapter(pa).deliver(delivery(None))
    assert pa.flows[result.delivery_id].syntax == "CII"
    with pytest.raises(PermanentDeliveryError, match="CII, UBL or Factur-X"):
        adapter(pa).deliver(delivery("pdf"))


def test_a_resend_after_a_lost_answer_is_the_same_flow(pa: LoopbackPa) -> None:
    sent = delivery()
    first = adapter(pa).deliver(sent)
    again = adapter(pa).deliver(sent)
    assert first.delivery_id == again.delivery_id and len(pa.flows) == 1


def test_5xx_is_temporary_and_the_retry_goes_through(pa: LoopbackPa) -> None:
    pa.fail_next(503)
    sent = delivery()
    with pytest.raises(TemporaryDeliveryError, match="503"):
        adapter(pa).deliver(sent)
    assert adapter(pa).deliver(sent).delivery_id in pa.flows


def test_a_pa_slower_than_the_timeout_is_temporary(pa: LoopbackPa) -> None:
    pa.delay_next(2.0)
    with pytest.raises(TemporaryDeliveryError):
        adapter(pa, timeout=0.3).deliver(delivery())


def test_a_wrong_token_is_permanent_and_never_shown(pa: LoopbackPa) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        adapter(pa, token="tok-wrong-secret").deliver(delivery())
    assert "401" in str(caught.value) and "tok-wrong-secret" not in str(caught.value) + (caught.value.detail or "")
    assert "tok-acme" not in repr(FlowService(pa.url, "tok-acme"))


def test_without_any_account_the_delivery_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError, match="no PA account"):
        PaAdapter({}).deliver(delivery())


def test_flows_are_read_back_searched_and_kept_per_account(pa: LoopbackPa) -> None:
    flow_id = adapter(pa).deliver(delivery()).delivery_id
    acme, other = FlowService(pa.url, "tok-acme"), FlowService(pa.url, "tok-other")
    assert acme.flow(flow_id)["acknowledgement"]["status"] == "Pending"
    pa.acknowledge(flow_id, "Ok")
    assert acme.flow(flow_id)["acknowledgement"]["status"] == "Ok"
    assert read_invoice(acme.original(flow_id)).number == "F2026-0120"
    found = acme.search({"flowDirection": ["Out"], "ackStatus": "Ok"})
    assert [f["flowId"] for f in found["results"]] == [flow_id]
    assert other.search({"flowDirection": ["Out"]})["results"] == []
    with pytest.raises(PermanentDeliveryError, match="404"):
        other.flow(flow_id)


def test_search_pages_with_a_cursor(pa: LoopbackPa) -> None:
    for _ in range(3):
        adapter(pa).deliver(delivery())
    service = FlowService(pa.url, "tok-acme")
    first = service.search({"flowDirection": ["Out"]}, limit=2)
    second = service.search({"flowDirection": ["Out"]}, cursor=first["nextCursor"], limit=2)
    assert len(first["results"]) == 2 and len(second["results"]) == 1 and "nextCursor" not in second


def test_webhook_events_are_signed_as_the_description_says(pa: LoopbackPa) -> None:
    with LoopbackHttpServer([Answer(200)]) as receiver:
        subscription = FlowService(pa.url, "tok-acme").subscribe(f"{receiver.url}/hook")
        key = subscription["signingKey"]
        assert len(base64.b64decode(key)) == 32
        flow_id = adapter(pa).deliver(delivery()).delivery_id
        pa.acknowledge(flow_id, "Ok")
        status = pa.emit_status(flow_id, "205")
    events = receiver.received
    assert [json.loads(e.body)["flowId"] for e in events] == [flow_id, status.flow_id]
    for event in events:
        assert verify(event.body, event.headers["afnor-signature"], event.headers["afnor-signature-timestamp"], key) is None
    tampered = events[0].body.replace(b'"Ok"', b'"Error"')
    assert "does not match" in (verify(tampered, events[0].headers["afnor-signature"],
                                       events[0].headers["afnor-signature-timestamp"], key) or "")
    stale = sign(events[0].body, key, timestamp=1_000_000)
    assert "away from now" in (verify(events[0].body, stale["Afnor-Signature"], stale["Afnor-Signature-Timestamp"], key) or "")
    line = cdar.read(FlowService(pa.url, "tok-acme").original(status.flow_id)).statuses[0]
    assert (line.invoice_number, line.status_code, line.seller_siren) == ("F2026-0120", "205", "412345678")


# ---------------------------------------------------------------- the loopback refuses what the description refuses


def test_the_loopback_refuses_a_flow_info_the_description_forbids(pa: LoopbackPa) -> None:
    with pytest.raises(PermanentDeliveryError, match="400"):
        FlowService(pa.url, "tok-acme").submit({"name": "x.xml", "flowSyntax": "PDF"}, "x.xml", "application/xml", b"<x/>")
    assert any("flowSyntax" in v and "'PDF' is not one of" in v for v in pa.violations)
    pa.violations.clear()


def test_the_description_check_catches_missing_parts_wrong_media_and_no_token() -> None:
    description = OpenApiDescription(flow_spec())
    boundary = "b1"
    only_info = (f'--{boundary}\r\nContent-Disposition: form-data; name="flowInfo"\r\nContent-Type: application/json\r\n\r\n'
                 '{"name":"a","flowSyntax":"CII"}\r\n--b1--\r\n').encode()
    headers = {"authorization": "Bearer t", "content-type": f"multipart/form-data; boundary={boundary}"}
    with pytest.raises(SpecViolation, match="required part 'file'"):
        description.check_request("POST", "/v1/flows", headers, only_info)
    with pytest.raises(SpecViolation) as no_token:
        description.check_request("GET", "/v1/flows/abc", {}, b"")
    assert no_token.value.status == 401
    with pytest.raises(SpecViolation, match="docType"):
        description.check_request("GET", "/v1/flows/abc?docType=Everything", {"authorization": "Bearer t"}, b"")
    with pytest.raises(SpecViolation, match="Request-Id"):
        description.check_request("GET", "/v1/flows/abc", {"authorization": "Bearer t", "request-id": "not-a-uuid"}, b"")
    with pytest.raises(SpecViolation) as wrong_method:
        description.check_request("PUT", "/v1/flows", {"authorization": "Bearer t"}, b"")
    assert wrong_method.value.status == 405
