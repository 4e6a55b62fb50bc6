"""Entry point of the `aiguillage` command.

Each sub-command lives in its own module under `aiguillage.cli` (named like
the command) and exposes `register(subparsers)`. Only the module of the
command being run is imported: the others appear in `--help` from the table
below, so `aiguillage check` never pays for the database, the API or the
adapters (an editor runs `check` on every pause in typing). A test keeps the
table equal to what the modules register.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from aiguillage import __version__

#: Sub-command → its one-line help; the command's module is `aiguillage.cli.<command>`.
COMMANDS: dict[str, str] = {
    "convert": "convert an invoice between UBL, CII, Factur-X and JSON",
    "check": "check rulesets: syntax, field names, types, code lists, tables, rule ids, routes",
    "fmt": "format rulesets in the canonical layout (comments are kept)",
    "evaluate": "enrich, validate and route invoices with a ruleset (dry run)",
    "test": "run the test cases of rulesets (tests/*.yaml beside each ruleset)",
    "conformance": "run official EN 16931 / Peppol test sets against the standard rulesets",
    "db": "manage the database schema",
    "tenants": "create and list tenants",
    "keys": "create, list and revoke API keys",
    "submit": "post invoice files to the API (POST /v1/invoices), several at a time",
    "users": "invite and list people who sign in to the console and portal",
    "serve": "run the HTTP API (gunicorn)",
    "worker": "send queued deliveries (outbox) through the channel adapters",
    "timers": "fire due workflow timers (escalations, SLAs, reminders)",
    "webhooks": 'deliver events to webhook subscriptions (signed, retried, in order per invoice)',
    "demo": "run the main job on a local SQLite database: demo customers, rulesets and sample invoices",
    "statements": "import bank statements (camt.053/054, MT940, CFONB 120)",
    "payments": "payment exports for accounting (CSV)",
    "pa": "the tenant's approved platform (France): account, webhook, polling",
    "lifecycle": "an invoice's French lifecycle status timeline",
    "directory": "the French directory cache of a tenant (refresh, import)",
    "ereporting": "France's e-reporting (flow 10.1-10.4) from the store",
}
COMMAND_MODULES: tuple[str, ...] = tuple(COMMANDS)
#: Commands that keep the garbage collector off until they call `start_up_done()`.
QUICK_COMMANDS = frozenset({"check", "evaluate"})


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr, exit status 1."""


def start_up_done() -> None:
    """Turn the garbage collector back on, leaving out what start-up built (modules, rulesets).

    Start-up allocates hundreds of thousands of objects (pydantic models,
    parsed rulesets) and frees almost none, so collecting during it is pure
    cost: about a third of `aiguillage check`. Frozen, those objects are not
    traversed again by later collections either.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def command_of(argv: list[str]) -> str | None:
    """The sub-command named in `argv` (the first word that is not an option), if it is one of ours."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(command: str | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The parser with `command`'s own arguments (every command's when `full`); the others are listed only."""
    parser = argparse.ArgumentParser(
        prog="aiguillage",
        description="Rules-driven e-invoicing: enrich, validate and route EN 16931 invoices.",
    )
    parser.add_argument("--version", action="version", version=f"aiguillage {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        if full or name == command:
            importlib.import_module(f"aiguillage.cli.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = command_of(argv)
    collecting = gc.isenabled()
    gc.disable()
    try:
        parser = build_parser(command)
        args = parser.parse_args(argv)
    finally:
        if collecting and command not in QUICK_COMMANDS:
            gc.enable()
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
    finally:
        if collecting:
            gc.enable()  # main() may be called in a process that goes on (tests)
    return int(status or 0)


def entry() -> None:
    """The `aiguillage` program: `main()`, then, after a quick command, an exit without teardown.

    At exit Python tears down every module and frees what is left one by one: about 30 ms
    of a 20,000-line invoice's `evaluate` (1.2 s), for memory the system takes back at once. After `check`
    and `evaluate` nothing else is pending (no atexit work, no file but the standard
    streams, which are flushed here), so those leave at once; other commands (servers,
    database work) end the ordinary way.
    """
    status = main()
    if command_of(sys.argv[1:]) not in QUICK_COMMANDS:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away, or the stream is closed
            status = status or 141
    os._exit(status)


if __name__ == "__main__":
    entry()
