"""`aiguillage directory refresh|import`: the tenant's French directory cache that rulesets ask."""


from __future__ import annotations

import argparse
import os

from aiguillage.adapters.base import DeliveryError
from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.store.actor import CLI
from aiguillage.store.repositories.tenants import Tenants


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("directory", help="the French directory cache of a tenant (refresh, import)",
                                   description="Fill the tenant's directory cache (reference tables fr_directory "
                                               "and fr_directory_lines) that rulesets ask.")
    actions = parser.add_subparsers(dest="directory_command", metavar="ACTION", required=True)
    refresh = actions.add_parser("refresh", help="ask the Directory service for SIRENs' lines")
    refresh.add_argument("--tenant", required=True, metavar="NAME")
    refresh.add_argument("--url", required=True, help="the Directory service, up to (not including) /v1")
    refresh.add_argument("--token-env", required=True, metavar="VAR")
    refresh.add_argument("--siren", action="append", default=[], help="a SIREN to look up (repeatable)")
    refresh.add_argument("--customers", action="store_true", help="every customer's SIREN (from its legal id)")
    add_database_option(refresh)
    refresh.set_defaults(handler=run_directory_refresh)
    imported = actions.add_parser("import", help="load a directory export (JSON lines or CSV)")
    imported.add_argument("file")
    imported.add_argument("--tenant", required=True, metavar="NAME")
    imported.add_argument("--replace", action="store_true", help="drop lines not in the export")
    add_database_option(imported)
    imported.set_defaults(handler=run_directory_import)


def run_directory_refresh(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aiguillage.fr.directory import DirectoryError, DirectoryService, refresh
    from aiguillage.store.models import Customer

    token = os.environ.get(args.token_env)
    if not token:
        raise CliError(f"environment variable {args.token_env} is empty or not set")
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        sirens = set(args.siren)
        if args.customers:
            customers = session.scalars(select(Customer).where(Customer.tenant_id == tenant.id))
            sirens |= {c.legal_identifier[:9] for c in customers if c.legal_identifier and c.legal_identifier[:9].isdigit()}
        if not sirens:
            raise CliError("name at least one --siren, or --customers")
        try:
            count, lines = refresh(session, tenant.id, DirectoryService(args.url, token), sirens, CLI)
        except (DirectoryError, DeliveryError) as exc:
            raise CliError(f"directory refresh failed: {getattr(exc, 'message', exc)}") from None
    print(f"{count} SIREN(s), {lines} directory line(s) cached for tenant {tenant.name}")
    return 0


def run_directory_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aiguillage.fr.directory import DirectoryError, read_export, store_lines

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        try:
            count, lines = store_lines(session, tenant.id, read_export(data, args.file), CLI, source=args.file,
                                       replace=args.replace)
        except DirectoryError as exc:
            raise CliError(str(exc)) from None
    print(f"{count} SIREN(s), {lines} directory line(s) cached for tenant {tenant.name}")
    return 0
