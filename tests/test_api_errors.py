"""Every error is an RFC 9457 problem document: right status, right shape, never HTML or a trace."""

from __future__ import annotations

import pytest
from flask import request

from aiguillage.api import create_app
from aiguillage.model.syntaxes import read_invoice

pytest_plugins = ["aiguillage.api.testing"]

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    return body


def test_unknown_path_is_404(api_client):
    body = assert_problem(api_client.get("/v2/nothing"), 404)
    assert body["instance"] == "/v2/nothing" and body["type"] == "about:blank"


def test_wrong_method_is_405_with_allow(api_client):
    response = api_client.delete("/v1/health")
    body = assert_problem(response, 405)
    assert "GET" in response.headers["Allow"] and "DELETE" in body["detail"]


@pytest.mark.parametrize(
    ("header", "error"),
    [(None, None), ("Basic dXNlcjpwYXNz", "invalid_request"), ("Bearer aig_" + "x" * 40, "invalid_token"), ("Bearer ", "invalid_request")],
)
def test_missing_or_bad_keys_are_401_with_a_challenge(api_client, header, error):
    headers = {"Authorization": header} if header else {}
    response = api_client.get("/v1/customers", headers=headers)
    assert_problem(response, 401)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert (error is None) or f'error="{error}"' in challenge


def test_revoked_key_is_401(api_client, api_keys, sqlite_url):
    from aiguillage.store.actor import CLI
    from aiguillage.store.database import make_engine, session_factory, transaction
    from aiguillage.store.repositories.keys import ApiKeys, resolve

    key = api_keys("admin")
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        principal = resolve(session, key.plaintext)
        ApiKeys(session, principal.tenant_id).revoke(principal.key_id, CLI)
    engine.dispose()
    assert_problem(api_client.get("/v1/customers", headers=key.headers), 401)


def test_wrong_role_is_403_and_says_which_roles(api_client, api_keys):
    body = assert_problem(api_client.get("/v1/audit", headers=api_keys("erp").headers), 403)
    assert "admin" in body["detail"] and "erp" in body["detail"]


def test_body_over_the_limit_is_413(sqlite_url, api_keys):
    app = create_app({"DATABASE_URL": sqlite_url, "MAX_BODY_BYTES": 1024})
    key = api_keys("admin")
    body = b'{"code": "X", "name": "' + b"x" * 2000 + b'"}'
    response = app.test_client().post("/v1/customers", data=body, headers={**key.headers, "Content-Type": "application/json"})
    problem = assert_problem(response, 413)
    assert "1,024" in problem["detail"]
    app.extensions["aiguillage.database"].engine.dispose()


def test_limit_comes_from_the_environment(sqlite_url, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_MAX_BODY_BYTES", "2048")
    app = create_app({"DATABASE_URL": sqlite_url})
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    response = app.test_client().post("/v1/customers", data=b"x" * 4096, content_type="application/json")
    assert_problem(response, 413)
    app.extensions["aiguillage.database"].engine.dispose()


def test_invalid_json_names_line_and_column(api_client, api_keys):
    response = api_client.post("/v1/customers", data=b'{\n  "code": "A",\n  "name": }', headers={**api_keys("erp").headers, "Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert (body["line"], body["column"]) == (3, 11)


def test_invalid_values_are_named_by_json_pointer(api_client, api_keys):
    response = api_client.post(
        "/v1/customers",
        json={"code": "A", "name": "A", "email": "not-an-address", "postal_address": {"country_code": "France"}, "colour": "red"},
        headers=api_keys("erp").headers,
    )
    body = assert_problem(response, 400)
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/email", "/postal_address/country_code", "/colour"}
    assert body["type"] == "urn:aiguillage:problem:invalid-request"


def test_invalid_query_parameters_are_named(api_client, api_keys):
    body = assert_problem(api_client.get("/v1/customers?limit=0&colour=red", headers=api_keys("erp").headers), 400)
    assert {e["parameter"] for e in body["errors"]} == {"limit", "colour"}
    body = assert_problem(api_client.get("/v1/customers?limit=1&limit=2", headers=api_keys("erp").headers), 400)


def test_a_body_that_is_not_json_is_415(api_client, api_keys):
    response = api_client.post("/v1/customers", data="code=A", headers={**api_keys("erp").headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(response, 415)


@pytest.fixture
def reading_app(sqlite_url):
    """An app with one extra route that reads an invoice body, as /v1/evaluate will."""
    app = create_app({"DATABASE_URL": sqlite_url, "MAX_BODY_BYTES": 64 * 1024})

    @app.post("/test/read")
    def read() -> dict:
        invoice = read_invoice(request.get_data(), "request body", limit=4096)
        return {"number": invoice.number}

    @app.get("/test/boom")
    def boom() -> dict:
        raise RuntimeError("secret internals")

    yield app
    app.extensions["aiguillage.database"].engine.dispose()


def test_unreadable_xml_gives_line_and_column(reading_app):
    client = reading_app.test_client()
    body = assert_problem(client.post("/test/read", data=b"<Invoice>\n  <a>\n</Invoice>"), 400)
    assert body["kind"] == "malformed" and body["line"] == 3 and body["column"] is not None

    hostile = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n<Invoice>&e;</Invoice>'
    body = assert_problem(client.post("/test/read", data=hostile), 400)
    assert body["kind"] == "hostile" and "DTD" in body["detail"]

    body = assert_problem(client.post("/test/read", data=b'{"number": "A", "lines": "x"}'), 400)
    assert body["pointer"] == "/lines"

    body = assert_problem(client.post("/test/read", data=b"<x/>" + b" " * 5000), 413)


def test_unexpected_errors_are_a_bare_500(reading_app):
    reading_app.config["PROPAGATE_EXCEPTIONS"] = False
    body = assert_problem(reading_app.test_client().get("/test/boom"), 500)
    assert "secret" not in body["detail"]
