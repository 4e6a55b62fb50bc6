"""`aiguillage pa account|subscribe|poll|send-status` and `aiguillage lifecycle INVOICE`: France's PA exchange.

The PA token is read from an environment variable (`--token-env`), never
from the command line (shell history, process lists) and never printed.
"""

from __future__ import annotations

import argparse
import os
import uuid

from aiguillage.adapters.base import DeliveryError
from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.fr import tracking
from aiguillage.fr.accounts import set_account, subscribe
from aiguillage.store.actor import CLI
from aiguillage.store.repositories.tenants import Tenants


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pa", help="the tenant's approved platform (France): account, webhook, polling",
                                   description="Manage a tenant's PA account and follow its flows.")
    actions = parser.add_subparsers(dest="pa_command", metavar="ACTION", required=True)

    account = actions.add_parser("account", help="set the tenant's PA account (URL and token)")
    account.add_argument("--tenant", required=True, metavar="NAME")
    account.add_argument("--url", required=True, help="the Flow service, up to (not including) /v1")
    account.add_argument("--token-env", required=True, metavar="VAR", help="environment variable holding the token")
    account.add_argument("--organization", help="Organization-Id header, when the PA wants one")
    account.add_argument("--oauth2-token-url", metavar="URL",
                         help="use OAuth2 client credentials: the token endpoint (the token variable holds the secret)")
    account.add_argument("--client-id", help="the OAuth2 client id (with --oauth2-token-url)")
    add_database_option(account)
    account.set_defaults(handler=run_account)

    hook = actions.add_parser("subscribe", help="subscribe our webhook endpoint at the tenant's PA")
    hook.add_argument("--tenant", required=True, metavar="NAME")
    hook.add_argument("--api-url", required=True, help="our API's public base URL, e.g. https://aiguillage.example")
    add_database_option(hook)
    hook.set_defaults(handler=run_subscribe)

    poll = actions.add_parser("poll", help="ask the PA for acknowledgements and statuses (fallback to webhooks)")
    poll.add_argument("--tenant", required=True, metavar="NAME")
    add_database_option(poll)
    poll.set_defaults(handler=run_poll)

    send = actions.add_parser("send-status", help="send one of the supplier's statuses (e.g. 212) to the PA")
    send.add_argument("invoice", help="the invoice's id")
    send.add_argument("code", help="211, 212, 220, 224-228")
    send.add_argument("--tenant", required=True, metavar="NAME")
    send.add_argument("--reason-code")
    send.add_argument("--reason")
    add_database_option(send)
    send.set_defaults(handler=run_send)



def _invoice_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise CliError(f"not an invoice id: {text!r}") from None


def run_account(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env)
    if not token:
        raise CliError(f"environment variable {args.token_env} is empty or not set")
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        if bool(args.oauth2_token_url) != bool(args.client_id):
            raise CliError("--oauth2-token-url and --client-id go together")
        set_account(session, tenant.id, args.url, token, args.organization, token_url=args.oauth2_token_url,
                    client_id=args.client_id)
    print(f"PA account of tenant {tenant.name} set to {args.url}")
    return 0


def run_subscribe(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        callback = f"{args.api_url.rstrip('/')}/v1/pa/webhooks?tenant={tenant.id}"
        try:
            webhook_id = subscribe(session, tenant.id, callback)
        except (LookupError, ValueError, DeliveryError) as exc:
            raise CliError(f"subscription failed: {getattr(exc, 'message', exc)}") from None
    print(f"webhook {webhook_id} sends tenant {tenant.name}'s flow events to {callback}")
    return 0


def run_poll(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        try:
            report = tracking.poll(session, tenant.id, actor=CLI)
        except (LookupError, DeliveryError) as exc:
            raise CliError(f"poll failed: {getattr(exc, 'message', exc)}") from None
    print(f"{report.acknowledged} acknowledgement(s), {report.statuses} new status(es)")
    for refused in report.refused or []:
        print(f"refused: {refused}")
    return 1 if report.refused else 0


def run_send(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        try:
            event = tracking.send_status(session, tenant.id, _invoice_id(args.invoice), args.code, actor=CLI,
                                         reason_code=args.reason_code, reason=args.reason)
        except (tracking.LifecycleRefused, LookupError, DeliveryError) as exc:
            raise CliError(f"status not sent: {getattr(exc, 'message', exc)}") from None
    print(f"sent status {event.code} in flow {event.source_flow_id}")
    return 0
