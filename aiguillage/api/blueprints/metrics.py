"""`GET /metrics`: the Prometheus text format, for the operator's scraper.

Two sources: the request-latency histograms of every server worker
(`prometheus_client`, multi-process mode under gunicorn) and gauges read
from the store at scrape time (`store.gauges`): invoices by status
(submissions, holds, what is stuck `received`), decisions, deliveries by
channel and status, outbox depth and the age of its oldest entry, dead
letters, workflow timers due. Figures are totals across tenants, never a
tenant's data. Set `AIGUILLAGE_METRICS_TOKEN` to require
`Authorization: Bearer <token>`; otherwise keep the path on the internal
network (docs/operators.md).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from aiguillage.api import database
from aiguillage.api.problems import Problem
from aiguillage.store.gauges import read_gauges

blueprint = Blueprint("metrics", __name__)


class StoreCollector(Collector):
    """Gauges read from the store, once per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with database.database().reading_sessions() as session:
            gauges = read_gauges(session)
        invoices = GaugeMetricFamily("aiguillage_invoices", "Invoices stored, by status (sum: submissions stored)",
                                     labels=["status"])
        for status, count in sorted(gauges.invoices.items()):
            invoices.add_metric([status], count)
        yield invoices
        yield GaugeMetricFamily("aiguillage_invoices_held", "Invoices held (approval, probable duplicate, no route)",
                                value=gauges.invoices.get("held", 0))
        yield GaugeMetricFamily("aiguillage_decisions", "Decisions recorded", value=gauges.decisions)
        deliveries = GaugeMetricFamily("aiguillage_deliveries", "Outbox entries by channel and status",
                                       labels=["channel", "status"])
        for (channel, status), count in sorted(gauges.deliveries.items()):
            deliveries.add_metric([channel, status], count)
        yield deliveries
        yield GaugeMetricFamily("aiguillage_outbox_depth", "Deliveries still to make (pending, retrying, sending)",
                                value=gauges.outbox_depth)
        yield GaugeMetricFamily("aiguillage_outbox_oldest_age_seconds", "Age of the oldest delivery still to make",
                                value=gauges.outbox_oldest_age_s)
        yield GaugeMetricFamily("aiguillage_received_oldest_age_seconds",
                                "Age of the oldest invoice not yet decided (above ~15 s: is a worker running?)",
                                value=gauges.received_oldest_age_s)
        yield GaugeMetricFamily("aiguillage_dead_letters", "Deliveries given up on (dead)", value=gauges.dead_letters)
        yield GaugeMetricFamily("aiguillage_timers_due", "Workflow timers due and not fired yet", value=gauges.timers_due)


@blueprint.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            raise Problem(401, "give the metrics token as Authorization: Bearer …", type="unauthorized",
                          title="Unauthorized", headers={"WWW-Authenticate": "Bearer"})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        text = generate_latest(processes)
    else:
        text = generate_latest(REGISTRY)
    store = CollectorRegistry()
    store.register(StoreCollector())
    return Response(text + generate_latest(store), mimetype=CONTENT_TYPE_LATEST)
