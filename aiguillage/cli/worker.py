"""`aiguillage worker`: empty the outbox through the channel adapters, until SIGTERM (or once).

Thin: options to settings, signals to `Worker.stop`, log lines to stderr.
Adapters are configured from the environment (docs/channels.md); retries
and dead letters are described in docs/operators.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from aiguillage.cli.db import add_database_option, current_engine
from aiguillage.cli.main import CliError
from aiguillage.cli.signals import run_until_signalled
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.worker import Worker, WorkerSettings
from aiguillage.store.database import (
    session_factory,
)


def _positive(kind: type[int] | type[float]):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="send queued deliveries (outbox) through the channel adapters",
        description="Send queued deliveries through the channel adapters, retrying with backoff and "
        "dead-lettering after the limit. Stops gracefully on SIGTERM or Ctrl-C.",
    )
    add_database_option(parser)
    parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
    parser.add_argument("--concurrency", type=_positive(int), default=4, metavar="N",
                        help="deliveries sent at the same time (default: 4)")
    parser.add_argument("--poll", type=_positive(float), default=1.0, metavar="SECONDS",
                        help="seconds between looks at the outbox when nothing is due (default: 1)")
    parser.add_argument("--lease", type=_positive(float), default=60.0, metavar="SECONDS",
                        help="how long a claim holds unrenewed; a killed worker's deliveries are retried "
                        "after at most this (default: 60)")
    parser.add_argument("--max-attempts", type=_positive(int), default=RetryPolicy.max_attempts, metavar="N",
                        help=f"attempts before a delivery is dead-lettered (default: {RetryPolicy.max_attempts})")
    parser.add_argument("--backoff-base", type=_positive(float), default=RetryPolicy.base.total_seconds(),
                        metavar="SECONDS", help="wait after the first failure; doubles each time (default: 30)")
    parser.add_argument("--backoff-max", type=_positive(float), default=RetryPolicy.max_delay.total_seconds(),
                        metavar="SECONDS", help="longest wait between attempts (default: 21600, 6 hours)")
    parser.add_argument("--recover-after", type=_positive(float), default=10.0, metavar="SECONDS",
                        help="decide invoices left `received` (by a crashed server process) for longer than "
                        "this (default: 10)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log level on standard error (default: INFO)")
    parser.set_defaults(handler=run)


def _recovery(engine: Engine, after_s: float) -> Callable[[], int]:
    """The recovery pass (decide invoices a crash left `received`), bound to this worker's database."""
    from aiguillage.api.recovery import recover_received

    sessions = session_factory(engine)
    return lambda: recover_received(sessions, older_than=timedelta(seconds=after_s))


def run(args: argparse.Namespace) -> int:
    try:
        settings = WorkerSettings(concurrency=args.concurrency, poll=args.poll,
                                  lease=timedelta(seconds=args.lease), once=args.once)
        policy = RetryPolicy(base=timedelta(seconds=args.backoff_base),
                             max_delay=timedelta(seconds=max(args.backoff_max, args.backoff_base)),
                             max_attempts=args.max_attempts)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    engine = current_engine(args.database, pool_size=args.concurrency + 2)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    attempts = logging.StreamHandler(sys.stderr)
    attempts.setFormatter(logging.Formatter("%(message)s"))
    deliveries = logging.getLogger("aiguillage.deliveries")
    deliveries.addHandler(attempts)
    deliveries.propagate = False
    worker = Worker(engine, settings=settings, policy=policy, recover=_recovery(engine, args.recover_after))

    def finishing(sig: signal.Signals) -> None:
        logging.getLogger("aiguillage.worker").info("%s: finishing the sends under way, then stopping", sig.name)

    try:
        stats = run_until_signalled(worker.run, worker.stop, finishing)
    finally:
        engine.dispose()
    outcomes = ", ".join(f"{count} {status}" for status, count in sorted(stats.outcomes.items())) or "nothing due"
    print(f"aiguillage worker: {stats.deliveries} attempt(s): {outcomes}", flush=True)
    return 0
