"""One HTTP POST with the answer sorted into delivered, retry later, or give up.

Stdlib only (urllib): the adapters POST a single document and read a short
answer, which needs no connection pool. The classification is the point:
5xx, 408, 425, 429, timeouts and refused connections are temporary; other 4xx
mean the counterpart rejected what we sent, so retrying cannot help.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message

from aiguillage.adapters.base import PermanentDeliveryError, TemporaryDeliveryError

#: 4xx answers that mean "not now" rather than "never".
_RETRYABLE_4XX = frozenset({408, 425, 429})
#: How much of an answer body is kept as evidence.
MAX_ANSWER = 1 << 20


@dataclass
class HttpAnswer:
    """A 2xx answer: status, headers and (at most MAX_ANSWER bytes of) body."""

    status: int
    headers: Message
    body: bytes = field(repr=False)


def _tls_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def post(url: str, body: bytes, *, content_type: str, timeout: float, headers: dict[str, str] | None = None,
         ca_file: str | None = None, verify: bool = True) -> HttpAnswer:
    """POST `body` to `url`; returns the 2xx answer or raises a typed delivery error."""
    return request("POST", url, body, content_type=content_type, timeout=timeout, headers=headers,
                   ca_file=ca_file, verify=verify)


def request(method: str, url: str, body: bytes | None = None, *, content_type: str | None = None, timeout: float,
            headers: dict[str, str] | None = None, ca_file: str | None = None, verify: bool = True) -> HttpAnswer:
    """Any method (GET, POST, DELETE), with the same sorting of failures as `post`."""
    if not url.startswith(("http://", "https://")):
        raise PermanentDeliveryError(f"not an HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    context = _tls_context(ca_file, verify) if url.startswith("https://") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            return HttpAnswer(response.status, response.headers, response.read(MAX_ANSWER))
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc)
        message = f"{url} answered HTTP {exc.code} {exc.reason}"
        if exc.code >= 500 or exc.code in _RETRYABLE_4XX:
            raise TemporaryDeliveryError(message, detail=detail) from exc
        raise PermanentDeliveryError(message, detail=detail) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise PermanentDeliveryError(f"{url}: TLS certificate not trusted: {reason}") from exc
        raise TemporaryDeliveryError(f"{url}: cannot connect: {reason}") from exc
    except TimeoutError as exc:
        raise TemporaryDeliveryError(f"{url}: no answer within {timeout:g} s") from exc
    except (ConnectionError, OSError) as exc:  # reset mid-answer, broken pipe
        raise TemporaryDeliveryError(f"{url}: connection failed: {exc}") from exc


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(4096).decode("utf-8", "replace")
    except OSError:
        return ""
