"""The real thing: `aiguillage serve` (gunicorn, two workers) answering HTTP on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from aiguillage.cli.main import main

pytest_plugins = ["aiguillage.api.testing"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


REPO = Path(__file__).resolve().parents[1]


def _start(tmp_path, capsys, extra_env: dict[str, str]):
    """Migrate a database, make tenant acme with an admin key, start `aiguillage serve` with two workers."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    assert main(["db", "upgrade", "--database", url]) == 0
    assert main(["tenants", "create", "acme", "--database", url]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--tenant", "acme", "--role", "admin", "--database", url]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1].split()[-1]

    port = _free_port()
    env = {**os.environ, **extra_env}
    env.pop("AIGUILLAGE_DATABASE_URL", None)
    # The server must run this checkout, whatever else is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "aiguillage", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--database", url, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            status, _, _ = _request(f"{base}/v1/health")
            if status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            pytest.fail(f"aiguillage serve did not come up:\n{output}")
        time.sleep(0.2)
    return process, base, key


def _stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def server(tmp_path, capsys):
    process, base, key = _start(tmp_path, capsys, {"AIGUILLAGE_MAX_BODY_BYTES": "4096"})
    try:
        yield base, key
    finally:
        _stop(process)


@pytest.fixture
def roomy_server(tmp_path, capsys):
    """The server with the default body limit (invoices are tens of kilobytes)."""
    process, base, key = _start(tmp_path, capsys, {})
    try:
        yield base, key
    finally:
        _stop(process)


def test_serve_answers_over_http(server):
    base, key = server
    auth = {"Authorization": f"Bearer {key}"}

    status, _, body = _request(f"{base}/v1/health")
    assert status == 200 and json.loads(body)["database"] == "ok"

    status, headers, body = _request(
        f"{base}/v1/customers", "POST", json.dumps({"code": "ACME", "name": "Acme"}).encode(),
        {**auth, "Content-Type": "application/json"},
    )
    assert status == 201, body
    location = headers["Location"]
    # Several requests, so both workers get to answer from the shared database.
    for _ in range(6):
        status, _, body = _request(f"{base}{location}", headers=auth)
        assert status == 200 and json.loads(body)["code"] == "ACME"

    status, headers, body = _request(f"{base}/v1/customers")
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    status, headers, body = _request(f"{base}/nowhere")
    assert status == 404 and json.loads(body)["status"] == 404
    status, _, body = _request(
        f"{base}/v1/customers", "POST", b"{" + b" " * 8000 + b"}", {**auth, "Content-Type": "application/json"}
    )
    assert status == 413 and json.loads(body)["type"] == "about:blank"

    status, _, body = _request(f"{base}/openapi.json")
    assert status == 200 and json.loads(body)["openapi"] == "3.1.0"


def test_serve_refuses_an_unmigrated_database(tmp_path, capsys):
    assert main(["serve", "--database", f"sqlite:///{tmp_path / 'empty.db'}", "--port", "1"]) == 1
    assert "aiguillage db upgrade" in capsys.readouterr().err


def _json(base: str, path: str, key: str, body: object, method: str = "POST"):
    status, headers, answer = _request(f"{base}{path}", method, json.dumps(body).encode(),
                                       {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    return status, headers, json.loads(answer) if answer else None


def test_a_published_version_reaches_every_worker_without_restart(roomy_server, conformance):
    """Publish through one request; every later answer, from either worker, uses the new version."""
    base, key = roomy_server
    invoice = (conformance / "en16931" / "ubl-examples" / "ubl-tc434-example2.xml").read_bytes()
    xml = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}

    status, _, _ = _json(base, "/v1/customers", key, {"code": "NOBUY", "name": "Buyer", "vat_identifier": "NO987654321MVA"})
    assert status == 201
    text = 'ruleset "buyer"\nextends "en16931"\nroute\n  otherwise -> {}\n'
    status, _, ruleset = _json(base, "/v1/rulesets", key, {"name": "buyer", "customer": "NOBUY",
                                                          "content": text.format("print")})
    assert status == 201 and ruleset["check"]["ok"], ruleset
    assert _json(base, f"/v1/rulesets/{ruleset['id']}/publish", key, {})[0] == 201

    def channels(count: int) -> set[tuple[int, str]]:
        seen = set()
        for _ in range(count):
            status, _, answer = _request(f"{base}/v1/evaluate", "POST", invoice, xml)
            assert status == 200, answer
            decision = json.loads(answer)
            seen.add((decision["ruleset"]["version"], decision["routes"][0]["channel"]))
        return seen

    assert channels(20) == {(1, "print")}  # both workers have compiled version 1 by now
    status, _, _ = _json(base, f"/v1/rulesets/{ruleset['id']}/draft", key, {"content": text.format("portal")}, "PUT")
    assert status == 200
    assert _json(base, f"/v1/rulesets/{ruleset['id']}/publish", key, {})[0] == 201
    assert channels(30) == {(2, "portal")}

    # And the real thing: stored first, decided by version 2, queued.
    status, headers, answer = _request(f"{base}/v1/invoices", "POST", invoice, {**xml, "Idempotency-Key": "one"})
    assert status == 202, answer
    status, _, detail = _request(f"{base}{headers['Location']}", headers={"Authorization": f"Bearer {key}"})
    detail = json.loads(detail)
    assert detail["status"] == "queued" and detail["deliveries"][0]["channel"] == "portal"
