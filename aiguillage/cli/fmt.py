"""`aiguillage fmt [--check] FILES…`: give ruleset files their canonical layout."""

from __future__ import annotations

import argparse
import sys

from aiguillage.cli.check import rules_files
from aiguillage.cli.main import CliError
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.formatter import format_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fmt",
        help="format rulesets in the canonical layout (comments are kept)",
        description="Rewrite ruleset files in the one canonical layout. With --check, change nothing and "
        "exit 1 if a file is not formatted.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".rules file or folder")
    parser.add_argument("--check", action="store_true", help="only report files that would change")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    changed = failed = 0
    for path in rules_files(args.files):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{path}: cannot read: {exc}") from None
        try:
            formatted = format_text(text, str(path))
        except RulesError as exc:
            print(exc.render(), file=sys.stderr)
            failed += 1
            continue
        if formatted == text:
            continue
        changed += 1
        if args.check:
            print(f"{path}: not formatted")
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"{path}: formatted")
    if failed:
        return 1
    return 1 if args.check and changed else 0
