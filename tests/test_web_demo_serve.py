"""`aiguillage demo --serve`: the demo, then API, console and portal on loopback with one-time links, until Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aiguillage.demo import discover, samples_root
from aiguillage.engine.loader import rulesets_root

REPO = Path(__file__).resolve().parents[1]


def _lines_until_links(process: subprocess.Popen, deadline: float) -> list[str]:
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if lines[-1] == "" and any(x.startswith("portal: ") for x in lines):
            return lines
    raise AssertionError("no sign-in links printed:\n" + "\n".join(lines))


def _call(base: str, key: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(f"{base}{path}", method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_demo_serve_prints_links_that_open_the_pages_and_stops_on_ctrl_c(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen(
        [sys.executable, "-m", "aiguillage", "demo", "--dir", str(tmp_path / "demo"), "--serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    try:
        lines = _lines_until_links(process, time.monotonic() + 120)
        [console] = [x.removeprefix("console: ") for x in lines if x.startswith("console: ")]
        portal = [x.removeprefix("portal: ").split()[0] for x in lines if x.startswith("portal: ")]
        assert len(portal) == len(discover(rulesets_root(), samples_root())), lines  # one per demo customer
        assert console.startswith("http://127.0.0.1:") and "/console/link/aigl_" in console
        for link in [console, *portal]:
            with urllib.request.urlopen(link, timeout=10) as page:
                assert page.status == 200 and b'name="csrf_token"' in page.read()
        base = console.split("/console/")[0]
        with urllib.request.urlopen(f"{base}/v1/health", timeout=10) as health:
            assert health.status == 200
        # What is released while serving is delivered: the worker runs alongside the pages.
        key = re.search(r"admin key (aig_\S+)\)", "\n".join(lines)).group(1)
        [held] = _call(base, key, "GET", "/v1/invoices?status=held")["items"]
        _call(base, key, "POST", f"/v1/invoices/{held['id']}/approve", {})
        deadline = time.monotonic() + 60
        while _call(base, key, "GET", f"/v1/invoices/{held['id']}")["status"] not in ("sent", "delivered"):
            assert time.monotonic() < deadline, "the approved invoice was not delivered while serving"
            time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
