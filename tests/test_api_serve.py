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


@pytest.fixture
def server(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'served.db'}"
    assert main(["db", "upgrade", "--database", url]) == 0
    assert main(["tenants", "create", "acme", "--database", url]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--tenant", "acme", "--role", "admin", "--database", url]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1].split()[-1]

    port = _free_port()
    env = {**os.environ, "AIGUILLAGE_MAX_BODY_BYTES": "4096"}
    env.pop("AIGUILLAGE_DATABASE_URL", None)
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
    try:
        yield base, key
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
