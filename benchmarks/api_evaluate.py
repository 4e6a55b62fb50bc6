"""`POST /v1/evaluate` over loopback HTTP against the production server, and its memory.

    python benchmarks/api_evaluate.py [--customers 1000] [--requests 5000] [--concurrency 4] [--workers 2] [--standard]

Sets up a scratch SQLite database with one tenant, an ERP key and
`--customers` customers, each with its own published ruleset that extends
`en16931` (a few rules of its own and a route; every text differs, so every
one compiles to its own unit while sharing the compiled en16931); with
`--standard`, customers without a ruleset, judged by the standard en16931
(the service's default). Then:

1. memory: `aiguillage serve --workers 1`; one evaluation per customer, so
   the one worker process holds every customer's compiled ruleset; prints
   the worker's RSS before and after, and per ruleset;
2. throughput: `aiguillage serve --workers N`; a first pass, each customer
   once on fresh workers (requests/s, p99, server CPU per request), then the
   same after a restart (what a deploy at month-end costs, the disk cache as
   the first workers left it), a warm-up, then `--requests` evaluations (bounded) by
   `--concurrency` client threads on raw sockets, rotating over the
   customers (each invoice's buyer VAT id names its customer, so customer
   matching runs too); prints requests/s, p50/p99 latency, the server
   workers' CPU time per request (user + system, from /proc), which says
   what 2 dedicated cores would do on a machine shared with other work, and
   the client's own CPU per request (it runs on the same cores), and the
   load average before and after: on a shared machine the wall figures move
   with the load, the CPU per request much less.

The invoice is the official example `ubl-tc434-example2.xml` (20 KB, 4 lines)
from `../shared/conformance`, or `--invoice FILE`.

3. beside it, the official validator measured in the same run: the EN 16931
   UBL XSLT in Saxon-HE (saxonche), stylesheet compiled once, on the same
   invoice, as validations per second per core and for `--workers` cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiguillage.engine.loader import rulesets_root
from aiguillage.model.syntaxes import read_invoice, write_invoice
from aiguillage.store import migrate
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.keys import ApiKeys
from aiguillage.store.repositories.rulesets import Rulesets
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.vocabulary import Role

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from official import saxon_per_invoice_ms  # noqa: E402

DEFAULT_INVOICE = (
    REPO.parent / "shared" / "conformance" / "en16931" / "ubl-examples" / "ubl-tc434-example2.xml"
)


def ruleset_text(index: int) -> str:
    """A customer ruleset: its own checks and route on top of EN 16931; unique per customer."""
    code = f"C{index:04d}"
    return f'''ruleset "cust-{index:04d}"
customer "{code}"
extends "en16931"

validate
  rule {code}-01 warning "{code} asks for a buyer reference"
    assert buyer_reference exists
  rule {code}-02 warning "{code} takes at most {100 + index} lines"
    assert count(lines) <= {100 + index}
  rule {code}-03 error "{code} pays in NOK or EUR only"
    assert currency_code in ("NOK", "EUR")

route
  when has errors                          -> hold "fix validation errors first"
  when totals.amount_with_vat > {10000 + index} NOK -> approval by "finance", then peppol
  otherwise                                -> email to "ap-{index:04d}@customer.example" as factur-x
'''


def vat_of(index: int) -> str:
    return f"NO{900000000 + index}MVA"


def set_up(url: str, customers: int, *, rulesets_too: bool = True) -> str:
    """Migrate, create the tenant, its ERP key, customers and (unless not `rulesets_too`: they
    are then judged by the standard en16931) their published rulesets; the key."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    with transaction(session_factory(engine)) as session:
        tenant = Tenants(session).create("bench", CLI)
        key = ApiKeys(session, tenant.id).issue(Role.ERP, CLI).plaintext
        people, rulesets = Customers(session, tenant.id), Rulesets(session, tenant.id)
        for index in range(customers):
            code = f"C{index:04d}"
            people.create(
                {
                    "code": code,
                    "name": f"Customer {index}",
                    "language": "en",
                    "vat_identifier": vat_of(index),
                    "email": f"ap-{index:04d}@customer.example",
                },
                CLI,
            )
            if not rulesets_too:
                continue
            ruleset = rulesets.create(
                f"cust-{index:04d}", CLI, customer_code=code, content=ruleset_text(index)
            )
            rulesets.publish(ruleset.id, CLI)
    engine.dispose()
    return key


def invoices(path: Path, customers: int) -> list[bytes]:
    """The example invoice once per customer, its buyer's VAT id naming that customer."""
    invoice = read_invoice(path.read_bytes())
    out = []
    for index in range(customers):
        invoice.buyer.vat_identifier = vat_of(index)
        out.append(write_invoice(invoice, "ubl"))
    return out


# --------------------------------------------------------------------------- the server


class Server:
    """`aiguillage serve` in a subprocess; knows its worker processes."""

    def __init__(self, url: str, workers: int, folder: Path, threads: int = 1, cache: Path | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        env["AIGUILLAGE_RULESETS"] = str(folder / "rulesets")
        if cache is not None:  # else the user's cache, as left by earlier runs
            env["AIGUILLAGE_CACHE_DIR"] = str(cache)
        env.pop("AIGUILLAGE_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiguillage",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database",
                url,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=folder,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    request(
                        self.port,
                        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    )[0]
                    == 200
                    and len(self.workers()) == workers
                ):
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process: the kernel's share is the sockets' (a connection per request)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- the client


def evaluate_request(key: str, body: bytes) -> bytes:
    head = (
        f"POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/xml\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def request(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send one prepared HTTP/1.1 request on a new connection; (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(raw)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer[9:12]), answer


class KeepAlive:
    """One persistent HTTP/1.1 connection (gunicorn's threaded workers keep connections open)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: socket.socket | None = None
        self.buffer = b""

    def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = socket.create_connection(("127.0.0.1", self.port))
            self.buffer = b""
        self.connection.sendall(raw.replace(b"Connection: close\r\n", b""))
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        if b"connection: close" in head.lower():
            self.connection.close()
            self.connection = None
        return int(head[9:12]), head + b"\r\n\r\n" + rest[:length]

    def _recv(self) -> bytes:
        assert self.connection is not None
        chunk = self.connection.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


def drive(
    port: int, requests: list[bytes], concurrency: int, keep_alive: bool = False
) -> tuple[float, list[float], int]:
    """Send every request with `concurrency` threads; (seconds, latencies, non-200 answers)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    position = [0]

    def work() -> None:
        mine: list[float] = []
        bad = 0
        connection = KeepAlive(port) if keep_alive else None
        while True:
            with lock:
                index = position[0]
                position[0] += 1
            if index >= len(requests):
                break
            start = time.perf_counter()
            status, answer = (
                connection.send(requests[index]) if connection else request(port, requests[index])
            )
            mine.append(time.perf_counter() - start)
            if status != 200:
                bad += 1
                if bad == 1:
                    print(f"  answer {status}: {answer[-300:]!r}", file=sys.stderr)
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, failures[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--invoice", type=Path, default=DEFAULT_INVOICE)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per worker; above 1 gunicorn keeps connections open and the client reuses them",
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--standard",
        action="store_true",
        help="customers without a ruleset of their own: each request is judged by the standard en16931",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'bench.db'}"
        # A snapshot of the rulesets folder, as a deployed server has: edits made to the
        # checkout while the benchmark runs must not make the servers recompile mid-measure.
        shutil.copytree(rulesets_root(), folder / "rulesets")
        started = time.perf_counter()
        key = set_up(url, args.customers, rulesets_too=not args.standard)
        bodies = invoices(args.invoice, args.customers)
        prepared = [evaluate_request(key, body) for body in bodies]
        print(
            f"set-up: {args.customers} customers "
            f"{'judged by the standard en16931' if args.standard else 'with a published ruleset extending en16931'} "
            f"({time.perf_counter() - started:.1f} s); invoice {args.invoice.name}, {len(bodies[0]):,} bytes"
        )

        if not args.skip_memory:
            # A cache of its own: what it keeps must not make the throughput part's first start warm.
            server = Server(url, 1, folder, cache=folder / "memory-cache")
            try:
                [worker] = server.workers()
                status, answer = request(server.port, prepared[0])
                assert status == 200, answer[-500:]
                before = rss_mib(worker)
                started = time.perf_counter()
                seconds, _, failed = drive(server.port, prepared, 2)
                after = rss_mib(worker)
                print(
                    f"memory: one worker, {args.customers} customer rulesets evaluated once each "
                    f"({seconds:.1f} s, {failed} failures): RSS {before:.0f} MiB with one, {after:.0f} MiB with all "
                    f"({(after - before) * 1024 / max(1, args.customers - 1):.0f} KiB per ruleset); "
                    f"target < 1024 MiB: {'met' if after < 1024 else 'NOT met'}"
                )
            finally:
                server.stop()

        keep_alive = args.threads > 1

        def first_pass(server: Server, label: str) -> None:
            """Each customer once on fresh workers: what a (re)start costs before every worker has
            built the rulesets it serves."""
            workers = server.workers()
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            seconds, latencies, failed = drive(server.port, prepared, args.concurrency, keep_alive)
            cold_cpu = (sum(cpu_seconds(pid) for pid in workers) - cpu_before) / len(prepared)
            print(
                f"{label}: {len(prepared)} requests, each customer once: "
                f"{len(prepared) / seconds:,.0f} requests/s, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
                f"server CPU {cold_cpu * 1000:.2f} ms per request, {failed} failures"
            )

        server = Server(url, args.workers, folder, args.threads)
        try:
            first_pass(server, "first start (each worker compiles the rulesets it is sent)")
        finally:
            server.stop()
        server = Server(url, args.workers, folder, args.threads)
        try:
            first_pass(server, "after a restart (each worker rebuilds them from what the disk kept)")
            workers = server.workers()
            warm = prepared * (4 * args.workers - 1)
            started = time.perf_counter()
            _, _, failed = drive(server.port, warm, args.concurrency, keep_alive)
            print(
                f"warm-up: {len(warm)} more requests ({time.perf_counter() - started:.1f} s, {failed} failures)"
            )
            load_before = os.getloadavg()[0]
            system_before = sum(cpu_split(pid)[1] for pid in workers)
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            client_before = time.process_time()
            batch = [prepared[i % len(prepared)] for i in range(args.requests)]
            seconds, latencies, failed = drive(server.port, batch, args.concurrency, keep_alive)
            cpu = sum(cpu_seconds(pid) for pid in workers) - cpu_before
            system = sum(cpu_split(pid)[1] for pid in workers) - system_before
            client = time.process_time() - client_before
            rate = len(batch) / seconds
            connections = "kept-alive connections" if keep_alive else "a connection per request"
            print(
                f"throughput: {len(batch)} requests, {args.concurrency} client threads ({connections}), "
                f"{args.workers} workers x {args.threads} thread(s): "
                f"{rate:,.0f} requests/s; latency p50 {percentile(latencies, 0.50) * 1000:.2f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms, mean {statistics.fmean(latencies) * 1000:.2f} ms; "
                f"{failed} failures; target >= 1,000/s: {'met' if rate >= 1000 else 'NOT met'}"
            )
            per_request = cpu / len(batch)
            client_per_request = client / len(batch)
            print(
                f"server CPU: {per_request * 1000:.2f} ms per request (user + system, all workers; system "
                f"{system / len(batch) * 1000:.2f} ms) → "
                f"{args.workers / per_request:,.0f} requests/s on {args.workers} dedicated cores; "
                f"client CPU {client_per_request * 1000:.2f} ms per request (with it, on the same "
                f"{args.workers} cores: {args.workers / (per_request + client_per_request):,.0f}/s); "
                f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
            )
            print(
                "workers' RSS after serving every customer: "
                + ", ".join(f"{rss_mib(pid):.0f} MiB" for pid in workers)
            )
        finally:
            server.stop()
        saxon = saxon_per_invoice_ms([args.invoice], rounds=200)
        print(
            f"official XSLT in Saxon-HE (compiled once, in-process, no HTTP): {saxon:.2f} ms per invoice → "
            f"{1000 / saxon:,.0f}/s per core, {args.workers * 1000 / saxon:,.0f}/s on {args.workers} cores; "
            f"ours over HTTP: {rate / (args.workers * 1000 / saxon):.1f}× that, "
            f"{(args.workers / per_request) / (args.workers * 1000 / saxon):.1f}× by server CPU per request"
        )


if __name__ == "__main__":
    main()
