"""A loopback approved platform (PA) speaking the AFNOR XP Z12-013 Flow service, built from its OpenAPI file.

Every request is matched to an operation of the published description and
judged by it (`openapi_check`) before the PA acts: a request the description
does not allow is answered as a strict PA would (400/401/404/405/415, with
the description's Error body) and kept in `violations`, so a test asserts the
client never made one. Answers and webhook events are judged the same way.

It keeps flows per token (one token = one customer account), acknowledges
them, turns lifecycle statuses into CDAR flows (direction In) and signs
webhook events. Knobs for tests: `fail_next` (5xx answers), `delay_next`
(answers slower than the client's timeout), `duplicate_callbacks`, and
`emit_status(..., deliver=False)` + `deliver(order=...)` for statuses that
arrive out of order. `auto_statuses` plays a lifecycle on every invoice
flow in the background (the demo).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiguillage.adapters.flowapi import sign
from aiguillage.adapters.testing.openapi_check import (
    CheckedRequest,
    OpenApiDescription,
    SpecViolation,
)
from aiguillage.fr import cdar

#: Where the Flow service description is unless told (the conformance folder beside the checkout).
DEFAULT_SPEC = Path(os.environ.get("AIGUILLAGE_CONFORMANCE", Path(__file__).resolve().parents[3].parent / "shared" / "conformance")) \
    / "fr" / "xp-z12-013" / "flow-service-1.3.0.json"

#: The auth service's token endpoint (outside the Flow service description, as its tokenUrl is).
TOKEN_PATH = "/auth-service/token"

_ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "UNPROCESSABLE", 429: "TOO_MANY_REQUESTS",
                500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class PaFlow:
    """One flow the PA holds."""

    flow_id: str
    owner: str
    name: str
    syntax: str
    flow_type: str
    direction: str
    content: bytes
    media_type: str
    submitted_at: datetime
    updated_at: datetime
    tracking_id: str | None = None
    processing_rule: str = "B2B"
    rule_source: str = "Computed"
    profile: str = "CIUS"
    ack_status: str = "Pending"
    ack_details: list[dict[str, str]] = field(default_factory=list)
    #: For an invoice flow, what its lifecycle CDARs need: number, issue date, seller SIREN.
    invoice: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The flow as the description's `Flow` schema."""
        ack: dict[str, Any] = {"status": self.ack_status}
        if self.ack_details:
            ack["details"] = self.ack_details
        body: dict[str, Any] = {
            "flowId": self.flow_id, "name": self.name, "flowSyntax": self.syntax, "flowProfile": self.profile,
            "processingRule": self.processing_rule, "processingRuleSource": self.rule_source,
            "flowType": self.flow_type, "flowDirection": self.direction, "submittedAt": _iso(self.submitted_at),
            "updatedAt": _iso(self.updated_at), "acknowledgement": ack,
        }
        if self.tracking_id:
            body["trackingId"] = self.tracking_id
        return body


@dataclass
class Subscription:
    webhook_id: str
    owner: str
    callback_url: str
    flow_types: list[str]
    signing_key: str


@dataclass
class CallbackSent:
    """One webhook event as sent, and what the subscriber answered (status, or the error)."""

    webhook_id: str
    flow_id: str
    body: bytes
    headers: dict[str, str]
    status: int | None
    error: str | None = None


class LoopbackPa:
    """`with LoopbackPa(tokens={"secret-token": "acme"}) as pa: pa.url` → a PA at http://127.0.0.1:<port>."""

    def __init__(self, *, tokens: dict[str, str] | None = None, spec: Path | str | None = None,
                 auto_statuses: list[str] | None = None, callback_timeout: float = 5.0,
                 platform_siren: str = "999888777") -> None:
        self.description = OpenApiDescription(spec or DEFAULT_SPEC)
        self.tokens = dict(tokens or {"token-demo": "demo"})
        #: OAuth2 clients: id -> (secret, owner); `token_requests` counts the tokens issued.
        self.clients: dict[str, tuple[str, str]] = {}
        self.token_requests = 0
        self.flows: dict[str, PaFlow] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.requests: list[CheckedRequest] = []
        self.violations: list[str] = []
        self.callbacks: list[CallbackSent] = []
        self.auto_statuses = list(auto_statuses or [])
        self.duplicate_callbacks = False
        self.callback_timeout = callback_timeout
        self.platform_siren = platform_siren
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._clock_offset = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loopback-pa", daemon=True)

    # ------------------------------------------------------------------ life

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackPa:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        for worker in list(self._workers):
            worker.join(timeout=5)
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until background lifecycles (auto_statuses) have been played."""
        for worker in list(self._workers):
            worker.join(timeout=timeout)

    # ------------------------------------------------------------------ knobs

    def fail_next(self, status: int = 503, count: int = 1) -> None:
        """The next `count` requests are answered `status` (with an Error body)."""
        with self._lock:
            self._failures.extend([status] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` requests wait `seconds` before being handled (a client with a shorter timeout gives up)."""
        with self._lock:
            self._delays.extend([seconds] * count)

    def _now(self) -> datetime:
        with self._lock:
            self._clock_offset += 1  # strictly increasing times, so updatedAfter is exact
            return datetime.now(UTC) + timedelta(milliseconds=self._clock_offset)

    # ------------------------------------------------------------------ what the PA does

    def acknowledge(self, flow_id: str, status: str = "Ok", details: list[dict[str, str]] | None = None,
                    *, deliver: bool = True) -> PaFlow:
        """The PA's checks ended: acknowledgement Ok or Error; subscribers are told."""
        with self._lock:
            flow = self.flows[flow_id]
            flow.ack_status = status
            flow.ack_details = list(details or [])
            flow.updated_at = self._now()
        if deliver:
            self.deliver([flow])
        return flow

    def emit_status(self, invoice_flow_id: str, code: str, *, reason_code: str | None = None,
                    reason: str | None = None, issued_at: datetime | None = None, deliver: bool = True,
                    cashed: list[cdar.Cashed] | None = None) -> PaFlow:
        """A lifecycle status about an invoice flow, as a CDAR flow (CustomerInvoiceLC, In) for its owner."""
        with self._lock:
            invoice_flow = self.flows[invoice_flow_id]
            meta = invoice_flow.invoice
            now = self._now()
            line = cdar.StatusLine(invoice_number=meta.get("number") or invoice_flow.name,
                                   status_code=code, invoice_date=meta.get("issue_date"),
                                   seller_siren=meta.get("seller_siren"), reason_code=reason_code, reason=reason,
                                   cashed=list(cashed or []))
            message = cdar.status_message(
                message_id=f"CDV-{uuid.uuid4().hex[:12]}", issued_at=issued_at or now, line=line,
                sender=cdar.Party(role="BY" if cdar.LifecycleMessage.type_for(code) == "23" else "WK",
                                  siren=meta.get("buyer_siren") or self.platform_siren, name="Buyer"),
                recipient=cdar.Party(role="SE", siren=meta.get("seller_siren"), name="Seller",
                                     address=meta.get("seller_siren") or "000000000"),
            )
            flow_id = str(uuid.uuid4())
            flow = PaFlow(flow_id=flow_id, owner=invoice_flow.owner, name=f"{flow_id}.xml", syntax="CDAR",
                          flow_type="CustomerInvoiceLC", direction="In", content=cdar.write(message),
                          media_type="application/xml", submitted_at=now, updated_at=now, ack_status="Ok",
                          processing_rule=invoice_flow.processing_rule, profile="Basic")
            self.flows[flow_id] = flow
        if deliver:
            self.deliver([flow])
        return flow

    def deliver(self, flows: list[PaFlow], *, order: str = "as_given") -> None:
        """Send the webhook events for `flows` (reversed with order="reverse"), twice each if duplicating."""
        ordered = list(reversed(flows)) if order == "reverse" else list(flows)
        for flow in ordered:
            for subscription in self._subscribers(flow):
                self._callback(subscription, flow)
                if self.duplicate_callbacks:
                    self._callback(subscription, flow)

    def _subscribers(self, flow: PaFlow) -> list[Subscription]:
        with self._lock:
            return [s for s in self.subscriptions.values()
                    if s.owner == flow.owner and (not s.flow_types or flow.flow_type in s.flow_types)]

    def _callback(self, subscription: Subscription, flow: PaFlow) -> None:
        body = json.dumps(flow.document(), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **sign(body, subscription.signing_key)}
        try:
            self.description.check_callback("createWebhook", "WebhookCallback", headers, body)
        except SpecViolation as exc:
            self.violations.append(f"callback: {exc}")
        request = urllib.request.Request(subscription.callback_url, data=body, method="POST", headers=headers)
        sent = CallbackSent(subscription.webhook_id, flow.flow_id, body, headers, None)
        try:
            with urllib.request.urlopen(request, timeout=self.callback_timeout) as answer:  # noqa: S310 - loopback
                sent.status = answer.status
        except urllib.error.HTTPError as exc:
            sent.status, sent.error = exc.code, exc.read(2000).decode("utf-8", "replace")
        except OSError as exc:
            sent.error = str(exc)
        with self._lock:
            self.callbacks.append(sent)

    def _play(self, flow_id: str) -> None:
        """Background lifecycle of an invoice flow: acknowledge, then each auto status in turn."""
        if self._stopping.wait(0.05):
            return
        self.acknowledge(flow_id)
        for code in self.auto_statuses:
            if self._stopping.is_set():
                return
            cashed = None
            if code == "212":
                total = self.flows[flow_id].invoice.get("total") or "0"
                cashed = [cdar.Cashed(amount=_decimal(total), vat_rate=_decimal("20"))]
            self.emit_status(flow_id, code, cashed=cashed,
                             reason_code={"207": "AUTRE", "210": "AUTRE", "213": "REJ_SEMAN"}.get(code))

    # ------------------------------------------------------------------ operations

    def _create_flow(self, owner: str, checked: CheckedRequest) -> tuple[int, dict[str, Any]]:
        info = checked.json
        media_type, content = checked.parts["file"]
        if info.get("sha256") and info["sha256"] != hashlib.sha256(content).hexdigest():
            return 400, {"errorCode": "SHA256_MISMATCH", "errorMessage": "sha256 does not match the file"}
        with self._lock:
            tracking = info.get("trackingId")
            if tracking:
                for flow in self.flows.values():
                    if flow.owner == owner and flow.tracking_id == tracking and flow.direction == "Out":
                        return 202, self._full_info(flow)
            now = self._now()
            syntax = info["flowSyntax"]
            flow_type = {"CDAR": "CustomerInvoiceLC", "FRR": "MultiFlowReport"}.get(syntax, "CustomerInvoice")
            flow = PaFlow(flow_id=str(uuid.uuid4()), owner=owner, name=info["name"], syntax=syntax,
                          flow_type=flow_type, direction="Out", content=content, media_type=media_type,
                          submitted_at=now, updated_at=now, tracking_id=tracking,
                          processing_rule=info.get("processingRule") or "B2B",
                          rule_source="Input" if info.get("processingRule") else "Computed",
                          profile=info.get("flowProfile") or "CIUS", invoice=_invoice_facts(syntax, content))
            self.flows[flow.flow_id] = flow
        if flow_type == "CustomerInvoice" and self.auto_statuses:
            worker = threading.Thread(target=self._play, args=(flow.flow_id,), daemon=True, name="pa-lifecycle")
            self._workers.append(worker)
            worker.start()
        return 202, self._full_info(flow)

    @staticmethod
    def _full_info(flow: PaFlow) -> dict[str, Any]:
        body = {"flowId": flow.flow_id, "submittedAt": _iso(flow.submitted_at), "name": flow.name,
                "flowSyntax": flow.syntax, "flowProfile": flow.profile, "processingRule": flow.processing_rule,
                "sha256": hashlib.sha256(flow.content).hexdigest()}
        if flow.tracking_id:
            body["trackingId"] = flow.tracking_id
        return body

    def _search(self, owner: str, query: dict[str, Any]) -> dict[str, Any]:
        where = query.get("where", {})
        limit = int(query.get("limit") or 25)
        start = int(base64.b64decode(query["cursor"]).decode()) if query.get("cursor") else 0
        after = _parse_time(where.get("updatedAfter"))
        before = _parse_time(where.get("updatedBefore"))
        with self._lock:
            matches = sorted((f for f in self.flows.values() if f.owner == owner), key=lambda f: f.updated_at)
        selected = [f for f in matches
                    if (after is None or f.updated_at > after) and (before is None or f.updated_at < before)
                    and (not where.get("flowType") or f.flow_type in where["flowType"])
                    and (not where.get("flowDirection") or f.direction in where["flowDirection"])
                    and (not where.get("processingRule") or f.processing_rule in where["processingRule"])
                    and (not where.get("trackingId") or f.tracking_id == where["trackingId"])
                    and (not where.get("ackStatus") or f.ack_status == where["ackStatus"])]
        page = selected[start:start + limit]
        body: dict[str, Any] = {"limit": limit, "filters": where, "results": [f.document() for f in page]}
        if start + limit < len(selected):
            body["nextCursor"] = base64.b64encode(str(start + limit).encode()).decode()
        return body

    def add_client(self, client_id: str, secret: str, owner: str) -> str:
        """An OAuth2 client of the auth service (the description's tokenUrl); returns the token URL."""
        self.clients[client_id] = (secret, owner)
        return f"{self.url}{TOKEN_PATH}"

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        """The auth service's client-credentials grant (RFC 6749 4.4): Basic client auth, form body."""
        import urllib.parse

        form = dict(urllib.parse.parse_qsl(body.decode("ascii", "replace")))
        try:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            client_id, _, secret = base64.b64decode(value).decode().partition(":") if scheme.lower() == "basic" else ("", "", "")
        except ValueError:
            client_id, secret = "", ""
        known = self.clients.get(client_id)
        if form.get("grant_type") != "client_credentials" or known is None or known[0] != secret:
            return 401, "application/json", b'{"error": "invalid_client"}', {}
        token = f"at-{secrets.token_hex(16)}"
        with self._lock:
            self.tokens[token] = known[1]
            self.token_requests += 1
        return 200, "application/json", json.dumps({"access_token": token, "token_type": "Bearer",
                                                    "expires_in": 3600}).encode(), {}

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        if method == "POST" and target == TOKEN_PATH:
            return self._token(headers, body)
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay and self._stopping.wait(delay):
            return 503, "application/json", b"", {}
        try:
            checked = self.description.check_request(method, target, headers, body)
        except SpecViolation as exc:
            self.violations.append(f"{method} {target}: {exc}")
            return self._error(exc.status, str(exc))
        with self._lock:
            self.requests.append(checked)
            failure = self._failures.pop(0) if self._failures else None
        operation = checked.operation
        if failure is not None:
            return self._answer(operation, failure, {"errorCode": _ERROR_CODES.get(failure, "ERROR"),
                                                     "errorMessage": "scripted failure"})
        owner = self.tokens.get(checked.bearer or "")
        if owner is None:
            return self._answer(operation, 401, {"errorCode": "UNAUTHORIZED", "errorMessage": "unknown token"})
        op = operation.operation_id
        if op == "createFlow":
            status, answer = self._create_flow(owner, checked)
            return self._answer(operation, status, answer)
        if op == "getFlow":
            flow = self.flows.get(checked.path_params["flowId"])
            if flow is None or flow.owner != owner:
                return self._answer(operation, 404, {"errorCode": "NOT_FOUND", "errorMessage": "no such flow"})
            if checked.query.get("docType", "Metadata") == "Metadata":
                return self._answer(operation, 200, flow.document())
            return 200, "application/octet-stream", flow.content, {
                "Content-Disposition": f"attachment;filename={flow.name}"}
        if op == "searchFlows":
            return self._answer(operation, 200, self._search(owner, checked.json))
        if op == "createWebhook":
            subscription = Subscription(str(uuid.uuid4()), owner, checked.json["callbackUrl"],
                                        list(checked.json.get("flowTypes") or []),
                                        base64.b64encode(secrets.token_bytes(32)).decode())
            with self._lock:
                self.subscriptions[subscription.webhook_id] = subscription
            return self._answer(operation, 201, {"webhookId": subscription.webhook_id,
                                                 "signingKey": subscription.signing_key,
                                                 "createdAt": _iso(datetime.now(UTC))})
        if op == "deleteWebhook":
            with self._lock:
                removed = self.subscriptions.pop(checked.path_params["webhookUid"], None)
            if removed is None:
                return self._answer(operation, 404, {"errorCode": "NOT_FOUND", "errorMessage": "no such webhook"})
            return self._answer(operation, 204, None)
        if op == "getHealth":
            return self._answer(operation, 200, None)
        return self._answer(operation, 500, {"errorCode": "NOT_IMPLEMENTED", "errorMessage": op})

    def _answer(self, operation: Any, status: int, body: dict[str, Any] | None) -> tuple[int, str, bytes, dict[str, str]]:
        data = b"" if body is None else json.dumps(body).encode()
        content_type = "application/json"
        try:
            self.description.check_response(operation, status, content_type, data) if data else None
        except SpecViolation as exc:
            self.violations.append(f"answer: {exc}")
            return self._error(500, str(exc))
        return status, content_type, data, {}

    @staticmethod
    def _error(status: int, message: str) -> tuple[int, str, bytes, dict[str, str]]:
        body = {"errorCode": _ERROR_CODES.get(status, "ERROR"), "errorMessage": message}
        return status, "application/json", json.dumps(body).encode(), {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, content_type, data, extra = owner._handle(method, self.path, headers, body)
                try:
                    self.send_response(status)
                    if data:
                        self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up first
                    pass

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._serve("DELETE")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _decimal(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


def _invoice_facts(syntax: str, content: bytes) -> dict[str, Any]:
    """Number, issue date, seller and buyer SIREN and total of an invoice file, for the CDARs about it."""
    if syntax not in ("UBL", "CII", "Factur-X"):
        return {}
    try:
        from aiguillage.model.syntaxes import read_invoice

        invoice = read_invoice(content)
    except Exception:  # noqa: BLE001 - a PA that cannot read the file still acknowledges it
        return {}

    def siren(party: Any) -> str | None:
        legal = getattr(party, "legal_registration_identifier", None) if party is not None else None
        value = getattr(legal, "value", None) if legal is not None else None
        return value[:9] if value else None

    totals = getattr(invoice, "totals", None)
    return {"number": invoice.number, "issue_date": invoice.issue_date, "seller_siren": siren(invoice.seller),
            "buyer_siren": siren(invoice.buyer),
            "total": str(getattr(totals, "amount_with_vat", None) or getattr(totals, "payable", None) or "0")}
