"""A loopback Directory service (XP Z12-013 1.3.0), built from its OpenAPI file like the loopback PA.

It serves directory lines given to it (`lines`), answering
`POST /v1/directory-line/search` (filters on SIREN, SIRET, addressing
identifier, with `limit`/`ignore`) and `GET /v1/directory-line/code:{id}`;
every request and answer is judged by the description (`violations`).
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiguillage.adapters.testing.openapi_check import OpenApiDescription, SpecViolation

DEFAULT_SPEC = Path(os.environ.get("AIGUILLAGE_CONFORMANCE", Path(__file__).resolve().parents[3].parent / "shared" / "conformance")) \
    / "fr" / "xp-z12-013" / "directory-service-1.3.0.json"


class LoopbackDirectory:
    """`with LoopbackDirectory(lines=[...], tokens={"t"}) as directory: directory.url`."""

    def __init__(self, lines: list[dict[str, Any]], *, tokens: set[str] | None = None,
                 spec: Path | str | None = None) -> None:
        self.description = OpenApiDescription(spec or DEFAULT_SPEC)
        self.lines = list(lines)
        self.tokens = set(tokens or {"token-directory"})
        self.violations: list[str] = []
        self.searches: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackDirectory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            checked = self.description.check_request(method, target, headers, body)
        except SpecViolation as exc:
            self.violations.append(f"{method} {target}: {exc}")
            return exc.status, json.dumps({"errorCode": str(exc.status), "errorMessage": str(exc)}).encode()
        operation = checked.operation
        if checked.bearer not in self.tokens:
            status, answer = 401, {"errorCode": "401", "errorMessage": "unknown token"}
        elif operation.operation_id == "searchDirectoryLine":
            query = checked.json or {}
            self.searches.append(query)
            filters = query.get("filters") or {}
            found = [line for line in self.lines if all(
                _match(line.get(field), (filters.get(field) or {}))
                for field in ("siren", "siret", "addressingIdentifier", "addressingSuffix"))]
            ignore, limit = int(query.get("ignore") or 0), int(query.get("limit") or 50)
            status, answer = 200, {"search": query, "totalNumberOfResults": len(found),
                                   "results": found[ignore:ignore + limit]}
        elif operation.operation_id == "getDirectoryLineById":
            wanted = checked.path_params["addressing-identifier"]
            line = next((x for x in self.lines if x.get("addressingIdentifier") == wanted), None)
            status, answer = (200, line) if line else (404, {"errorCode": "404", "errorMessage": "no such line"})
        else:
            status, answer = 500, {"errorCode": "500", "errorMessage": f"{operation.operation_id} not served here"}
        data = json.dumps(answer).encode()
        try:
            self.description.check_response(operation, status, "application/json", data)
        except SpecViolation as exc:
            self.violations.append(f"answer: {exc}")
        return status, data

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, data = owner._handle(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler


def _match(value: Any, condition: dict[str, Any]) -> bool:
    if not condition or "value" not in condition:
        return True
    wanted = str(condition["value"])
    if condition.get("op") == "contains":
        return wanted in str(value or "")
    return str(value or "") == wanted
