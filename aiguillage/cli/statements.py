"""`aiguillage statements import FILE --tenant T`: import a bank statement and allocate its credits.

Prints one line per statement line (what it paid, or why it was left
unallocated) and last `statement: N lines, A allocated, P partially
allocated, U unallocated`. Formats: camt.053 / camt.054, MT940, CFONB 120
(told from the content, or `--format`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.store.actor import CLI


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("statements", help="import bank statements (camt.053/054, MT940, CFONB 120)",
                                   description="Bank statements: import and allocate incoming funds.")
    commands = parser.add_subparsers(dest="statements_command", metavar="ACTION", required=True)
    importing = commands.add_parser("import", help="import a statement file and allocate its credits")
    importing.add_argument("file", metavar="FILE", type=Path)
    importing.add_argument("--tenant", required=True, metavar="NAME")
    importing.add_argument("--format", choices=("camt", "mt940", "cfonb120"), help="default: told from the content")
    add_database_option(importing)
    importing.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from aiguillage.payments.importing import import_statement
    from aiguillage.payments.statements import StatementError
    from aiguillage.store.repositories.tenants import Tenants

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"{args.file}: {exc.strerror}") from None
    try:
        with store_transaction(args.database) as session:
            tenant = Tenants(session).by_name(args.tenant)
            report = import_statement(session, tenant.id, data, CLI, filename=args.file.name, format=args.format)
    except StatementError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    for line in report.lines:
        print(line.describe())
    print(report.last_line())
    return 0
