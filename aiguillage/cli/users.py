"""`aiguillage users invite|list`: people who sign in to the console and the portal.

`users invite` creates the user if needed and prints a one-time sign-in link
(valid 24 hours) as the last word of its last line; that is how the first
admin of a tenant gets in, and how anyone gets a fresh link. Passwords are
set by the person, in the page, never on the command line.
"""

from __future__ import annotations

import argparse

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.store.actor import CLI
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.repositories.users import WebUsers
from aiguillage.store.web_models import USER_ROLES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="invite and list people who sign in to the console and portal",
                                   description="Manage web users.")
    actions = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    invite = actions.add_parser("invite", help="create a user (if new) and print a one-time sign-in link")
    invite.add_argument("--tenant", required=True, metavar="NAME")
    invite.add_argument("--email", required=True)
    invite.add_argument("--role", choices=USER_ROLES, help="for a new user (customer: a portal user)")
    invite.add_argument("--customer", metavar="CODE", help="for --role customer: the customer's code")
    invite.add_argument("--name", help="the person's name (default: the e-mail)")
    invite.add_argument("--base-url", default="http://127.0.0.1:8000", metavar="URL",
                        help="where the service is reached (default: http://127.0.0.1:8000)")
    add_database_option(invite)
    invite.set_defaults(handler=run_invite)
    listing = actions.add_parser("list", help="list a tenant's users")
    listing.add_argument("--tenant", required=True, metavar="NAME")
    add_database_option(listing)
    listing.set_defaults(handler=run_list)


def run_invite(args: argparse.Namespace) -> int:
    from aiguillage.cli.main import CliError

    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        users = WebUsers(session, tenant.id)
        user = users.find_email(args.email)
        if user is None:
            if args.role is None:
                raise CliError(f"no user {args.email} in tenant {tenant.name}: give --role to create one")
            user = users.create(args.email, args.name or args.email, args.role, CLI,
                                customer_code=args.customer if args.role == "customer" else None)
        token = users.issue_link(user, CLI)
        area = "portal" if user.role == "customer" else "console"
    print(f"{user.email} ({user.role}) of tenant {tenant.name}: one-time sign-in link, valid 24 hours:")
    print(f"link: {args.base_url.rstrip('/')}/{area}/link/{token}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        for user in WebUsers(session, tenant.id).all():
            state = "disabled" if user.disabled_at else "password set" if user.password_hash else "link only"
            print(f"{user.email}\t{user.role}\t{user.customer_code or ''}\t{state}")
    return 0
