"""`aiguillage payments export KIND --tenant T [--from D] [--to D] [--output FILE]`: CSV for accounting.

KIND is `allocations` (every allocation, reversed ones too), `open-items`
(what each invoice and credit note still owes) or `e-reporting` (payment
date and amount received per invoice and VAT rate, as French e-reporting asks).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("payments", help="payment exports for accounting (CSV)",
                                   description="Payments: exports for accounting.")
    commands = parser.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    exporting = commands.add_parser("export", help="write a CSV export")
    exporting.add_argument("kind", choices=("allocations", "open-items", "e-reporting"))
    exporting.add_argument("--tenant", required=True, metavar="NAME")
    exporting.add_argument("--from", dest="since", type=_date, metavar="YYYY-MM-DD")
    exporting.add_argument("--to", dest="until", type=_date, metavar="YYYY-MM-DD")
    exporting.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    add_database_option(exporting)
    exporting.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from aiguillage.payments.exports import export
    from aiguillage.store.repositories.tenants import Tenants

    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        text = export(session, tenant.id, args.kind, args.since, args.until)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{args.output}: {exc.strerror}") from None
    print(f"{args.kind}: {text.count(chr(10)) - 1} rows written to {args.output}")
    return 0
