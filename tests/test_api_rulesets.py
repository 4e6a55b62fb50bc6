"""`/v1/rulesets`: drafts checked on save, check, test, publish, rollback, diff; roles and tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_invoice_helpers import customer, example, published, ruleset_text, xml

pytest_plugins = ["aiguillage.api.testing"]


@pytest.fixture
def analyst(api_client, api_keys):
    key = api_keys("analyst")
    customer(api_client, key.headers)
    return key


def _create(client, headers, name="buyer", content=None, customer_code="NOBUY"):
    return client.post("/v1/rulesets", json={"name": name, "customer": customer_code, "content": content},
                       headers=headers)


def test_a_draft_with_errors_is_saved_with_diagnostics_and_cannot_be_published(api_client, analyst):
    broken = ruleset_text("buyer").replace("otherwise", "otherwize")
    response = _create(api_client, analyst.headers, content=broken)
    assert response.status_code == 201
    body = response.get_json()
    assert body["has_draft"] and body["draft"]["content"] == broken and body["check"]["ok"] is False
    [diagnostic] = body["check"]["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"], diagnostic["file"]) == (4, 3, "buyer.rules")
    assert diagnostic["rendered"].startswith("buyer.rules:4:3: ")
    response = api_client.post(f"/v1/rulesets/{body['id']}/publish", json={}, headers=analyst.headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.get_json()["diagnostics"][0]["line"] == 4


def test_checker_errors_have_positions_too(api_client, analyst):
    text = ruleset_text("buyer", validate='  rule X-1 error "bad"\n    assert totals.amount_with_vatt > 0')
    body = _create(api_client, analyst.headers, content=text).get_json()
    [diagnostic] = [d for d in body["check"]["diagnostics"] if d["severity"] == "error"]
    assert diagnostic["line"] == 5 and "amount_with_vat" in diagnostic["message"]


def test_the_header_must_name_the_ruleset(api_client, analyst):
    body = _create(api_client, analyst.headers, content=ruleset_text("other")).get_json()
    assert not body["check"]["ok"] and "stored as \"buyer\"" in body["check"]["diagnostics"][0]["message"]


def test_check_endpoint_checks_given_text_or_the_draft(api_client, analyst):
    ruleset_id = _create(api_client, analyst.headers).get_json()["id"]
    response = api_client.post(f"/v1/rulesets/{ruleset_id}/check", json={}, headers=analyst.headers)
    assert response.status_code == 409  # no draft yet
    response = api_client.post(f"/v1/rulesets/{ruleset_id}/check", json={"content": ruleset_text("buyer", extends=True)},
                               headers=analyst.headers)
    assert response.status_code == 200 and response.get_json()["ok"] and response.get_json()["rule_count"] > 100


def test_publish_versions_rollback_and_diff(api_client, analyst, conformance):
    ruleset_id = published(api_client, analyst.headers, "buyer", ruleset_text("buyer"))
    peppol = ruleset_text("buyer", "otherwise -> peppol")
    api_client.put(f"/v1/rulesets/{ruleset_id}/draft", json={"content": peppol}, headers=analyst.headers)
    response = api_client.post(f"/v1/rulesets/{ruleset_id}/publish", json={"note": "to Peppol"},
                               headers=analyst.headers)
    assert response.status_code == 201
    version = response.get_json()
    assert version["number"] == 2 and version["active"] and version["content"] == peppol
    assert version["author"].startswith("key:") and version["note"] == "to Peppol"
    assert response.headers["Location"] == f"/v1/rulesets/{ruleset_id}/versions/2"

    diff = api_client.get(f"/v1/rulesets/{ruleset_id}/diff?from=1&to=2", headers=analyst.headers).get_json()
    assert "-  otherwise -> email" in diff["diff"] and "+  otherwise -> peppol" in diff["diff"]
    assert api_client.get(f"/v1/rulesets/{ruleset_id}/diff?from=1&to=1", headers=analyst.headers).get_json()["diff"] == ""

    response = api_client.post(f"/v1/rulesets/{ruleset_id}/rollback", json={"to": 1}, headers=analyst.headers)
    assert response.status_code == 201 and response.get_json()["source_version"] == 1
    detail = api_client.get(f"/v1/rulesets/{ruleset_id}", headers=analyst.headers).get_json()
    assert detail["active_version"] == 3 and [v["number"] for v in detail["versions"]] == [1, 2, 3]
    assert api_client.post(f"/v1/rulesets/{ruleset_id}/rollback", json={"to": 1},
                           headers=analyst.headers).status_code == 409
    assert api_client.get(f"/v1/rulesets/{ruleset_id}/versions/9", headers=analyst.headers).status_code == 404

    erp = {"Authorization": analyst.headers["Authorization"]}
    body = api_client.post("/v1/evaluate", data=example(conformance), headers=xml(erp)).get_json()
    assert body["ruleset"]["version"] == 3 and body["routes"][0]["channel"] == "email"


def test_a_version_effective_later_does_not_decide_yet(api_client, analyst, conformance):
    ruleset_id = published(api_client, analyst.headers, "buyer", ruleset_text("buyer"))
    api_client.put(f"/v1/rulesets/{ruleset_id}/draft", json={"content": ruleset_text("buyer", "otherwise -> fax")},
                   headers=analyst.headers)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    version = api_client.post(f"/v1/rulesets/{ruleset_id}/publish", json={"effective_from": later},
                              headers=analyst.headers).get_json()
    assert version["number"] == 2 and version["active"] is False
    body = api_client.post("/v1/evaluate", data=example(conformance), headers=xml(analyst.headers)).get_json()
    assert body["ruleset"]["version"] == 1


def test_running_cases(api_client, analyst, conformance):
    ruleset_id = _create(api_client, analyst.headers, content=ruleset_text("buyer")).get_json()["id"]
    invoice = example(conformance).decode()
    cases = [
        {"name": "e-mail", "invoice": invoice, "expect": {"valid": True, "routes": ["email"], "silent": ["BR-01"]}},
        {"name": "wrong", "invoice": invoice, "expect": {"routes": ["peppol"], "fires": ["BR-01"]}},
        {"name": "unreadable", "invoice": "<x/>"},
    ]
    response = api_client.post(f"/v1/rulesets/{ruleset_id}/test", json={"cases": cases}, headers=analyst.headers)
    assert response.status_code == 200
    report = response.get_json()
    assert (report["passed"], report["failed"]) == (1, 2)
    wrong = report["cases"][1]
    assert wrong["failures"] == ["expected BR-01 to fire; it did not", "expected routes ['peppol'], got ['email']"]
    assert "cannot be read" in report["cases"][2]["failures"][0]


def test_a_customer_has_one_ruleset_and_must_exist(api_client, analyst):
    assert _create(api_client, analyst.headers).status_code == 201
    response = _create(api_client, analyst.headers, name="second")
    assert response.status_code == 409
    response = _create(api_client, analyst.headers, name="third", customer_code="NOBODY")
    assert response.status_code == 400 and response.get_json()["errors"][0]["pointer"] == "/customer"
    assert _create(api_client, analyst.headers, name="buyer", customer_code=None).status_code == 409


def test_another_tenant_gets_404(api_client, analyst, api_keys):
    ruleset_id = published(api_client, analyst.headers, "buyer", ruleset_text("buyer"))
    stranger = api_keys("admin")
    for method, path, body in [
        ("get", f"/v1/rulesets/{ruleset_id}", None),
        ("get", f"/v1/rulesets/{ruleset_id}/versions/1", None),
        ("get", f"/v1/rulesets/{ruleset_id}/diff?from=1", None),
        ("put", f"/v1/rulesets/{ruleset_id}/draft", {"content": "x"}),
        ("post", f"/v1/rulesets/{ruleset_id}/check", {}),
        ("post", f"/v1/rulesets/{ruleset_id}/publish", {}),
        ("post", f"/v1/rulesets/{ruleset_id}/rollback", {"to": 1}),
        ("post", f"/v1/rulesets/{ruleset_id}/test", {"cases": []}),
    ]:
        response = getattr(api_client, method)(path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path, response.get_json())
    assert api_client.get("/v1/rulesets", headers=stranger.headers).get_json()["items"] == []


@pytest.mark.parametrize("role", ["erp", "approver", "customer"])
def test_roles_that_may_not_write_rulesets_get_403(api_client, analyst, api_keys, role):
    ruleset_id = _create(api_client, analyst.headers, content=ruleset_text("buyer")).get_json()["id"]
    key = api_keys(role, analyst.tenant_name)
    response = api_client.post(f"/v1/rulesets/{ruleset_id}/publish", json={}, headers=key.headers)
    assert response.status_code == 403
    response = api_client.put(f"/v1/rulesets/{ruleset_id}/draft", json={"content": "x"}, headers=key.headers)
    assert response.status_code == 403


def test_listing_and_reading(api_client, analyst, api_keys):
    ruleset_id = published(api_client, analyst.headers, "buyer", ruleset_text("buyer"))
    erp = api_keys("erp", analyst.tenant_name)
    items = api_client.get("/v1/rulesets", headers=erp.headers).get_json()["items"]
    assert [(i["name"], i["customer"], i["active_version"], i["has_draft"]) for i in items] == [("buyer", "NOBUY", 1, False)]
    assert api_client.get("/v1/rulesets?customer=ZZ", headers=erp.headers).get_json()["items"] == []
    version = api_client.get(f"/v1/rulesets/{ruleset_id}/versions/1", headers=erp.headers).get_json()
    assert version["content"] == ruleset_text("buyer") and len(version["content_hash"]) == 64
    assert api_client.get("/v1/rulesets", headers=api_keys("customer", analyst.tenant_name).headers).status_code == 403


def test_a_stored_text_cannot_read_server_files(api_client, analyst):
    text = ruleset_text("buyer").replace("\nroute", '\ninclude "/etc/passwd"\n\nroute')
    body = _create(api_client, analyst.headers, content=text).get_json()
    assert not body["check"]["ok"] and "cannot include files" in body["check"]["diagnostics"][0]["message"]
    assert "root:" not in str(body)


def test_the_document_describes_the_new_endpoints(api_client):
    document = api_client.get("/openapi.json").get_json()
    evaluate = document["paths"]["/v1/evaluate"]["post"]
    assert set(evaluate["requestBody"]["content"]) >= {"application/xml", "application/pdf", "application/json"}
    assert {"explain", "lang", "customer"} <= {p["name"] for p in evaluate["parameters"]}
    assert {"200", "400", "401", "403", "404", "409", "413", "415"} <= set(evaluate["responses"])
    submit = document["paths"]["/v1/invoices"]["post"]
    assert {"202", "409"} <= set(submit["responses"])
    assert "Idempotent-Replayed" in submit["responses"]["202"]["headers"]
    download = document["paths"]["/v1/invoices/{invoice_id}/document"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    for path in ("/v1/rulesets", "/v1/rulesets/{ruleset_id}/publish", "/v1/rulesets/{ruleset_id}/rollback",
                 "/v1/rulesets/{ruleset_id}/diff", "/v1/rulesets/{ruleset_id}/test", "/v1/rulesets/{ruleset_id}/check",
                 "/v1/rulesets/{ruleset_id}/draft", "/v1/rulesets/{ruleset_id}/versions/{number}"):
        assert path in document["paths"]


def test_a_ruleset_can_change_customer(api_client, analyst, conformance):
    ruleset_id = published(api_client, analyst.headers, "buyer", ruleset_text("buyer"), customer_code=None)
    body = api_client.post("/v1/evaluate", data=example(conformance), headers=xml(analyst.headers)).get_json()
    assert body["ruleset"]["standard"] is True
    response = api_client.patch(f"/v1/rulesets/{ruleset_id}", json={"customer": "NOBUY"}, headers=analyst.headers)
    assert response.status_code == 200 and response.get_json()["customer"] == "NOBUY"
    body = api_client.post("/v1/evaluate", data=example(conformance), headers=xml(analyst.headers)).get_json()
    assert body["ruleset"]["name"] == "buyer"
    other = _create(api_client, analyst.headers, name="other", customer_code=None).get_json()["id"]
    response = api_client.patch(f"/v1/rulesets/{other}", json={"customer": "NOBUY"}, headers=analyst.headers)
    assert response.status_code == 409
    audit = api_client.get(f"/v1/audit?target_id={ruleset_id}", headers=analyst.headers)
    assert audit.status_code == 403  # analysts do not read the audit log; the entry is there for admins
