"""Month-end on real processes: PostgreSQL, `serve --workers 2`, `worker --concurrency 4`, ERP threads over HTTP.

    python benchmarks/month_end.py [--count 20000] [--threads 16] [--server-threads 4] [--no-kill]
                                   [--batch N | --both]

A fresh PostgreSQL database (the test server, `AIGUILLAGE_TEST_POSTGRES_URL`),
one tenant, the tenant-wide ruleset `extends "en16931"` then `-> portal`
(a loopback channel: a folder). `--threads` ERP threads submit `--count`
invoices (half of them look-alikes: same buyer and amount, dates spread over
20 days), each sent again once with the same Idempotency-Key. Half-way, one
API worker and the delivery worker are SIGKILLed (gunicorn replaces its
worker; the delivery worker is started again). It prints:

- submissions/s (first sends: stored and decided in the request), p50/p99,
  and the load average (this machine is shared);
- the CPU milliseconds the API workers, the delivery worker and PostgreSQL
  used per invoice, and what that makes on 2 dedicated cores (wall-clock
  rates fall with other people's load, CPU per invoice does not);
- RSS per process at a quarter of the run and at the end, and each
  process's peak (memory must stay flat as the count grows);
- the invariants: every invoice stored once (both answers the same id),
  decided, look-alikes held but one per date, every other invoice delivered
  exactly once on the portal, no 5xx (dropped connections only from the
  killed process);
- beside it, from the same run and servers: the dry-run `POST /v1/evaluate`
  rate for the same invoices (the engine alone, nothing stored).

`--batch N` posts N invoices per `POST /v1/invoices:batch` request (and the
same batch again) instead of one `POST /v1/invoices` each; `--both` runs
both modes one after the other, each on a fresh database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord, OutboxEntry
from aiguillage.store.testing import create_postgres_database, drop_postgres_database
from aiguillage.testing.cluster import (
    Cluster,
    Process,
    http,
    month_end_invoice,
    peak_rss_kib,
    rss_kib,
)

DATES = 20


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process itself (not its children: they are counted on their own), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
    except OSError:
        return 0.0
    import os

    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving this database (their command line names it; ours name it too, so the
    process name tells them apart)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres" and database in (entry / "cmdline").read_text(
                        errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class Erp:
    """The ERP's threads; each invoice is sent until answered, then sent again with the same key."""

    def __init__(self, cluster: Cluster, base: str, count: int) -> None:
        self.cluster, self.base, self.count = cluster, base, count
        self.answers: dict[str, tuple[tuple[int, str], tuple[int, str]]] = {}
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def _answered(self, number: str, document: bytes, timed: bool) -> tuple[int, str]:
        for _ in range(100):
            started = time.perf_counter()
            status, body = self.cluster.submit(self.base, document, f"key-{number}")
            elapsed = time.perf_counter() - started
            with self.lock:
                self.statuses[status] += 1
                if timed and status in (200, 202):
                    self.latencies.append(elapsed)
            if status in (200, 202):
                return status, body["id"]
            if status not in (0, 429, 503):
                return status, json.dumps(body)[:200]
            time.sleep(0.2)
        return 0, "no answer"

    def run(self, thread: int, threads: int) -> None:
        for index in range(thread, self.count, threads):
            number, document, _ = month_end_invoice(index, dates=DATES)
            first = self._answered(number, document, timed=True)
            again = self._answered(number, document, timed=False)
            with self.lock:
                self.answers[number] = (first, again)


class BatchErp(Erp):
    """The same ERP posting `size` invoices per `POST /v1/invoices:batch`, then the same batch again."""

    def __init__(self, cluster: Cluster, base: str, count: int, size: int) -> None:
        super().__init__(cluster, base, count)
        self.size = size

    def _batch(self, numbers: list[str], lines: dict[str, bytes], timed: bool) -> dict[str, tuple[int, str]]:
        headers = {"Authorization": f"Bearer {self.cluster.key}", "Content-Type": "application/x-ndjson"}
        answered: dict[str, tuple[int, str]] = {}
        for _ in range(100):
            waiting = [n for n in numbers if n not in answered]
            if not waiting:
                break
            started = time.perf_counter()
            try:
                status, _, body = http("POST", f"{self.base}/v1/invoices:batch", b"\n".join(lines[n] for n in waiting),
                                       headers, timeout=120)
            except OSError:
                status, body = 0, b""
            elapsed = time.perf_counter() - started
            items = json.loads(body)["items"] if status == 200 else []
            with self.lock:
                self.statuses[status] += 1
                if timed and status == 200:
                    self.latencies.append(elapsed)
                for item in items:
                    self.statuses[item["status"]] += 1
            for number, item in zip(waiting, items, strict=bool(items)):
                if item["status"] in (200, 202):
                    answered[number] = (item["status"], item["id"])
                elif item["status"] not in (429, 503):
                    answered[number] = (item["status"], json.dumps(item.get("problem"))[:200])
            if len(answered) < len(numbers):
                time.sleep(0.2)
        return answered

    def run(self, thread: int, threads: int) -> None:
        starts = list(range(0, self.count, self.size))[thread::threads]
        for start in starts:
            lines: dict[str, bytes] = {}
            for index in range(start, min(start + self.size, self.count)):
                number, document, _ = month_end_invoice(index, dates=DATES)
                lines[number] = json.dumps({"idempotency_key": f"key-{number}", "document": document.decode()}).encode()
            numbers = list(lines)
            first = self._batch(numbers, lines, timed=True)
            again = self._batch(numbers, lines, timed=False)
            with self.lock:
                for number in numbers:
                    self.answers[number] = (first.get(number, (0, "no answer")), again.get(number, (0, "no answer")))


def warm_up(cluster: Cluster, base: str, requests: int) -> None:
    """A few dry runs, so every API worker has imported and compiled what it needs before the clock starts."""
    headers = {"Authorization": f"Bearer {cluster.key}", "Content-Type": "application/json"}
    document = month_end_invoice(1, dates=DATES)[1]
    workers = [threading.Thread(target=http, args=("POST", f"{base}/v1/evaluate", document, headers))
               for _ in range(requests)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def memory(processes: list[Process]) -> dict[str, int]:
    """Current RSS (KiB) of each server worker and delivery worker still running."""
    found: dict[str, int] = {}
    for process in processes:
        if process.popen.poll() is not None:
            continue
        found[process.name] = rss_kib(process.popen.pid)
        for child in process.children():
            found[f"{process.name}/{child}"] = rss_kib(child)
    return found


def evaluate_rate(cluster: Cluster, base: str, count: int, threads: int) -> float:
    """Dry runs per second, same invoices, same servers, same client threads."""
    documents = [month_end_invoice(i, dates=DATES)[1] for i in range(min(count, 500))]
    headers = {"Authorization": f"Bearer {cluster.key}", "Content-Type": "application/json"}
    done = Counter()

    def one(thread: int) -> None:
        for index in range(thread, count, threads):
            status = http("POST", f"{base}/v1/evaluate", documents[index % len(documents)], headers)[0]
            done[status] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=one, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert set(done) == {200}, done
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes (default 2)")
    parser.add_argument("--server-threads", type=int, default=4, help="threads per API worker (default 4)")
    parser.add_argument("--concurrency", type=int, default=4, help="delivery worker threads (default 4)")
    parser.add_argument("--evaluations", type=int, default=2000, help="dry runs for the comparison (default 2000)")
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL anything half-way")
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="post N invoices per POST /v1/invoices:batch (default 0: one POST /v1/invoices each)")
    parser.add_argument("--both", action="store_true",
                        help="run twice on fresh databases: single posts, then batches of --batch (default 100)")
    args = parser.parse_args()
    if args.both:
        single = _fresh(argparse.Namespace(**{**vars(args), "batch": 0}))
        batched = _fresh(argparse.Namespace(**{**vars(args), "batch": args.batch or 100}))
        return single or batched
    return _fresh(args)


def _fresh(args: argparse.Namespace) -> int:
    """One run on a database of its own."""
    url = create_postgres_database()
    root = Path(tempfile.mkdtemp(prefix="aiguillage-month-end-"))
    cluster = Cluster(url.render_as_string(hide_password=False), root)
    try:
        return run(cluster, url.database, args)
    finally:
        cluster.stop_all()
        drop_postgres_database(url)


def run(cluster: Cluster, database: str, args: argparse.Namespace) -> int:
    cluster.setup()
    server = cluster.serve("serve", workers=args.workers, threads=args.server_threads)
    cluster.publish_ruleset(server.base)
    workers = [cluster.worker("worker", concurrency=args.concurrency)]
    erp = BatchErp(cluster, server.base, args.count, args.batch) if args.batch else Erp(cluster, server.base, args.count)
    threads = [threading.Thread(target=erp.run, args=(t, args.threads)) for t in range(args.threads)]
    cpu_pids: dict[int, str] = {}
    peaks: dict[str, int] = {}

    def watch() -> None:
        for process in [server, *workers]:
            for pid in [process.popen.pid, *process.children()]:
                cpu_pids[pid] = "API workers" if process is server else "delivery worker"
                peaks[f"{process.name}:{pid}"] = max(peaks.get(f"{process.name}:{pid}", 0), peak_rss_kib(pid))
        cpu_pids.update(dict.fromkeys(postgres_pids(database), "PostgreSQL"))

    def sample() -> None:
        watch()
        for pid in cpu_pids:
            cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), cpu_seconds(pid))

    def by_kind() -> dict[str, float]:
        kinds: dict[str, float] = dict.fromkeys(("API workers", "delivery worker", "PostgreSQL"), 0.0)
        for pid, seconds in cpu_seen.items():
            kinds[cpu_pids[pid]] += seconds - cpu_before.get(pid, 0.0)
        return kinds

    warm_up(cluster, server.base, 4 * args.workers)
    watch()
    # Start-up (imports, the first compile of the ruleset) is not per invoice: count from here. A worker
    # started later (the one replacing the killed one) is counted whole, start-up included.
    cpu_before = {pid: cpu_seconds(pid) for pid in cpu_pids}
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    quarter: dict[str, int] = {}
    killed = args.no_kill
    cpu_seen: dict[int, float] = {}
    load_before = os.getloadavg()
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        sample()
        if not quarter and len(erp.answers) >= args.count // 4:
            quarter = memory([server, *workers])
        if not killed and len(erp.answers) >= args.count // 2:
            cluster.kill(server.children()[0])
            cluster.kill(workers[0].popen.pid)
            workers[0].popen.wait()
            workers.append(cluster.worker("worker-restarted", concurrency=args.concurrency))
            killed = True
    submitted = time.perf_counter() - started
    end = memory([server, *workers])
    sample()
    load_during = os.getloadavg()
    at_submitted = by_kind()

    engine = make_engine(cluster.url)
    sessions = session_factory(engine)
    settle_started = time.perf_counter()
    while time.perf_counter() - settle_started < 600:
        with sessions() as session:
            waiting = session.scalar(select(func.count()).select_from(InvoiceRecord)
                                     .where(InvoiceRecord.status.in_(("received", "queued"))))
            outstanding = session.scalar(select(func.count()).select_from(OutboxEntry)
                                         .where(OutboxEntry.status.in_(("pending", "sending", "retrying"))))
        if waiting == 0 and outstanding == 0:
            break
        sample()
        time.sleep(1)
    drained = time.perf_counter() - started
    sample()
    at_drained = by_kind()
    with sessions() as session:
        stored = {number: (str(ident), status) for number, ident, status in session.execute(
            select(InvoiceRecord.number, InvoiceRecord.id, InvoiceRecord.status)).all()}
        entries = [str(ident) for ident in session.scalars(select(OutboxEntry.invoice_id))]
    engine.dispose()
    evaluations = evaluate_rate(cluster, server.base, args.evaluations, args.threads)

    latencies = sorted(erp.latencies)
    handed = {"delivered", "sent"}
    statuses = Counter(status for _, status in stored.values())
    alike = {month_end_invoice(i, dates=DATES)[0] for i in range(0, args.count, 2)}
    checks = {
        "every invoice stored exactly once": len(stored) == args.count,
        "both answers carry the stored id": all(
            first[0] == 202 and again == (202, first[1]) and stored[n][0] == first[1]
            for n, (first, again) in erp.answers.items()) and len(erp.answers) == args.count,
        "none left received (decided)": statuses["received"] == 0,
        "look-alikes held but one per date": sum(stored[n][1] in handed for n in alike) == min(DATES, len(alike))
        and all(stored[n][1] in handed | {"held"} for n in alike),
        "every other invoice delivered": all(s[1] in handed for n, s in stored.items() if n not in alike),
        "one delivery per delivered invoice": Counter(entries) == Counter(
            ident for ident, status in stored.values() if status in handed),
        "one portal publication per delivered invoice": Counter(
            json.loads(p.read_text())["invoice_number"] for p in cluster.portal.glob("*/*/publication.json"))
        == Counter({n: 1 for n, s in stored.items() if s[1] in handed}),
        "no 5xx": not [s for s in erp.statuses if s >= 500],
    }
    mode = f"batches of {args.batch} (POST /v1/invoices:batch)" if args.batch else "one POST /v1/invoices each"
    print(f"month-end, {mode}: {args.count} invoices from {args.threads} threads, each sent twice; "
          f"serve --workers {args.workers} --threads {args.server_threads}, worker --concurrency {args.concurrency}"
          f"{'' if args.no_kill else '; one API worker and the delivery worker SIGKILLed half-way'}")
    what = f"batch requests of {args.batch}" if args.batch else "requests"
    print(f"  submissions: {args.count / submitted:.1f} invoices/s stored and decided "
          f"({2 * args.count / submitted:.1f} invoices/s with the resends); latency of first {what}: "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000:.0f} ms")
    print(f"  load average (1 min) {load_before[0]:.1f} at the start, {load_during[0]:.1f} when submissions ended "
          f"({os.cpu_count()} cores, shared)")
    print(f"  all delivered after {drained:.1f} s; statuses {dict(statuses)}; answers {dict(erp.statuses)} "
          "(0 = connection dropped by the killed process)")
    for label, kinds in (("when submissions ended", at_submitted), ("once all delivered", at_drained)):
        parts = ", ".join(f"{kind} {seconds * 1000 / args.count:.1f}" for kind, seconds in kinds.items())
        print(f"  CPU ms per invoice (both sends) {label}: {parts}; total {sum(kinds.values()) * 1000 / args.count:.1f}")
    intake = (at_submitted["API workers"] + at_submitted["PostgreSQL"]) / args.count
    total = sum(at_drained.values()) / args.count
    print(f"  -> on 2 dedicated cores: {2 / intake:.0f} invoices/s stored and decided (API workers + PostgreSQL "
          f"until submissions ended), {2 / total:.0f} invoices/s with the deliveries too")
    print(f"  dry run POST /v1/evaluate, same run and servers: {evaluations:.1f} evaluations/s "
          f"({evaluations / (args.count / submitted):.1f}x the submission rate)")
    print(f"  RSS at {args.count // 4} invoices (KiB): {quarter}")
    print(f"  RSS at {args.count} invoices (KiB): {end}")
    print(f"  peak RSS per process (KiB): {peaks}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
