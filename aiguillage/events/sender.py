"""One signed POST of one event to one subscriber, and what its answer means.

Any 2xx is success; anything else (another status, a timeout, a refused
connection) is a failure to retry later. Stdlib only, like the channel
adapters' HTTP client; redirects are not followed (a webhook URL that
moved must be changed by its owner, not guessed).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
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


class Connections:
    """Keep-alive connections of one sending thread, one per receiver (scheme, host, port).

    A chain of one invoice's events to one receiver then costs one TCP (and TLS) handshake, not one
    per event. A connection the receiver closed while idle is replaced, and the request sent again once.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._open: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def get(self, parts: urllib.parse.SplitResult) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to the URL's receiver, and whether it was used before."""
        key = (parts.scheme, parts.hostname or "", parts.port)
        if key in self._open:
            return self._open[key], True
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = cls(parts.hostname or "", parts.port, timeout=self.timeout)
        self._open[key] = connection
        return connection, False

    def drop(self, parts: urllib.parse.SplitResult) -> None:
        connection = self._open.pop((parts.scheme, parts.hostname or "", parts.port), None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for connection in self._open.values():
            connection.close()
        self._open.clear()


def private_address(host: str) -> str | None:
    """The first loopback, private, link-local or otherwise non-public address the host resolves to, if any.

    A tenant chooses its webhook URL; without this check it could make the worker POST to services
    inside the operator's network (cloud metadata at 169.254.169.254, an admin port on localhost).
    """
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # the connection attempt reports the failure
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            return str(address)
    return None


def post_event(url: str, secret: str, message_id: str, body: bytes, *, timeout: float,
               connections: Connections | None = None, now: float | None = None,
               allow_private: bool = False) -> SendResult:
    """POST the body to the URL, signed; never raises for a network or HTTP failure."""
    parts = urllib.parse.urlsplit(url)
    if not allow_private:
        refused = private_address(parts.hostname or "")
        if refused is not None:
            return SendResult(False, None, f"refused: {parts.hostname} resolves to the non-public address "
                                           f"{refused} (see --allow-private-addresses)")
    timestamp = int(now if now is not None else time.time())
    headers = signed_headers(secret, message_id, timestamp, body)
    headers["user-agent"] = "aiguillage-webhooks/1"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool = connections or Connections(timeout)
    try:
        for _ in range(2):
            connection, reused = pool.get(parts)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read(64 * 1024)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                pool.drop(parts)
                if reused:
                    continue  # the receiver closed the idle connection: once more on a new one
                raise
            except BaseException:
                pool.drop(parts)
                raise
            if response.will_close or not response.isclosed():  # not read to the end: unusable for the next
                pool.drop(parts)
            break
    except TimeoutError:
        return SendResult(False, None, f"no answer within {timeout:g} s (timeout)")
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}")
    finally:
        if connections is None:
            pool.close()
    if 200 <= response.status < 300:
        return SendResult(True, response.status, None)
    evidence = answer[:MAX_EVIDENCE].decode("utf-8", "replace").strip()
    return SendResult(False, response.status, f"HTTP {response.status}" + (f": {evidence}" if evidence else ""))
