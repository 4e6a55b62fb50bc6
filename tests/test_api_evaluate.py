"""`POST /v1/evaluate`: the dry run, through Flask's test client."""

from __future__ import annotations

import pytest
from api_invoice_helpers import (
    FAILING_RULE,
    customer,
    example,
    published,
    republish,
    ruleset_text,
    xml,
)

from aiguillage.api import create_app
from aiguillage.engine.stored import stored_rulesets
from aiguillage.model.invoice import Identifier
from aiguillage.model.syntaxes import read_invoice, write_invoice

pytest_plugins = ["aiguillage.api.testing"]


def _evaluate(client, headers, body: bytes, query: str = "", content_type: str = "application/xml"):
    return client.post(f"/v1/evaluate{query}", data=body, headers={**headers, "Content-Type": content_type})


def test_without_a_stored_ruleset_the_standard_one_decides(api_client, api_keys, conformance):
    key = api_keys("erp")
    response = _evaluate(api_client, key.headers, example(conformance))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ruleset"] == {"name": "en16931", "version": None, "version_id": None, "content_hash": None,
                               "standard": True}
    assert body["customer"] is None and body["routes"] == []
    assert {"name": "en16931", "version": "1.3.16"} in body["rulesets"]


def test_the_buyer_is_matched_to_a_customer_and_its_published_version_decides(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    published(api_client, key.headers, "buyer", ruleset_text("buyer", extends=True))
    body = _evaluate(api_client, key.headers, example(conformance)).get_json()
    assert body["customer"] == "NOBUY"
    assert body["ruleset"]["name"] == "buyer" and body["ruleset"]["version"] == 1
    assert [r["name"] for r in body["rulesets"]] == ["en16931", "buyer"]
    assert [(r["channel"], r["to"]) for r in body["routes"]] == [("email", "ap@buyer.example")]


@pytest.mark.parametrize(("field", "value"), [
    ("peppol_participant_id", "0192:987654321"),
    ("legal_identifier", "987654321"),
])
def test_other_buyer_ids_match_too(api_client, api_keys, conformance, field, value):
    key = api_keys("admin")
    customer(api_client, key.headers, vat_identifier=None, **{field: value})
    published(api_client, key.headers, "buyer", ruleset_text("buyer"))
    data = example(conformance)
    if field == "peppol_participant_id":  # give the buyer an electronic address (BT-49)
        invoice = read_invoice(data)
        invoice.buyer.vat_identifier = None
        invoice.buyer.electronic_address = Identifier(value="987654321", scheme="0192")
        data = write_invoice(invoice, "ubl")
    assert _evaluate(api_client, key.headers, data).get_json()["customer"] == "NOBUY"


def test_the_customer_parameter_wins_and_an_unknown_one_is_404(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers, code="OTHER", vat_identifier="XX1")
    published(api_client, key.headers, "other", ruleset_text("other", "otherwise -> print"), customer_code="OTHER")
    body = _evaluate(api_client, key.headers, example(conformance), "?customer=OTHER").get_json()
    assert body["customer"] == "OTHER" and [r["channel"] for r in body["routes"]] == ["print"]
    response = _evaluate(api_client, key.headers, example(conformance), "?customer=NOPE")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_two_customers_with_the_buyers_id_is_409(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers, code="A")
    customer(api_client, key.headers, code="B")
    response = _evaluate(api_client, key.headers, example(conformance))
    assert response.status_code == 409 and "A, B" in response.get_json()["detail"]


def test_a_tenant_default_ruleset_decides_for_customers_without_one(api_client, api_keys, conformance):
    key = api_keys("admin")
    published(api_client, key.headers, "default", ruleset_text("default", "otherwise -> portal"), customer_code=None)
    body = _evaluate(api_client, key.headers, example(conformance)).get_json()
    assert body["ruleset"]["name"] == "default" and [r["channel"] for r in body["routes"]] == ["portal"]


def test_explain_and_french_messages(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    published(api_client, key.headers, "buyer", ruleset_text("buyer", validate=FAILING_RULE))
    body = _evaluate(api_client, key.headers, example(conformance), "?explain=true&lang=fr").get_json()
    finding = next(f for f in body["findings"] if f["rule"] == "T-01")
    assert finding["message"] == "le numéro de facture TOSL108 est refusé"
    assert any(e["rule"] == "T-01" and e["fired"] for e in body["explain"])
    assert _evaluate(api_client, key.headers, example(conformance)).get_json()["explain"] is None


def test_a_new_version_is_used_on_the_next_request_and_compiled_once(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    ruleset_id = published(api_client, key.headers, "buyer", ruleset_text("buyer"))
    assert _evaluate(api_client, key.headers, example(conformance)).get_json()["routes"][0]["channel"] == "email"
    republish(api_client, key.headers, ruleset_id, ruleset_text("buyer", "otherwise -> peppol"))
    body = _evaluate(api_client, key.headers, example(conformance)).get_json()
    assert body["ruleset"]["version"] == 2 and body["routes"][0]["channel"] == "peppol"
    before = stored_rulesets().compilations
    for _ in range(3):
        _evaluate(api_client, key.headers, example(conformance))
    assert stored_rulesets().compilations == before


def test_json_and_detected_bodies(api_client, api_keys, conformance):
    key = api_keys("erp")
    data = example(conformance)
    as_json = write_invoice(read_invoice(data), "json")
    assert _evaluate(api_client, key.headers, as_json, content_type="application/json").status_code == 200
    assert _evaluate(api_client, key.headers, data, content_type="application/octet-stream").status_code == 200
    response = api_client.post("/v1/evaluate", data=data, headers=key.headers)
    assert response.status_code == 200
    facturx = write_invoice(read_invoice(data), "facturx")
    assert _evaluate(api_client, key.headers, facturx, content_type="application/pdf").status_code == 200


def test_malformed_xml_is_400_with_line_and_column(api_client, api_keys):
    key = api_keys("erp")
    response = _evaluate(api_client, key.headers, b"<Invoice>\n  <a></b>\n</Invoice>")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["line"], body["column"]) == (2, 10) and body["kind"] == "malformed"


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>',
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
])
def test_hostile_xml_is_refused_with_400(api_client, api_keys, document):
    key = api_keys("erp")
    response = _evaluate(api_client, key.headers, document)
    assert response.status_code == 400 and response.get_json()["kind"] == "hostile"


def test_wrong_or_mismatched_media_types(api_client, api_keys, conformance):
    key = api_keys("erp")
    assert _evaluate(api_client, key.headers, b"hello", content_type="text/plain").status_code == 415
    response = _evaluate(api_client, key.headers, example(conformance), content_type="application/pdf")
    assert response.status_code == 400 and "XML" in response.get_json()["detail"]
    assert _evaluate(api_client, key.headers, b"").status_code == 400


def test_a_body_over_the_limit_is_413(sqlite_url, api_keys, conformance):
    app = create_app({"DATABASE_URL": sqlite_url, "MAX_BODY_BYTES": 1000})
    key = api_keys("erp")
    response = _evaluate(app.test_client(), key.headers, example(conformance))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", ["approver", "customer"])
def test_roles_that_may_not_evaluate_get_403(api_client, api_keys, conformance, role):
    key = api_keys(role)
    assert _evaluate(api_client, key.headers, example(conformance)).status_code == 403


def test_no_key_is_401(api_client, conformance):
    assert api_client.post("/v1/evaluate", data=example(conformance), headers=xml({})).status_code == 401
