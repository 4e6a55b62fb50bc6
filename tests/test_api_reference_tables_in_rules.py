"""Stored rulesets reading the tenant's reference tables (`table NAME key COL`), through the API."""

from __future__ import annotations

from api_invoice_helpers import customer, example, published, republish

pytest_plugins = ["aiguillage.api.testing"]

#: Example 2 is in NOK, 1801.78 with VAT.
LIMITS = {
    "name": "limits",
    "key": "currency",
    "columns": ["currency", "max_total", "note"],
    "rows": [{"currency": "NOK", "max_total": "1000.00", "note": "small budget"}],
}

RULESET = '''ruleset "buyer"

table limits key currency
  shape
    currency code required
    max_total amount required
    note text

validate
  rule LIM-01 error "over the {limits[currency_code].note} of {limits[currency_code].max_total}"
    when limits[currency_code] exists
    assert totals.amount_with_vat <= limits[currency_code].max_total

route
  otherwise -> print
'''


def _evaluate(client, headers, conformance) -> dict:
    response = client.post("/v1/evaluate", data=example(conformance),
                           headers={**headers, "Content-Type": "application/xml"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _limit_findings(body: dict) -> list[dict]:
    return [f for f in body["findings"] if f["rule"] == "LIM-01"]


def _create_table(client, headers, table: dict = LIMITS) -> str:
    response = client.post("/v1/tables", json=table, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.headers["Location"]


def test_a_published_ruleset_looks_up_the_tenants_table_and_sees_updates(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    location = _create_table(api_client, key.headers)
    published(api_client, key.headers, "buyer", RULESET)
    [finding] = _limit_findings(_evaluate(api_client, key.headers, conformance))
    assert finding["message"] == "over the small budget of 1000.00"

    # The table changes: the very next request decides with the new rows, no republishing.
    row = {"currency": "NOK", "max_total": "5000.00", "note": "large budget"}
    assert api_client.put(f"{location}/rows/NOK", json=row, headers=key.headers).status_code == 200
    assert _limit_findings(_evaluate(api_client, key.headers, conformance)) == []

    row = {"currency": "NOK", "max_total": "10.00", "note": "tiny budget"}
    assert api_client.put(f"{location}/rows/NOK", json=row, headers=key.headers).status_code == 200
    [finding] = _limit_findings(_evaluate(api_client, key.headers, conformance))
    assert finding["message"] == "over the tiny budget of 10.00"


def test_another_tenants_table_of_the_same_name_is_not_visible(api_client, api_keys, conformance):
    theirs, mine = api_keys("admin"), api_keys("admin")
    _create_table(api_client, theirs.headers)
    customer(api_client, mine.headers)
    response = api_client.post("/v1/rulesets", json={"name": "buyer", "customer": "NOBUY", "content": RULESET},
                               headers=mine.headers)
    check = response.get_json()["check"]
    assert not check["ok"]
    assert "no reference table named limits in this tenant" in check["diagnostics"][0]["message"]

    # Same text in both tenants, each with its own rows: each sees only its own.
    customer(api_client, theirs.headers)
    published(api_client, theirs.headers, "buyer", RULESET)
    _create_table(api_client, mine.headers, {**LIMITS, "rows": [{"currency": "NOK", "max_total": "9999.00"}]})
    assert republish(api_client, mine.headers, response.get_json()["id"], RULESET) == 1
    assert len(_limit_findings(_evaluate(api_client, theirs.headers, conformance))) == 1
    assert _limit_findings(_evaluate(api_client, mine.headers, conformance)) == []


def test_a_row_breaking_the_shape_is_a_problem_on_publish_and_on_evaluate(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    bad = {**LIMITS, "rows": [{"currency": "NOK", "max_total": "a lot"}]}
    location = _create_table(api_client, key.headers, bad)
    response = api_client.post("/v1/rulesets", json={"name": "buyer", "customer": "NOBUY", "content": RULESET},
                               headers=key.headers)
    check = response.get_json()["check"]
    assert not check["ok"]
    message = check["diagnostics"][0]["message"]
    assert "reference table limits" in message and "max_total" in message and "'a lot'" in message
    ruleset_id = response.get_json()["id"]
    assert api_client.post(f"/v1/rulesets/{ruleset_id}/publish", json={}, headers=key.headers).status_code == 422

    # Published while the rows were right, broken afterwards: evaluating says why instead of deciding.
    good = {"currency": "NOK", "max_total": "1000.00"}
    assert api_client.put(f"{location}/rows/NOK", json=good, headers=key.headers).status_code == 200
    assert api_client.post(f"/v1/rulesets/{ruleset_id}/publish", json={}, headers=key.headers).status_code == 201
    assert len(_limit_findings(_evaluate(api_client, key.headers, conformance))) == 1
    worse = {"currency": "NOK", "max_total": "unknown"}
    assert api_client.put(f"{location}/rows/NOK", json=worse, headers=key.headers).status_code == 200
    response = api_client.post("/v1/evaluate", data=example(conformance),
                               headers={**key.headers, "Content-Type": "application/xml"})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert "max_total" in response.get_json()["detail"] and "'unknown'" in response.get_json()["detail"]


def test_a_table_from_a_file_is_still_refused_with_the_way_out(api_client, api_keys):
    key = api_keys("admin")
    text = RULESET.replace("table limits key currency", 'table limits from "/etc/limits.csv" key currency')
    body = api_client.post("/v1/rulesets", json={"name": "buyer", "content": text, "customer": None},
                           headers=key.headers).get_json()
    assert not body["check"]["ok"]
    assert "write `table limits key currency`" in body["check"]["diagnostics"][0]["message"]
