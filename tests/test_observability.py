"""Operators see it: `/metrics` in the Prometheus text format, one JSON log line per request with its request id."""

from __future__ import annotations

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from aiguillage.testing.cluster import invoice_document

pytest_plugins = ["aiguillage.api.testing"]


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_request_id_is_honoured_or_made_and_logged_as_json(api_client, api_keys, caplog):
    key = api_keys("erp")
    with caplog.at_level(logging.INFO, logger="aiguillage.requests"):
        given = api_client.post("/v1/invoices", data=invoice_document("OBS-1"),
                                headers={**key.headers, "Content-Type": "application/json",
                                         "Idempotency-Key": "obs-1", "X-Request-Id": "erp-run-42.7"})
        made = api_client.get("/v1/health", headers={"X-Request-Id": "not an id!"})
    assert given.status_code == 202 and given.headers["X-Request-Id"] == "erp-run-42.7"
    assert len(made.headers["X-Request-Id"]) == 32 and made.headers["X-Request-Id"] != "not an id!"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "aiguillage.requests"]
    submitted = next(line for line in lines if line["request_id"] == "erp-run-42.7")
    assert submitted["event"] == "request" and submitted["status"] == 202 and submitted["route"] == "/v1/invoices"
    assert submitted["idempotency_key"] == "obs-1" and submitted["tenant"] == str(key.tenant_id)
    assert submitted["location"] == given.get_json()["status_url"]
    assert any(line["request_id"] == made.headers["X-Request-Id"] for line in lines)


def test_metrics_report_latency_and_store_gauges(api_app, api_client, api_keys):
    key = api_keys("erp")
    before = _samples(api_client.get("/metrics").get_data(as_text=True))
    response = api_client.post("/v1/invoices", data=invoice_document("OBS-2"),
                               headers={**key.headers, "Content-Type": "application/json", "Idempotency-Key": "obs-2"})
    assert response.status_code == 202
    metrics = api_client.get("/metrics")
    assert metrics.status_code == 200 and metrics.mimetype == "text/plain"
    after = _samples(metrics.get_data(as_text=True))
    route = (("method", "POST"), ("route", "/v1/invoices"), ("status", "202"))
    assert after[("aiguillage_request_duration_seconds_count", route)] == \
        before.get(("aiguillage_request_duration_seconds_count", route), 0) + 1
    status = response.get_json()["status"]
    assert after[("aiguillage_invoices", (("status", status),))] == \
        before.get(("aiguillage_invoices", (("status", status),)), 0) + 1
    for name in ("aiguillage_decisions", "aiguillage_outbox_depth", "aiguillage_outbox_oldest_age_seconds",
                 "aiguillage_dead_letters", "aiguillage_timers_due", "aiguillage_received_oldest_age_seconds",
                 "aiguillage_invoices_held"):
        assert (name, ()) in after, name
    assert after[("aiguillage_decisions", ())] == before[("aiguillage_decisions", ())] + 1


def test_metrics_token_when_configured(api_app, api_client):
    api_app.config["METRICS_TOKEN"] = "s3cret"
    assert api_client.get("/metrics").status_code == 401
    assert api_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api_client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
