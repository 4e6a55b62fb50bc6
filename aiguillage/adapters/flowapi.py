"""A client for a PA's Flow service (AFNOR XP Z12-013, 1.3.0): submit a flow, read one, search, subscribe.

Stdlib HTTP (`httpclient.request`), so failures sort into retry-later
(timeouts, 5xx, 429) and give-up (4xx) as for every channel. The bearer
token is passed per call and never kept in messages or logs: errors name
the URL and status only.

Webhook events are signed as the description says: a SHA-256 fingerprint of
`<JSON payload as sent>@<epoch seconds>` (hex), HMAC-SHA-256 over it with the
subscription's signing key, base64, in `Afnor-Signature`, the time in
`Afnor-Signature-Timestamp`. `sign`/`verify` do both sides of that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiguillage.adapters.base import PermanentDeliveryError
from aiguillage.adapters.httpclient import HttpAnswer, request

#: What `docType` of GET /v1/flows/{id} returns the flow's own file.
ORIGINAL = "Original"
#: Seconds a signed event may be old (or ahead) before it is refused as a replay.
SIGNATURE_TOLERANCE = 300


@dataclass(frozen=True)
class FlowService:
    """Where a tenant's PA listens and with which token (`base_url` ends before `/v1`)."""

    base_url: str
    token: str
    timeout: float = 30.0
    organization_id: str | None = None

    def __repr__(self) -> str:  # the token never shows in logs or tracebacks
        return f"FlowService(base_url={self.base_url!r}, token='***')"

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Request-Id": str(uuid.uuid4()),
                   "Accept": "application/json"}
        if self.organization_id:
            headers["Organization-Id"] = self.organization_id
        return headers

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _json(self, answer: HttpAnswer, what: str) -> dict[str, Any]:
        try:
            data = json.loads(answer.body)
        except ValueError:
            raise PermanentDeliveryError(f"{what}: the PA answered HTTP {answer.status} with something not JSON") from None
        if not isinstance(data, dict):
            raise PermanentDeliveryError(f"{what}: the PA answered HTTP {answer.status} with JSON that is not an object")
        return data

    # ------------------------------------------------------------------ operations

    def submit(self, flow_info: dict[str, Any], filename: str, media_type: str, content: bytes) -> dict[str, Any]:
        """POST /v1/flows (multipart: `flowInfo` JSON and `file`); the PA's FullFlowInfo (with `flowId`)."""
        boundary = f"aiguillage-{uuid.uuid4().hex}"
        body = _multipart(boundary, [
            ("flowInfo", None, "application/json", json.dumps(flow_info, separators=(",", ":")).encode()),
            ("file", filename, media_type, content),
        ])
        answer = request("POST", self._url("/v1/flows"), body, content_type=f"multipart/form-data; boundary={boundary}",
                         timeout=self.timeout, headers=self._headers())
        return self._json(answer, "POST /v1/flows")

    def flow(self, flow_id: str) -> dict[str, Any]:
        """GET /v1/flows/{id}: the flow's metadata (acknowledgement status, type, direction, trackingId)."""
        answer = request("GET", self._url(f"/v1/flows/{_segment(flow_id)}?docType=Metadata"), timeout=self.timeout,
                         headers=self._headers())
        return self._json(answer, "GET /v1/flows/{flowId}")

    def original(self, flow_id: str) -> bytes:
        """GET /v1/flows/{id}?docType=Original: the file itself (a CDAR for a lifecycle flow)."""
        headers = dict(self._headers(), Accept="application/octet-stream")
        answer = request("GET", self._url(f"/v1/flows/{_segment(flow_id)}?docType={ORIGINAL}"), timeout=self.timeout,
                         headers=headers)
        return answer.body

    def search(self, where: dict[str, Any], cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
        """POST /v1/flows/search: one page of flows (`results`, `nextCursor` when more)."""
        query: dict[str, Any] = {"where": where, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        answer = request("POST", self._url("/v1/flows/search"), json.dumps(query).encode(),
                         content_type="application/json", timeout=self.timeout, headers=self._headers())
        return self._json(answer, "POST /v1/flows/search")

    def subscribe(self, callback_url: str, flow_types: list[str] | None = None) -> dict[str, Any]:
        """POST /v1/webhooks: `webhookId` and the `signingKey` (base64) to keep for verifying events."""
        params: dict[str, Any] = {"callbackUrl": callback_url}
        if flow_types:
            params["flowTypes"] = flow_types
        answer = request("POST", self._url("/v1/webhooks"), json.dumps(params).encode(),
                         content_type="application/json", timeout=self.timeout, headers=self._headers())
        return self._json(answer, "POST /v1/webhooks")


def _segment(value: str) -> str:
    import urllib.parse

    return urllib.parse.quote(value, safe="")


def _multipart(boundary: str, parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    out = bytearray()
    for name, filename, media_type, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{_quoted(filename)}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {media_type}\r\n\r\n".encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _quoted(filename: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)


# ---------------------------------------------------------------------- OAuth2 client credentials

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = __import__("threading").Lock()


def access_token(token_url: str, client_id: str, secret: str, timeout: float = 30.0) -> str:
    """An access token for the description's OAuth2 client-credentials flow, reused until shortly before expiry.

    The client authenticates with HTTP Basic (RFC 6749, 2.3.1); the secret
    is never put in the URL, logs or errors.
    """
    key = (token_url, client_id, hashlib.sha256(secret.encode()).hexdigest())
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = request("POST", token_url, b"grant_type=client_credentials", content_type="application/x-www-form-urlencoded",
                     timeout=timeout, headers={"Authorization": f"Basic {basic}", "Accept": "application/json"})
    try:
        data = json.loads(answer.body)
        token, lifetime = str(data["access_token"]), float(data.get("expires_in") or 300)
    except (ValueError, KeyError, TypeError):
        raise PermanentDeliveryError(f"{token_url}: the token endpoint gave no access_token") from None
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - 30))
    return token


# ---------------------------------------------------------------------- webhook signatures


def sign(payload: bytes, signing_key_b64: str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers a PA puts on a webhook event."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {"Afnor-Signature": _signature(payload, signing_key_b64, moment),
            "Afnor-Signature-Timestamp": str(moment)}


def _signature(payload: bytes, signing_key_b64: str, timestamp: int) -> str:
    fingerprint = hashlib.sha256(payload + b"@" + str(timestamp).encode()).hexdigest().encode()
    key = base64.b64decode(signing_key_b64)
    return base64.b64encode(hmac.new(key, fingerprint, hashlib.sha256).digest()).decode()


def verify(payload: bytes, signature: str | None, timestamp: str | None, signing_key_b64: str, *,
           now: float | None = None, tolerance: int = SIGNATURE_TOLERANCE) -> str | None:
    """None when the event is authentic and fresh; else why not (for a 401 answer, never with the key)."""
    if not signature or not timestamp:
        return "missing Afnor-Signature or Afnor-Signature-Timestamp"
    try:
        moment = int(timestamp)
    except ValueError:
        return "Afnor-Signature-Timestamp is not an integer"
    current = time.time() if now is None else now
    if abs(current - moment) > tolerance:
        return f"Afnor-Signature-Timestamp is more than {tolerance} s away from now"
    expected = _signature(payload, signing_key_b64, moment)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return "Afnor-Signature does not match the payload"
    return None
