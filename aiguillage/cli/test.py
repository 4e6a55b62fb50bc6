"""`aiguillage test [PATHS…] [--run REGEX] [--coverage] [--threshold PCT] [--format text|json|junit] [-v]`.

Runs the test cases beside each ruleset (`rulesets/customers/*/tests/*.yaml`,
official test sets too), prints each failure as expected-versus-actual with
the explain values that decided it, and ends with `N passed, M failed`.
Exit 1 when a case fails, or when `--threshold` is given and rule coverage
is below it. The logic is `aiguillage.engine.tester`; this is the command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from aiguillage.cli.main import CliError
from aiguillage.engine.loader import rulesets_root
from aiguillage.engine.tester import Runner, collect
from aiguillage.engine.tester.coverage import measure
from aiguillage.engine.tester.report import json_report, junit_report, summary, text_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run the test cases of rulesets (tests/*.yaml beside each ruleset)",
        description="Run ruleset test cases; print each failure with expected vs actual and the explain values; end with 'N passed, M failed'.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="case files or folders to search (default: the rulesets folder)")
    parser.add_argument("--run", metavar="REGEX", help="only cases whose id (file::name) matches this regular expression")
    parser.add_argument("--coverage", action="store_true", help="report, per ruleset, which rules fired and did not fire")
    parser.add_argument("--threshold", type=float, metavar="PCT", help="fail when rule coverage is below PCT percent (implies --coverage)")
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text", help="output format (default text)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE (the summary line still goes to the terminal)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing cases too, and every rule in the coverage")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [rulesets_root()]
    for path in paths:
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
    if args.run:
        try:
            re.compile(args.run)
        except re.error as exc:
            raise CliError(f"--run {args.run!r} is not a regular expression: {exc}") from None
    if args.threshold is not None and not 0 <= args.threshold <= 100:
        raise CliError("--threshold is a percentage between 0 and 100")
    found = collect(paths, args.run)
    with Runner() as runner:
        results = found.broken_results() + runner.run_all(found.cases)
    if not results:
        raise CliError(f"no test cases found under {', '.join(str(p) for p in paths)}" + (f" matching {args.run!r}" if args.run else ""))
    coverage = measure(results) if args.coverage or args.threshold is not None else None
    if args.format == "json":
        report = json_report(results, coverage)
    elif args.format == "junit":
        report = junit_report(results)
    else:
        report = text_report(results, verbose=args.verbose, coverage=coverage)
    if args.output is not None:
        args.output.write_text(report + "\n", encoding="utf-8")
        print(summary(results))
    else:
        print(report)
    status = 0 if all(r.passed for r in results) else 1
    if coverage is not None and args.threshold is not None and coverage.percent < args.threshold:
        print(f"coverage {coverage.percent:.1f}% is below the threshold of {args.threshold:g}%", file=sys.stderr)
        status = 1
    return status
