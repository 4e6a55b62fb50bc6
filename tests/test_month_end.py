"""Month-end on real processes: PostgreSQL, `aiguillage serve`, `aiguillage worker`, ERP threads over HTTP.

1,000 invoices from 8 threads, half of them look-alikes (same buyer and
amount, issue dates spread over 20 days: monthly subscriptions), each sent
again once with the same Idempotency-Key as an ERP does after a timeout. In
the middle, one API worker and the delivery worker are SIGKILLed; gunicorn
replaces its worker, and a new delivery worker is started. Then:

- every invoice is stored exactly once and both answers carry the same id;
- every invoice is decided (none left `received`);
- each group of look-alikes (same buyer, amount and date) has exactly one
  invoice delivered, the others are held as probable duplicates; every other
  invoice is delivered;
- every delivered invoice was published exactly once on the portal (loopback
  channel), and nothing else was;
- no answer was a 5xx; only requests in flight in the killed process saw a
  dropped connection (and were sent again, as an ERP would);
- `/metrics` and the JSON request and delivery-attempt logs tell the same story.

The variant `two-servers` runs two separate `serve` processes and two
`worker` processes on the one database, as two machines would.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord, OutboxEntry
from aiguillage.store.testing import create_postgres_database, drop_postgres_database
from aiguillage.testing.cluster import Cluster, http, month_end_invoice

#: 1,000 in CI; a busy machine may run fewer (`AIGUILLAGE_MONTH_END_INVOICES`, a multiple of 2 × 20).
INVOICES = int(os.environ.get("AIGUILLAGE_MONTH_END_INVOICES", "1000"))
THREADS = 8
DATES = 20
FIRST_DAY = date(2026, 11, 1)
#: Threads per API worker: while one waits for PostgreSQL, another evaluates (docs/operators.md).
THREADS_PER_WORKER = 4
#: An entry the killed worker had published before dying is found on the portal by the next try: `sent`
#: (the receiver already had it), never a second publication.
HANDED_OVER = {"delivered", "sent"}


@pytest.fixture
def cluster(tmp_path):
    url = create_postgres_database()
    cluster = Cluster(url.render_as_string(hide_password=False), tmp_path)
    cluster.setup()
    try:
        yield cluster
    finally:
        cluster.stop_all()
        drop_postgres_database(url)


def _invoice(index: int) -> tuple[str, bytes, str]:
    return month_end_invoice(index, dates=DATES, first_day=FIRST_DAY)


class Erp:
    """ERP threads: send each invoice, send it again with the same key; resend after a dropped connection or 503."""

    def __init__(self, cluster: Cluster, bases: list[str]) -> None:
        self.cluster, self.bases = cluster, bases
        self.answers: dict[str, list[tuple[int, str]]] = {}
        self.statuses: Counter[int] = Counter()
        self.dropped = 0
        self.sent = 0
        self.lock = threading.Lock()

    def _until_answered(self, base: str, number: str, document: bytes) -> tuple[int, str]:
        for _ in range(60):
            status, body = self.cluster.submit(base, document, f"key-{number}")
            with self.lock:
                self.statuses[status] += 1
                self.sent += 1
                if status == 0:
                    self.dropped += 1
            if status == 202:  # the whole body: a repeat must get the first answer again
                return status, json.dumps(body, sort_keys=True)
            if status not in (0, 503):
                return status, json.dumps(body)
            time.sleep(0.2)
        raise AssertionError(f"{number}: no answer after 60 tries")

    def run(self, thread: int) -> None:
        base = self.bases[thread % len(self.bases)]
        for index in range(thread, INVOICES, THREADS):
            number, document, _ = _invoice(index)
            first = self._until_answered(base, number, document)
            again = self._until_answered(base, number, document)
            with self.lock:
                self.answers[number] = [first, again]


def _metrics(base: str) -> dict[tuple[str, tuple], float]:
    text = http("GET", f"{base}/metrics")[2].decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.parametrize("topology", ["one-server", "two-servers"])
def test_month_end_batch_nothing_lost_doubled_stuck_or_crashed(cluster, topology):
    if topology == "one-server":
        servers = [cluster.serve("serve", workers=2, threads=THREADS_PER_WORKER)]
        workers = [cluster.worker("worker-1", concurrency=4)]
    else:
        servers = [cluster.serve("serve-a", workers=1, threads=THREADS_PER_WORKER),
                   cluster.serve("serve-b", workers=1, threads=THREADS_PER_WORKER)]
        workers = [cluster.worker("worker-1", concurrency=2), cluster.worker("worker-2", concurrency=2)]
    cluster.publish_ruleset(servers[0].base)
    erp = Erp(cluster, [s.base for s in servers])
    threads = [threading.Thread(target=erp.run, args=(t,)) for t in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()

    # In the middle: SIGKILL one API worker (gunicorn replaces it) and one delivery worker (started again).
    deadline = time.monotonic() + 120
    while len(erp.answers) < INVOICES // 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = servers[0].children()
    assert victim, "gunicorn has no workers?"
    cluster.kill(victim[0])
    cluster.kill(workers[0].popen.pid)
    workers[0].popen.wait()
    workers.append(cluster.worker("worker-1-restarted", concurrency=2))

    for thread in threads:
        thread.join(timeout=300)
    submitted_in = time.monotonic() - started
    assert len(erp.answers) == INVOICES

    engine = make_engine(cluster.url)
    sessions = session_factory(engine)

    def settled() -> bool:
        with sessions() as session:
            waiting = session.scalar(select(func.count()).select_from(InvoiceRecord).where(
                InvoiceRecord.status.in_(("received", "queued"))))
            outstanding = session.scalar(select(func.count()).select_from(OutboxEntry).where(
                OutboxEntry.status.in_(("pending", "sending", "retrying"))))
            return waiting == 0 and outstanding == 0

    deadline = time.monotonic() + 120
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.5)
    try:
        with sessions() as session:
            stored = {r.number: r for r in session.scalars(select(InvoiceRecord))}
            entries = session.scalars(select(OutboxEntry)).all()
    finally:
        engine.dispose()

    # Stored exactly once, the repeat answered with the first answer (same body); no 5xx; dropped connections
    # only around the kill.
    assert len(stored) == INVOICES
    for number, (first, again) in erp.answers.items():
        assert first[0] == 202 and again == first, (number, first, again)
        assert json.loads(first[1])["id"] == str(stored[number].id)
    assert not [s for s in erp.statuses if s >= 500], erp.statuses
    # Each ERP thread has one request in flight: the killed process can drop at most one per thread.
    assert erp.dropped <= THREADS, erp.statuses
    assert set(erp.statuses) <= {0, 202, 503}, erp.statuses

    # Decided, and held or delivered as the look-alike rule says.
    statuses = Counter(r.status for r in stored.values())
    alike = {n for n in stored if _invoice(int(n[3:]))[2] == "alike"}
    delivered_alike = [n for n in alike if stored[n].status in HANDED_OVER]
    assert len(delivered_alike) == DATES, statuses
    assert all(stored[n].status == "held" for n in alike if n not in delivered_alike), statuses
    assert all(stored[n].status in HANDED_OVER for n in stored if n not in alike), statuses
    assert statuses["held"] == INVOICES // 2 - DATES and statuses["sent"] <= 4, statuses
    assert statuses["delivered"] + statuses["sent"] == INVOICES // 2 + DATES, statuses
    assert len({stored[n].issue_date for n in delivered_alike}) == DATES

    # Delivered exactly once: one outbox entry per delivered invoice, one publication per invoice on the portal.
    delivered_ids = {r.id for r in stored.values() if r.status in HANDED_OVER}
    assert Counter(e.invoice_id for e in entries) == Counter({i: 1 for i in delivered_ids})
    assert {e.status for e in entries} <= HANDED_OVER
    assert all(e.attempts > 1 for e in entries if e.status == "sent")
    publications = [json.loads(p.read_text())["invoice_number"] for p in cluster.portal.glob("*/*/publication.json")]
    assert Counter(publications) == Counter({stored_number: 1 for stored_number in stored
                                             if stored[stored_number].status in HANDED_OVER})

    # Operators see the same: /metrics (all API workers, the killed one included) and the JSON logs.
    metrics = _metrics(servers[-1].base)
    assert metrics[("aiguillage_invoices", (("status", "delivered"),))] == statuses["delivered"]
    assert metrics[("aiguillage_invoices_held", ())] == INVOICES // 2 - DATES
    assert metrics[("aiguillage_outbox_depth", ())] == 0 and metrics[("aiguillage_dead_letters", ())] == 0
    answered = sum(v for (name, labels), v in metrics.items() if name == "aiguillage_request_duration_seconds_count"
                   and ("route", "/v1/invoices") in labels) if topology == "one-server" else None
    if answered is not None:
        assert answered >= 2 * INVOICES - erp.dropped
    request_lines = [json.loads(line) for s in servers for line in s.output().splitlines() if line.startswith("{")]
    submissions = [line for line in request_lines if line.get("route") == "/v1/invoices"]
    assert len(submissions) >= 2 * INVOICES - erp.dropped and all(len(line["request_id"]) == 32 for line in submissions)
    attempt_lines = [json.loads(line) for w in workers for line in w.output().splitlines() if line.startswith("{")]
    assert len({line["delivery"] for line in attempt_lines if line["status"] == "delivered"}) >= len(delivered_ids) - 8
    print(f"\n{topology}: {INVOICES} invoices x2 submitted in {submitted_in:.1f} s "
          f"({2 * INVOICES / submitted_in:.0f} requests/s), statuses {dict(erp.statuses)}")
