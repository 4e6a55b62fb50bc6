"""`aiguillage tenants create NAME` and `aiguillage tenants list`."""

from __future__ import annotations

import argparse

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.store.actor import CLI
from aiguillage.store.repositories.tenants import Tenants


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tenants", help="create and list tenants", description="Create and list tenants.")
    actions = parser.add_subparsers(dest="tenants_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a tenant (a supplier using the service)")
    create.add_argument("name", help="tenant name: letters, digits, '.', '-', '_' (at most 64)")
    add_database_option(create)
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list tenants")
    add_database_option(listing)
    listing.set_defaults(handler=run_list)


def run_create(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).create(args.name, CLI)
        print(f"created tenant {tenant.name} (id {tenant.id})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        for tenant in Tenants(session).all():
            print(f"{tenant.name}\t{tenant.id}\t{tenant.created_at:%Y-%m-%d %H:%M:%S}Z")
    return 0
