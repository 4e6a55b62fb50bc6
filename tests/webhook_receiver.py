"""A real HTTP webhook receiver on loopback for the event tests: verifies every request's signature
with the independent `standardwebhooks` package (the reference implementation of the scheme), records
what arrived, and can be down, slow or failing on demand.

Not a test module: imported by tests/test_events_*.py and tests/test_webhooks_*.py.
"""

from __future__ import annotations

import json
import random
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Arrival:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    event: dict[str, Any] | None
    answered: int


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class Receiver:
    """`with Receiver(port) as r:` listening on 127.0.0.1:port; `r.secret` must be set to verify.

    `status` is what it answers; `delay` how long it waits first (to make the sender time out);
    `fail_rate` answers 503 at random to that share of requests (seeded); `script` scripts the first answers.
    """

    def __init__(self, port: int | None = None, *, secret: str | None = None, status: int = 200,
                 delay: float = 0.0, fail_rate: float = 0.0, seed: int = 7,
                 script: list[tuple[int, float]] | None = None) -> None:
        self.port = port or free_port()
        self.secret = secret
        self.status = status
        self.delay = delay
        self.fail_rate = fail_rate
        #: (status, delay) answers used first, one per request, before `status` and `delay`.
        self.script = list(script or [])
        self.arrivals: list[Arrival] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aiguillage"

    def accepted(self) -> list[Arrival]:
        """What the receiver acknowledged with a 2xx, in arrival order."""
        with self._lock:
            return [a for a in self.arrivals if 200 <= a.answered < 300]

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        verified, event = False, None
        try:
            event = Webhook(self.secret or "whsec_AAAA").verify(body, headers)
            verified = True
        except WebhookVerificationError:
            pass
        with self._lock:
            status, delay = self.script.pop(0) if self.script else (self.status, self.delay)
            if status < 300 and self.fail_rate and self._random.random() < self.fail_rate:
                status = 503
            if not verified:
                status = 401
            self.arrivals.append(Arrival(headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""),
                                         headers.get("webhook-signature", ""), body, verified, event, status))
            return status, delay

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes: without this, Nagle's algorithm and the
                # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, delay = owner._answer({k.lower(): v for k, v in self.headers.items()}, body)
                if delay and owner._stopping.wait(delay):
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening: the port refuses connections (the receiver is down)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def events_of(arrivals: list[Arrival]) -> list[dict[str, Any]]:
    return [json.loads(a.body) for a in arrivals]
