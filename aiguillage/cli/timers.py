"""`aiguillage timers [--now ISO] [--watch SECONDS]`: fire due workflow timers (escalations, SLAs, reminders).

Timers live in the database, so this command (from cron, or with
`--watch`) and the dispatch worker (through `workflows.timers.fire_due_timers`)
can both fire them, and none is lost when a process stops. `--now` fires
as if it were that moment (for testing a policy, or catching up).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.store.base import utcnow


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("timers", help="fire due workflow timers (escalations, SLAs, reminders)",
                                   description="Fire the workflow timers that are due.")
    parser.add_argument("--now", metavar="ISO", help="fire as if it were this UTC time, e.g. 2026-12-01T09:00:00Z")
    parser.add_argument("--watch", metavar="SECONDS", type=float,
                        help="keep running, looking for due timers every SECONDS")
    add_database_option(parser)
    parser.set_defaults(handler=run)


def _now(given: str | None) -> datetime:
    if not given:
        return utcnow()
    try:
        moment = datetime.fromisoformat(given.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--now: not an ISO date and time: {given!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fire_all(database: str | None, now: datetime) -> tuple[int, int]:
    """Fire batches until nothing is due, one transaction per batch; (fired, refused)."""
    from aiguillage.workflows.timers import fire_due_timers

    fired = refused = 0
    while True:
        with store_transaction(database) as session:
            batch = fire_due_timers(session, now)
        fired, refused = fired + batch.fired, refused + batch.refused
        if batch.fired + batch.refused == 0:
            return fired, refused


def run(args: argparse.Namespace) -> int:
    while True:
        fired, refused = fire_all(args.database, _now(args.now))
        print(f"timers: {fired} fired, {refused} no longer applicable", flush=True)
        if not args.watch:
            return 0
        time.sleep(args.watch)
