"""Dispatch throughput: deliveries per second through the outbox worker, and where the time goes.

    python benchmarks/dispatch.py [--count 500] [--concurrency 4] [--backends sqlite,postgresql]
                                  [--channels email,mailbox] [--attachments pdf]

For each database backend and channel: a fresh database, one tenant,
`--count` invoices (the sample invoice, renumbered) queued in the outbox,
then `aiguillage worker --once`'s loop (`dispatch.worker.Worker`) sends
them all, to

- email: a real SMTP server on loopback (aiosmtpd, STARTTLS and login on
  every message, as a relay would want), with the attachments asked for;
- mailbox: the EDI adapter writing EDIFACT INVOIC interchanges into an
  outbound mailbox folder (temp file, fsync, link).

Prints deliveries per second (wall clock, queueing excluded) and mean
milliseconds per delivery in each stage: claim (the claiming transaction,
shared by the entries it claims), load (invoice and settings), render,
send, record (the result transaction). Stage times are per delivery and
add up across threads, so with concurrency > 1 they sum to more than the
wall time per delivery. PostgreSQL is the server named by
AIGUILLAGE_TEST_POSTGRES_URL (default: local, user postgres, database test);
a scratch database is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from aiguillage.adapters.base import ChannelSettings, Route
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.dispatch.destination import destination_document
from aiguillage.dispatch.stats import STAGES
from aiguillage.dispatch.worker import Worker, WorkerSettings
from aiguillage.model.jsonio import read_json
from aiguillage.store import migrate
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, normalise_url, session_factory, transaction
from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox
from aiguillage.store.repositories.tenants import Tenants

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0042.json"
BUYER_GLN = "3098765000017"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def database(backend: str, folder: Path) -> Iterator[Engine]:
    """A fresh, migrated database; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}", pool_size=16)
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    admin_url = normalise_url(os.environ.get("AIGUILLAGE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    name = f"aiguillage_bench_{secrets.token_hex(4)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name), pool_size=16)
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def queue(engine: Engine, channel: str, count: int, attachments: list[str]) -> float:
    """Store `count` invoices and queue one delivery each; returns the seconds it took."""
    data = SAMPLE.read_bytes()
    settings = ChannelSettings(email="ap@acme-retail.example", edi_partner_id=BUYER_GLN,
                               attachment_formats=attachments)  # type: ignore[arg-type]
    adapter_channel = "edi" if channel == "mailbox" else channel
    destination = destination_document(Route(channel=adapter_channel), settings)
    started = time.perf_counter()
    with transaction(session_factory(engine)) as session:
        tenant = Tenants(session).create(f"bench-{secrets.token_hex(4)}", CLI).id
    for start in range(0, count, 100):
        with transaction(session_factory(engine)) as session:
            invoices, outbox = Invoices(session, tenant), Outbox(session, tenant)
            for n in range(start, min(count, start + 100)):
                invoice = read_json(data, str(SAMPLE))
                invoice.number = f"B{n:06d}"
                record = invoices.receive(invoice, data, CLI).invoice
                invoices.set_status(record.id, "queued", CLI)
                outbox.enqueue(record.id, adapter_channel, destination, f"{record.id}:{adapter_channel}", CLI)
    return time.perf_counter() - started


def run(backend: str, channel: str, count: int, concurrency: int, attachments: list[str]) -> dict[str, Any]:
    """One measured run; returns its figures."""
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as scratch:
        folder = Path(scratch)
        with database(backend, folder) as engine:
            queue_seconds = queue(engine, channel, count, attachments)
            with _counterpart(channel, folder) as (configs, received):
                worker = Worker(engine, adapters=AdapterPool(configs),
                                settings=WorkerSettings(concurrency=concurrency, once=True, poll=0.05,
                                                        lease=timedelta(seconds=120), name="bench"))
                started = time.perf_counter()
                stats = worker.run()
                seconds = time.perf_counter() - started
                got = received()
            with transaction(session_factory(engine)) as session:
                done = session.scalar(select(func.count()).select_from(OutboxEntry)
                                      .where(OutboxEntry.status.in_(("sent", "delivered"))))
    if done != count or got != count:
        raise SystemExit(f"{backend}/{channel}: {done} done and {got} received of {count}: {dict(stats.outcomes)}")
    return {"backend": backend, "channel": channel, "count": count, "seconds": seconds, "rate": count / seconds,
            "queue_rate": count / queue_seconds, "stages": stats.per_delivery_ms()}


@contextmanager
def _counterpart(channel: str, folder: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    """The receiving end: adapter configuration and a way to count what arrived."""
    if channel == "email":
        with LoopbackSmtpServer(folder / "smtp") as server:
            config = {"smtp": {"host": "127.0.0.1", "port": server.port, "username": "aiguillage",
                               "password": "secret", "ca_file": str(server.cert)},
                      "from_address": "factures@atelier-lumiere.example"}
            yield {"email": config}, lambda: len(server.received)
    else:
        mailbox = folder / "mailbox"
        yield {"edi": {"transport": "folder", "folder": str(mailbox)}}, lambda: len(list(mailbox.glob("*.edi")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="deliveries per run (default 500)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--channels", default="email,mailbox")
    parser.add_argument("--attachments", default="pdf", help="e-mail attachments, comma-separated (default pdf)")
    args = parser.parse_args(argv)
    # Interrupted (timeout, Ctrl-C): unwind, so the scratch PostgreSQL database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd: a deprecation notice per login
    attachments = args.attachments.split(",")
    print(f"{args.count} deliveries per run, {args.concurrency} thread(s), e-mail attachments: {args.attachments}; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} before start, Python {sys.version.split()[0]}")
    header = f"{'backend':<11}{'channel':<9}{'deliv/s':>9}{'wall s':>8}" + "".join(f"{s + ' ms':>10}" for s in STAGES)
    print(header)
    for backend in args.backends.split(","):
        for channel in args.channels.split(","):
            figures = run(backend, channel, args.count, args.concurrency, attachments)
            stages = "".join(f"{figures['stages'][s]:>10.2f}" for s in STAGES)
            print(f"{backend:<11}{channel:<9}{figures['rate']:>9.1f}{figures['seconds']:>8.1f}{stages}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
