"""`aiguillage webhooks`: send the events to the tenants' webhook subscriptions, until SIGTERM (or once).

Thin: options to settings, signals to `WebhookWorker.stop`. Several can run
against one database (claims serialise); see docs/integrators.md for what
receivers get and docs/operators.md for the worker next to it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta

from aiguillage.cli.db import add_database_option, current_engine
from aiguillage.cli.main import CliError
from aiguillage.cli.signals import run_until_signalled
from aiguillage.events.retry import WebhookPolicy
from aiguillage.events.worker import WebhookSettings, WebhookWorker


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "webhooks", help="deliver events to webhook subscriptions (signed, retried, in order per invoice)",
        description="Number new events and POST them, signed (Standard Webhooks), to the tenants' "
        "subscriptions; failures are retried with backoff, in order per invoice. Stops on SIGTERM or Ctrl-C.")
    add_database_option(parser)
    parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N", help="parallel senders (default: 4)")
    parser.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help="idle poll interval (default: 1)")
    parser.add_argument("--lease", type=float, default=60.0, metavar="SECONDS",
                        help="claim lease; a killed worker's deliveries are re-sent after it (default: 60)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for a receiver's answer (default: 10)")
    parser.add_argument("--disable-after", type=float, default=3 * 86400.0, metavar="SECONDS",
                        help="disable a subscription failing without success this long (default: 3 days)")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="allow webhook URLs on loopback or private networks (refused by default: a tenant "
                        "must not reach the operator's internal services)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.concurrency < 1 or args.poll <= 0 or args.lease < 1 or args.timeout <= 0:
        raise CliError("--concurrency, --poll, --lease (>= 1) and --timeout must be positive")
    engine = current_engine(args.database, pool_size=args.concurrency + 2)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = WebhookSettings(concurrency=args.concurrency, poll=args.poll, lease=timedelta(seconds=args.lease),
                               timeout=args.timeout, once=args.once,
                               allow_private=args.allow_private_addresses)
    worker = WebhookWorker(engine, settings=settings,
                           policy=WebhookPolicy(disable_after=timedelta(seconds=args.disable_after)))
    try:
        stats = run_until_signalled(worker.run, worker.stop)
    finally:
        engine.dispose()
    print(f"aiguillage webhooks: {stats.delivered} delivered, {stats.failed} failed attempt(s), "
          f"{len(stats.disabled)} subscription(s) disabled", flush=True)
    return 0
