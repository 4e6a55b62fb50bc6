"""Property-based run of schemathesis against /openapi.json (in-process, through WSGI):
no input yields a 5xx, and every answer matches the documented schema, status codes
and content types."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytest_plugins = ["aiguillage.api.testing"]


@pytest.fixture
def api_schema(api_app):
    api_app.config["EVENTS_MAX_WAIT"] = 0.2  # long-polls of an empty feed would only slow the run down
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_document(case, api_keys):
    key = api_keys("admin")
    # Left out: "positive data acceptance" (checks beyond the schema, such as a
    # row's columns being the table's, rightly refuse some schema-valid data) and
    # "negative data rejection" (the key added here undoes a generated request's
    # missing Authorization header, so the request it judges is not the one sent).
    case.call_and_validate(
        headers=key.headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.negative_data_rejection],
    )


# The invoice, evaluate and ruleset endpoints, harder: more examples, on a tenant that has a
# customer, a published ruleset and a submitted invoice, so that listings and look-ups find rows.
engine_endpoints = schema.include(path_regex=r"^/v1/(evaluate|invoices|rulesets)")


@pytest.fixture
def stocked_key(api_app, api_keys):
    from pathlib import Path

    key = api_keys("admin")
    client = api_app.test_client()
    client.post("/v1/customers", json={"code": "NOBUY", "name": "Buyer", "vat_identifier": "NO987654321MVA"},
                headers=key.headers)
    created = client.post("/v1/rulesets", json={"name": "buyer", "customer": "NOBUY",
                                                "content": 'ruleset "buyer"\nroute\n  otherwise -> portal\n'},
                          headers=key.headers).get_json()
    client.post(f"/v1/rulesets/{created['id']}/publish", json={}, headers=key.headers)
    example = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "en16931" / "ubl-examples"
    invoice = example / "ubl-tc434-example2.xml"
    if invoice.is_file():
        client.post("/v1/invoices", data=invoice.read_bytes(),
                    headers={**key.headers, "Content-Type": "application/xml"})
    return key


@engine_endpoints.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_engine_endpoints_never_answer_5xx(case, stocked_key):
    case.call_and_validate(
        headers=stocked_key.headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.negative_data_rejection],
    )
