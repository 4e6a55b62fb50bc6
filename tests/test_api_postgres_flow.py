"""The invoice and ruleset flow on PostgreSQL: the same queries, the other database."""

from __future__ import annotations

from api_invoice_helpers import customer, example, published, republish, ruleset_text, xml

from aiguillage.api import create_app
from aiguillage.api.testing import issue_key

pytest_plugins = ["aiguillage.api.testing"]


def test_publish_evaluate_submit_and_read_on_postgresql(postgres_url, conformance):
    app = create_app({"DATABASE_URL": postgres_url, "TESTING": True})
    try:
        client = app.test_client()
        key = issue_key(postgres_url, "admin")
        customer(client, key.headers)
        ruleset_id = published(client, key.headers, "buyer", ruleset_text("buyer"))
        assert republish(client, key.headers, ruleset_id, ruleset_text("buyer", "otherwise -> peppol")) == 2
        body = client.post("/v1/evaluate", data=example(conformance), headers=xml(key.headers)).get_json()
        assert body["customer"] == "NOBUY" and body["ruleset"]["version"] == 2

        first = client.post("/v1/invoices", data=example(conformance), headers=xml(key.headers, **{"Idempotency-Key": "a"}))
        assert first.status_code == 202 and first.get_json()["status"] == "queued"
        again = client.post("/v1/invoices", data=example(conformance), headers=xml(key.headers, **{"Idempotency-Key": "a"}))
        assert again.status_code == 202 and again.get_json() == first.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        detail = client.get(first.headers["Location"], headers=key.headers).get_json()
        assert [d["channel"] for d in detail["deliveries"]] == ["peppol"]
        page = client.get("/v1/invoices?limit=1&status=queued", headers=key.headers).get_json()
        assert [i["id"] for i in page["items"]] == [first.get_json()["id"]]
        diff = client.get(f"/v1/rulesets/{ruleset_id}/diff?from=1&to=2", headers=key.headers).get_json()
        assert "+  otherwise -> peppol" in diff["diff"]
    finally:
        app.extensions["aiguillage.database"].engine.dispose()
