"""One signed POST of one event to one subscriber, and what its answer means.

Any 2xx is success; anything else (another status, a timeout, a refused
connection) is a failure to retry later. Stdlib only, like the channel
adapters' HTTP client; redirects are not followed (a webhook URL that
moved must be changed by its owner, not guessed).
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from dataclasses import dataclass

from aiguillage.events.signing import signed_headers

#: How much of a failed answer's body is kept as evidence.
MAX_EVIDENCE = 300


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    error: str | None


def post_event(url: str, secret: str, message_id: str, body: bytes, *, timeout: float,
               now: float | None = None) -> SendResult:
    """POST the body to the URL, signed; never raises for a network or HTTP failure."""
    parts = urllib.parse.urlsplit(url)
    timestamp = int(now if now is not None else time.time())
    headers = signed_headers(secret, message_id, timestamp, body)
    headers["user-agent"] = "aiguillage-webhooks/1"
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(64 * 1024)
    except TimeoutError:
        return SendResult(False, None, f"no answer within {timeout:g} s (timeout)")
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return SendResult(True, response.status, None)
    evidence = answer[:MAX_EVIDENCE].decode("utf-8", "replace").strip()
    return SendResult(False, response.status, f"HTTP {response.status}" + (f": {evidence}" if evidence else ""))
