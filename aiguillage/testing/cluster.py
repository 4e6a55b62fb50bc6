"""Real processes on one database, as an operator runs them: `aiguillage serve` and `aiguillage worker`.

Used by the month-end test, the crash-recovery test and
`benchmarks/month_end.py`: start servers and workers as separate processes
(killable with SIGKILL, like a machine lost), submit invoices over HTTP as
ERP threads do, and read back from the database what happened. Deliveries
go to the portal channel's folder (`portal/`), a loopback channel whose
publication ids make a second send of one delivery visible as the same
folder, never a second one.
"""

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
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from http.client import HTTPException
from pathlib import Path
from typing import Any

from aiguillage.store import migrate
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.keys import ApiKeys
from aiguillage.store.repositories.tenants import Tenants

CODE_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = CODE_ROOT / "samples" / "atelier-lumiere-F2026-0042.json"

#: The tenant's ruleset: the standard rules, then everything that passes goes to the portal.
PORTAL_RULESET = """ruleset "default" version 1
extends "en16931"
description "Month-end load: every valid invoice is published on the portal"

route
  when has errors -> hold "fix validation errors first"
  otherwise       -> portal
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request; any HTTP status is returned, a dropped connection raises OSError.

    A process killed between its status line and its body (the SIGKILL tests do that) leaves an
    incomplete answer: that is a dropped connection too, not an answer.
    """
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        try:
            return error.code, dict(error.headers), error.read()
        except HTTPException as exc:
            raise ConnectionError(f"the connection dropped mid-answer: {exc!r}") from exc
    except HTTPException as exc:
        raise ConnectionError(f"the connection dropped mid-answer: {exc!r}") from exc


def invoice_document(number: str, *, charge: int = 20, issue_date: date | None = None) -> bytes:
    """The sample invoice with this number, a transport charge of `charge` euros and this issue date.

    The charge changes the totals consistently (20 % VAT), so every amount
    stays valid EN 16931: same charge and date means a look-alike.
    """
    document = json.loads(SAMPLE.read_text())
    document["number"] = number
    if issue_date is not None:
        document["issue_date"] = issue_date.isoformat()
        document["due_date"] = (issue_date + timedelta(days=30)).isoformat()
    amount = Decimal(charge).quantize(Decimal("0.01"))
    document["charges"][0]["amount"] = str(amount)
    taxable = Decimal("480.00") + amount
    tax = (taxable * Decimal("0.20")).quantize(Decimal("0.01"))
    document["vat_breakdown"][0].update(taxable_amount=str(taxable), tax_amount=str(tax))
    without = Decimal("530.00") + amount
    vat = tax + Decimal("2.75")
    document["totals"].update(charge_total_amount=str(amount), amount_without_vat=str(without),
                              vat_amount=str(vat), amount_with_vat=str(without + vat),
                              amount_due_for_payment=str(without + vat))
    return json.dumps(document).encode()


def month_end_invoice(index: int, *, dates: int = 20, first_day: date = date(2026, 11, 1)) -> tuple[str, bytes, str]:
    """Number, document and kind: even indexes are look-alikes (one buyer and amount, `dates` issue dates),
    odd ones have amounts of their own."""
    number = f"ME-{index:06d}"
    if index % 2 == 0:
        day = first_day + timedelta(days=(index // 2) % dates)
        return number, invoice_document(number, charge=20, issue_date=day), "alike"
    return number, invoice_document(number, charge=21 + index, issue_date=first_day), "unique"


@dataclass
class Process:
    """A started process, its log file and (for a server) its base URL."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    base: str | None = None

    def children(self) -> list[int]:
        """Child pids (a server's gunicorn workers)."""
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def peak_rss_kib(pid: int) -> int:
    """Peak resident memory of a live process (VmHWM), in KiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    """Current resident memory (VmRSS), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Cluster:
    """Servers and workers on one database; `setup()` migrates it and issues the ERP's key."""

    url: str
    root: Path
    key: str = ""
    admin_key: str = ""
    processes: list[Process] = field(default_factory=list)

    @property
    def portal(self) -> Path:
        return self.root / "portal"

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "AIGUILLAGE_PORTAL_FOLDER": str(self.portal),
               "AIGUILLAGE_PORTAL_FORMATS": '["json"]', **(extra or {})}
        env.pop("AIGUILLAGE_DATABASE_URL", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), env.get("PYTHONPATH")]))
        return env

    def setup(self) -> None:
        """Migrate, create the tenant, an ERP key and an admin key."""
        self.root.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.url)
        try:
            migrate.upgrade(engine)
            with transaction(session_factory(engine)) as session:
                tenant = Tenants(session).create("month-end", CLI)
                self.key = ApiKeys(session, tenant.id).issue("erp", CLI).plaintext
                self.admin_key = ApiKeys(session, tenant.id).issue("admin", CLI).plaintext
        finally:
            engine.dispose()

    def _start(self, name: str, arguments: list[str], env: dict[str, str] | None) -> Process:
        log = self.root / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - the child writes to it until it ends
        popen = subprocess.Popen([sys.executable, "-m", "aiguillage", *arguments, "--database", self.url],
                                 env=self.environment(env), stdout=handle, stderr=subprocess.STDOUT, cwd=self.root)
        handle.close()
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def serve(self, name: str = "serve", *, workers: int = 2, threads: int = 1, env: dict[str, str] | None = None,
              timeout: float = 60) -> Process:
        """`aiguillage serve` on a free port; returns once it answers /v1/health."""
        port = free_port()
        process = self._start(name, ["serve", "--port", str(port), "--workers", str(workers),
                                     "--threads", str(threads)], env)
        process.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                break
            try:
                if http("GET", f"{process.base}/v1/health", timeout=2)[0] == 200:
                    return process
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"aiguillage serve did not come up:\n{process.output()}")

    def worker(self, name: str = "worker", *, concurrency: int = 4, recover_after: float = 2.0,
               env: dict[str, str] | None = None) -> Process:
        """`aiguillage worker`, polling often (tests want to see deliveries soon)."""
        return self._start(name, ["worker", "--concurrency", str(concurrency), "--poll", "0.2", "--lease", "5",
                                  "--recover-after", str(recover_after)], env)

    def publish_ruleset(self, base: str, content: str = PORTAL_RULESET) -> None:
        """Publish the tenant-wide `default` ruleset through the API."""
        auth = {"Authorization": f"Bearer {self.admin_key}", "Content-Type": "application/json"}
        status, _, body = http("POST", f"{base}/v1/rulesets", json.dumps({"name": "default", "content": content}).encode(),
                               auth)
        if status != 201:
            raise RuntimeError(f"creating the ruleset: {status} {body[:500]!r}")
        ruleset_id = json.loads(body)["id"]
        status, _, body = http("POST", f"{base}/v1/rulesets/{ruleset_id}/publish", b"{}", auth)
        if status not in (200, 201):
            raise RuntimeError(f"publishing the ruleset: {status} {body[:500]!r}")

    def submit(self, base: str, document: bytes, idempotency_key: str, timeout: float = 60) -> tuple[int, dict[str, Any]]:
        """`POST /v1/invoices` as an ERP does; (status, JSON body); a dropped connection is status 0."""
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                   "Idempotency-Key": idempotency_key}
        try:
            status, _, body = http("POST", f"{base}/v1/invoices", document, headers, timeout=timeout)
        except OSError as exc:
            return 0, {"error": str(exc)}
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"raw": body[:200].decode(errors="replace")}

    @staticmethod
    def kill(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def stop_all(self) -> None:
        """SIGTERM everything still running, then SIGKILL what does not stop."""
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
