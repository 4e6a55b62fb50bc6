"""Webhook throughput: record N events, number them, deliver them signed to a loopback receiver.

    python benchmarks/webhooks.py [--events 10000] [--invoices 20] [--concurrency 4] [--postgres URL]

The receiver (tests/webhook_receiver.py) runs in this process and checks
every signature with the `standardwebhooks` package, so the figures include
its work and share the CPU with it; a receiver elsewhere leaves the worker
more. Prints events/s for recording (one transaction, one flush per event),
numbering plus fan-out (the sequencer) and delivery (HTTP keep-alive, in
order per invoice), and checks every event arrived once and verified.
There is no published figure of another webhook sender to print beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

from aiguillage.events.record import record  # noqa: E402
from aiguillage.events.subscriptions import Subscriptions  # noqa: E402
from aiguillage.events.worker import WebhookSettings, WebhookWorker  # noqa: E402
from aiguillage.store import migrate  # noqa: E402
from aiguillage.store.actor import CLI  # noqa: E402
from aiguillage.store.database import make_engine, session_factory, transaction  # noqa: E402
from aiguillage.store.repositories.tenants import Tenants  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server to create a scratch database on (dropped afterwards), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test; default: a scratch SQLite file")
    args = parser.parse_args()
    scratch = None
    if args.postgres:
        scratch = f"bench_webhooks_{uuid.uuid4().hex[:8]}"
        _admin(args.postgres, f'CREATE DATABASE "{scratch}"')
        url = make_url(args.postgres).set(database=scratch).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/webhooks.db"
    try:
        run(args, url)
    finally:
        if scratch:
            _admin(args.postgres, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def run(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url, pool_size=args.concurrency + 2)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        tenant = Tenants(session).create(f"bench-{uuid.uuid4().hex[:8]}", CLI).id
    invoices = [uuid.uuid4() for _ in range(args.invoices)]
    with Receiver() as receiver:
        with transaction(sessions) as session:
            _, receiver.secret = Subscriptions(session, tenant).create(receiver.url, [], CLI)
        started = time.perf_counter()
        with transaction(sessions) as session:
            for n in range(args.events):
                record(session, tenant, "invoice.held", {"reason": f"step {n}"}, invoice_id=invoices[n % len(invoices)],
                       invoice_number="BENCH")
        recorded = time.perf_counter() - started
        worker = WebhookWorker(engine, settings=WebhookSettings(once=True, batch=1000, concurrency=args.concurrency,
                                                                allow_private=True))
        started = time.perf_counter()
        worker.sequence()
        sequenced = time.perf_counter() - started
        started = time.perf_counter()
        worker.run()
        delivered = time.perf_counter() - started
        arrivals = receiver.accepted()
    assert len({a.webhook_id for a in arrivals}) == args.events and all(a.verified for a in arrivals)
    print(f"{engine.dialect.name}, {args.events} events over {args.invoices} invoices, "
          f"{args.concurrency} sender threads:")
    for label, seconds in (("record", recorded), ("number + fan-out", sequenced), ("deliver", delivered)):
        print(f"  {label:17} {seconds:7.2f} s  {args.events / seconds:9.0f} events/s")
    engine.dispose()


if __name__ == "__main__":
    main()
