"""Entry point of the `aiguillage` command.

Each sub-command lives in its own module under `aiguillage.cli` and exposes
`register(subparsers)`; this module only assembles them, so adding a command
never touches another one.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from aiguillage import __version__

#: Modules (under aiguillage.cli) that each register one or more sub-commands.
COMMAND_MODULES: tuple[str, ...] = (
    "convert",
    "check",
    "fmt",
    "evaluate",
    "test",
    "conformance",
    "db",
    "tenants",
    "keys",
    "serve",
    "worker",
    "timers",
    "demo",
    "submit",
)


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiguillage",
        description="Rules-driven e-invoicing: enrich, validate and route EN 16931 invoices.",
    )
    parser.add_argument("--version", action="version", version=f"aiguillage {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"aiguillage.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
    except CliError as exc:
        print(f"aiguillage {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`aiguillage evaluate … | head`): stop quietly, as Unix tools do.
        sys.stderr.close()
        return 141
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
