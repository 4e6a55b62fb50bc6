"""A scriptable HTTP endpoint: records every request, answers from a script (status, body, delay).

Stands in for a Peppol access point, a fax API or an IPP printer. A script
entry with a delay longer than the client's timeout makes the client time
out; the delay waits on an event, so stopping the server never hangs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LoopbackHttpServer:
    """`with LoopbackHttpServer([Answer(503), Answer(200, b'{"messageId": "m1"}')]) as server: server.url`.

    Answers are used in order; the last one repeats. `responder`, when given,
    computes the answer from the request instead (used by the IPP printer).
    """

    def __init__(self, script: list[Answer] | None = None,
                 responder: Callable[[Received], Answer] | None = None) -> None:
        self.script = list(script or [Answer()])
        self.responder = responder
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loopback-http", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _next(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            if self.responder is not None:
                return self.responder(request)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                answer = owner._next(request)
                if answer.delay and owner._stopping.wait(answer.delay):
                    return
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the client gave up (timed out) first
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet in tests
                pass

        return Handler

    def __enter__(self) -> LoopbackHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, wake any delayed answer, and release the port."""
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
