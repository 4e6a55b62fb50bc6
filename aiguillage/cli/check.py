"""`aiguillage check FILES…`: parse and check rulesets; every problem as FILE:LINE:COL."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from aiguillage.cli.main import CliError, start_up_done
from aiguillage.engine.loader import library

_HEADER = re.compile(r'^\s*ruleset\s+"', re.MULTILINE)
_INCLUDE = re.compile(r'^\s*include\s+"((?:[^"\\\n]|\\.)*)"', re.MULTILINE)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check rulesets: syntax, field names, types, code lists, tables, rule ids, routes",
        description="Check ruleset files (or every .rules file under a folder). Exit status 1 if any has an error.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".rules file or folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    parser.set_defaults(handler=run)


def rules_files(arguments: list[str]) -> list[Path]:
    """Files named, and .rules files under folders named, in a stable order."""
    out: list[Path] = []
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            out.extend(sorted(path.rglob("*.rules")))
        elif path.exists():
            out.append(path)
        else:
            raise CliError(f"{arg}: no such file or folder")
    return out


def including(fragment: Path, includes: dict[Path, list[Path]] | None = None) -> list[Path]:
    """Rulesets that include a header-less file (directly or through other includes).

    `includes` remembers each file's includes for the rest of a run (a folder's fragments share them).
    """
    includes = {} if includes is None else includes
    target = fragment.resolve()
    folders = {fragment.resolve().parent, *fragment.resolve().parents}
    root = library().root.resolve()
    candidates = sorted(
        {
            p
            for folder in folders
            if folder == root or root in folder.parents
            for p in folder.glob("*.rules")
        }
    )
    found: list[Path] = []
    for candidate in candidates:
        if candidate.resolve() != target and _reaches(candidate.resolve(), target, set(), includes):
            found.append(candidate)
    return [f for f in found if _HEADER.search(f.read_text(encoding="utf-8", errors="replace"))]


def _reaches(source: Path, target: Path, seen: set[Path], includes: dict[Path, list[Path]]) -> bool:
    if source in seen or not source.is_file():
        return False
    seen.add(source)
    children = includes.get(source)
    if children is None:
        text = source.read_text(encoding="utf-8", errors="replace")
        children = includes[source] = [
            (source.parent / name).resolve() for name in _INCLUDE.findall(text)
        ]
    return any(child == target or _reaches(child, target, seen, includes) for child in children)


def run(args: argparse.Namespace) -> int:
    files = rules_files(args.files)
    targets: dict[Path, None] = {}
    includes: dict[Path, list[Path]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        parents = [] if _HEADER.search(text) else including(path, includes)
        if not parents:
            targets[path] = None
        else:
            for parent in parents:
                targets[parent] = None
    errors = warnings = 0
    lookups: dict[str, object] = {}  # where each extended name leads, looked up once per run
    for number, path in enumerate(targets):
        if number == 1:
            start_up_done()  # checking many rulesets: collect as usual from the second on
        try:
            # kept on disk while the ruleset's files are unchanged
            outcome = library().outcome(path, lookups)
        except LookupError as exc:
            print(f"{path}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            errors += 1
            continue
        for rendered in outcome.rendered:
            print(rendered, file=sys.stderr)
        errors += outcome.errors
        warnings += outcome.warnings
        if outcome.ok and not args.quiet:
            rules = outcome.rules
            print(
                f"{path}: ok (ruleset {outcome.name} {outcome.version}, {rules} rule{'s' if rules != 1 else ''})"
            )
    summary = f"{len(targets)} ruleset{'s' if len(targets) != 1 else ''} checked, {errors} error{'s' if errors != 1 else ''}"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    print(summary, file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0
