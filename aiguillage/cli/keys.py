"""`aiguillage keys create|list|revoke`: API keys, shown once, stored hashed.

`keys create` prints the new key as the last word of its last line, so a
script can take it with `| tail -n1 | awk '{print $NF}'`.
"""

from __future__ import annotations

import argparse

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.store.actor import CLI
from aiguillage.store.repositories.keys import ApiKeys
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.vocabulary import Role


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keys", help="create, list and revoke API keys", description="Manage API keys.")
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create an API key (printed once)")
    create.add_argument("--tenant", required=True, metavar="NAME", help="the tenant the key acts for")
    create.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the key may do")
    create.add_argument("--label", help="who or what holds the key (shown in lists)")
    create.add_argument("--customer", metavar="CODE", help="for --role customer: the customer's code")
    add_database_option(create)
    create.set_defaults(handler=run_create)

    listing = actions.add_parser("list", help="list a tenant's keys (prefixes only)")
    listing.add_argument("--tenant", required=True, metavar="NAME")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    add_database_option(listing)
    listing.set_defaults(handler=run_list)

    revoke = actions.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix", help="the key's prefix as listed (aig_XXXXXXXX)")
    revoke.add_argument("--tenant", required=True, metavar="NAME")
    add_database_option(revoke)
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        issued = ApiKeys(session, tenant.id).issue(args.role, CLI, label=args.label, customer_code=args.customer)
    print(f"created {args.role} key {issued.record.prefix} for tenant {tenant.name}; it is shown only this once.")
    print(f"key: {issued.plaintext}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        for key in ApiKeys(session, tenant.id).all(include_revoked=args.all):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.prefix}\t{key.role}\t{state}\t{key.label or ''}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        keys = ApiKeys(session, tenant.id)
        key = keys.by_prefix(args.prefix)
        if key.revoked_at is not None:
            raise CliError(f"key {args.prefix} is already revoked")
        keys.revoke(key.id, CLI)
    print(f"revoked key {args.prefix} of tenant {tenant.name}")
    return 0
