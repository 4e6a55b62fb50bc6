"""`aiguillage lifecycle INVOICE --tenant T`: an invoice's French lifecycle status timeline (from its PA)."""


from __future__ import annotations

import argparse

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.pa import _invoice_id
from aiguillage.fr import tracking
from aiguillage.fr.statuses import STATUSES
from aiguillage.store.repositories.tenants import Tenants


def register(subparsers: argparse._SubParsersAction) -> None:
    lifecycle = subparsers.add_parser("lifecycle", help="an invoice's French lifecycle status timeline",
                                      description="Print an invoice's statuses in the order they were issued.")
    lifecycle.add_argument("invoice", help="the invoice's id")
    lifecycle.add_argument("--tenant", required=True, metavar="NAME")
    add_database_option(lifecycle)
    lifecycle.set_defaults(handler=run_lifecycle)


def run_lifecycle(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        events = tracking.timeline(session, tenant.id, _invoice_id(args.invoice))
        flows = tracking.flows_of(session, tenant.id, _invoice_id(args.invoice))
    for flow in flows:
        print(f"flow {flow.flow_id}\t{flow.direction}\t{flow.flow_type}\tacknowledgement {flow.ack_status}")
    if not events:
        print("no lifecycle status yet")
    for event in events:
        known = STATUSES.get(event.code)
        reason = f"\t{event.reason_code}" if event.reason_code else ""
        print(f"{event.issued_at:%Y-%m-%d %H:%M:%S}\t{event.code} {known.label_fr if known else ''}"
              f"\t{event.source}{reason}")
    return 0
