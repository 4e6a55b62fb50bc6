"""Operators see the service: a request id on every request, one JSON log line per request, latency histograms.

`X-Request-Id` is honoured when it looks like an id (letters, digits,
`.`, `_`, `-`; at most 128), else one is made; it is echoed in the answer
and carried in the log line, so an ERP's support ticket finds the line.
Latency goes to a Prometheus histogram by route template (never the raw
path: ids would make one series per invoice). Under gunicorn the
histogram lives in `PROMETHEUS_MULTIPROC_DIR` (set by `aiguillage serve`)
so `/metrics` on any worker reports all of them.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import Histogram

#: Logger of the per-request lines (`aiguillage serve` prints them, one JSON object per line).
REQUESTS = logging.getLogger("aiguillage.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

LATENCY = Histogram(
    "aiguillage_request_duration_seconds", "Time to answer an HTTP request, by route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def request_id() -> str:
    """This request's id (made on first use outside a request's hooks)."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return str(g.request_id)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    g.started = time.perf_counter()
    request_id()


#: (method, route, status) → its histogram child: `labels()` checks and joins the values on every call.
_SERIES: dict[tuple[str, str, int], Any] = {}


def _series(method: str, route: str, status: int) -> Any:
    key = (method, route, status)
    child = _SERIES.get(key)
    if child is None:  # bounded: routes are templates and methods and statuses few
        child = _SERIES[key] = LATENCY.labels(method, route, str(status))
    return child


def _finish(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    _series(request.method, route, response.status_code).observe(elapsed)
    identifier = request_id()
    response.headers["X-Request-Id"] = identifier
    if REQUESTS.isEnabledFor(logging.INFO):
        principal = g.get("principal")
        REQUESTS.info(json.dumps({
            "event": "request", "request_id": identifier, "method": request.method, "path": request.path,
            "route": route, "status": response.status_code, "duration_ms": round(elapsed * 1000, 2),
            "tenant": str(getattr(principal, "tenant_id", "")) or None,
            "idempotency_key": request.headers.get("Idempotency-Key"),
            "location": response.headers.get("Location"),
        }))
    return response
