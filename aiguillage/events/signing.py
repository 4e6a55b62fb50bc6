"""Signing webhook bodies the Standard Webhooks way (https://www.standardwebhooks.com).

The secret is "whsec_" + base64 of 32 random bytes; the key is those bytes.
The signature is HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}",
base64-encoded and sent as "v1,<signature>" in `webhook-signature`. The
timestamp (Unix seconds) is signed too, so a receiver that refuses old
timestamps (5 minutes is usual) is safe from replayed captures; the id is
the event's id, so a re-sent event is recognised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A new signing secret, to show once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of a signed webhook request."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
