"""A loopback server speaking the part of Stripe's API we use, and signing its webhooks as Stripe does.

It answers the official `stripe` library (pointed at it with its base
address): `POST /v1/checkout/sessions` (form-encoded, bracketed keys,
`Idempotency-Key` honoured: the same key gives the same session),
`GET /v1/checkout/sessions/{id}`, with Stripe's error shape for a bad key or
an unknown session. `pay(session_id)` plays the customer finishing the
hosted page: the session becomes paid and a `checkout.session.completed`
event is POSTed to the webhook URL with a `Stripe-Signature` header made
here, independently of the library: `t=<unix time>,v1=<hex HMAC-SHA256 of
"t.payload" keyed with the endpoint secret>`. The library's own verification
must accept it; `deliver(..., tamper=True)` sends one it must refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back to a document: `line_items[0][price_data][currency]=eur`."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [p for p in re.split(r"[\[\]]+", key) if p != ""]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following = None if last else parts[i + 1]
            container: Any = [] if following is not None and following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    node[index] = node[index] if node[index] is not None else container
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container)
    return root


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for a payload, as Stripe computes it."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


class LoopbackStripe:
    """Start with `with LoopbackStripe(api_key, webhook_secret, webhook_url) as psp:`; `psp.base_url`."""

    def __init__(self, api_key: str, webhook_secret: str, webhook_url: str | None = None) -> None:
        self.api_key, self.webhook_secret, self.webhook_url = api_key, webhook_secret, webhook_url
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_idempotency: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.events: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ the API

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        psp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(8))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {psp.api_key}":
                    self._answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
                    return False
                return True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                if not self._authorised():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = _nest(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                psp.requests.append(("POST", self.path, form))
                if self.path != "/v1/checkout/sessions":
                    self._answer(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})
                    return
                key = self.headers.get("Idempotency-Key")
                with psp._lock:
                    if key and key in psp.by_idempotency:
                        self._answer(200, psp.sessions[psp.by_idempotency[key]])
                        return
                    session = psp._create(form)
                    if key:
                        psp.by_idempotency[key] = session["id"]
                self._answer(200, session)

            def do_GET(self) -> None:  # noqa: N802
                if not self._authorised():
                    return
                psp.requests.append(("GET", self.path, {}))
                match = re.fullmatch(r"/v1/checkout/sessions/([A-Za-z0-9_]+)", self.path.split("?")[0])
                session = psp.sessions.get(match.group(1)) if match else None
                if session is None:
                    self._answer(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                                 "message": "No such checkout.session"}})
                    return
                self._answer(200, session)

        return Handler

    def _create(self, form: dict[str, Any]) -> dict[str, Any]:
        items = form.get("line_items") or []
        currencies = {i["price_data"]["currency"] for i in items}
        if not items or len(currencies) != 1:
            raise ValueError("line_items with one currency are required")
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity") or 1) for i in items)
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id, "object": "checkout.session", "mode": form.get("mode"),
            "url": f"{self.base_url}/c/pay/{session_id}", "status": "open", "payment_status": "unpaid",
            "amount_total": total, "currency": currencies.pop(), "metadata": form.get("metadata") or {},
            "client_reference_id": form.get("client_reference_id"), "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"), "payment_intent": None, "livemode": False,
            "created": int(time.time()),
        }
        self.sessions[session_id] = session
        return session

    # ------------------------------------------------------------------ the customer, and webhooks

    def pay(self, session_id: str, *, deliver: bool = True) -> str:
        """The customer paid on the hosted page: the session completes and its event is sent; the event id."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent="pi_" + secrets.token_hex(12))
        return self.emit("checkout.session.completed", session, deliver=deliver)

    def expire(self, session_id: str) -> str:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired")
        return self.emit("checkout.session.expired", session)

    def emit(self, event_type: str, obj: dict[str, Any], *, deliver: bool = True) -> str:
        event_id = "evt_" + secrets.token_hex(12)
        payload = json.dumps({"id": event_id, "object": "event", "api_version": "2025-09-30.clover",
                              "created": int(time.time()), "type": event_type, "livemode": False,
                              "data": {"object": dict(obj)}}).encode()
        self.events[event_id] = payload
        if deliver:
            self.deliver(event_id)
        return event_id

    def deliver(self, event_id: str, *, tamper: bool = False, timestamp: int | None = None,
                secret: str | None = None) -> tuple[int, bytes]:
        """POST the event to the webhook URL, signed (or tampered with after signing); (status, body)."""
        payload = self.events[event_id]
        header = sign(payload, secret or self.webhook_secret, timestamp)
        if tamper:
            payload = payload.replace(b'"amount_total": ', b'"amount_total": 1')
        assert self.webhook_url, "no webhook URL configured"
        request = urllib.request.Request(self.webhook_url, data=payload, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
