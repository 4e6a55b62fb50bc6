"""`aiguillage convert INPUT --to FORMAT [-o OUTPUT]`: any supported syntax to any other."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiguillage.cli.main import CliError
from aiguillage.model.errors import InvoiceReadError, InvoiceWriteError
from aiguillage.model.syntaxes import WRITE_FORMATS, read_invoice, write_invoice


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert an invoice between UBL, CII, Factur-X and JSON",
        description="Read an invoice (syntax detected from its content) and write it in another syntax.",
    )
    parser.add_argument("input", help="invoice file (UBL, CII, Factur-X PDF or JSON); '-' for standard input")
    parser.add_argument("--to", required=True, choices=WRITE_FORMATS, help="output syntax")
    parser.add_argument("-o", "--output", help="output file (default: standard output)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.input == "-":
        data, source = sys.stdin.buffer.read(), "<stdin>"
    else:
        try:
            data, source = Path(args.input).read_bytes(), args.input
        except OSError as exc:
            raise CliError(f"{args.input}: cannot read: {exc.strerror}") from None
    try:
        invoice = read_invoice(data, source)
        output = write_invoice(invoice, args.to)
    except (InvoiceReadError, InvoiceWriteError) as exc:
        raise CliError(str(exc)) from None
    if args.output:
        try:
            Path(args.output).write_bytes(output)
        except OSError as exc:
            raise CliError(f"{args.output}: cannot write: {exc.strerror}") from None
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
    return 0
