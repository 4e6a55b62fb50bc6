"""GET /openapi.json is a valid OpenAPI 3.1 document that matches the routes; health needs no key."""

from __future__ import annotations

from openapi_spec_validator import validate

from aiguillage.api import create_app
from aiguillage.api.endpoint import operation_of

pytest_plugins = ["aiguillage.api.testing"]


def test_document_is_valid_openapi_31(api_client):
    response = api_client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_describes_bodies_roles_and_problems(api_client):
    document = api_client.get("/openapi.json").json
    create = document["paths"]["/v1/customers"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CustomerCreate"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Customer"}
    assert create["security"] == [{"bearer": []}]
    assert "Roles: admin, analyst, erp." in create["description"]
    assert create["responses"]["403"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDocument")
    customer_schema = document["components"]["schemas"]["CustomerCreate"]
    assert customer_schema["additionalProperties"] is False
    assert "pattern" in document["components"]["schemas"]["PostalAddress"]["properties"]["country_code"]

    get_one = document["paths"]["/v1/customers/{customer_id}"]["get"]
    assert get_one["parameters"][0] == {"name": "customer_id", "in": "path", "required": True,
                                        "schema": {"type": "string", "format": "uuid"}}
    listing = document["paths"]["/v1/customers"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"code", "after", "limit"}
    assert document["paths"]["/v1/health"]["get"]["security"] == []

    # A repeat of a submission gets the first answer (202, same body), told apart by a header only.
    submit = document["paths"]["/v1/invoices"]["post"]
    assert "200" not in submit["responses"] and "Idempotent-Replayed" in submit["responses"]["202"]["headers"]
    accepted = document["components"]["schemas"]["InvoiceAccepted"]["properties"]
    assert accepted["duplicate"]["deprecated"] is True


def test_every_v1_route_is_declared_and_all_but_health_need_a_key(api_app):
    v1_rules = [rule for rule in api_app.url_map.iter_rules() if rule.rule.startswith("/v1")]
    assert {"/v1/health", "/v1/customers"} <= {rule.rule for rule in v1_rules}
    for rule in v1_rules:
        operation = operation_of(api_app.view_functions[rule.endpoint])
        assert operation is not None, f"{rule.rule} is not declared with @endpoint"
        # Called by a PA (issue 16) or the PSP (issue 14): authenticated by the request's HMAC signature.
        if rule.rule not in {"/v1/health", "/v1/pa/webhooks", "/v1/payments/webhooks/stripe"}:
            assert operation.roles, f"{rule.rule} admits no role or is public"


def test_health_needs_no_key(api_client):
    response = api_client.get("/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["schema_revision"]


def test_health_is_503_on_a_database_behind_its_schema(empty_database):
    app = create_app({"DATABASE_URL": empty_database("sqlite"), "CHECK_SCHEMA": False})
    response = app.test_client().get("/v1/health")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "aiguillage db upgrade" in response.json["detail"]
    app.extensions["aiguillage.database"].engine.dispose()


def test_the_app_refuses_to_start_on_an_old_schema(empty_database):
    import pytest

    from aiguillage.store.errors import SchemaNotCurrent

    with pytest.raises(SchemaNotCurrent):
        create_app({"DATABASE_URL": empty_database("sqlite")})
