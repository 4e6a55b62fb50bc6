"""`aiguillage evaluate INVOICES… (--ruleset NAME_OR_PATH | --customer ID)`: a dry run.

The ruleset is loaded and compiled once; with `--jobs N` (default: one per
core) the invoices are then spread over N forked processes that share it,
and the output keeps the input order. With `--format jsonl` each input gives
one line (a Decision with `file`, or `{"file", "error"}` when the input
cannot be read).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

from aiguillage.cli.main import CliError
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import library
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.syntaxes import read_invoice_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="enrich, validate and route invoices with a ruleset (dry run)",
        description="Evaluate invoices with a ruleset and print each Decision: findings, enrichments, routes, holds.",
    )
    parser.add_argument("invoices", nargs="+", metavar="INVOICE", help="invoice file (UBL, CII, Factur-X PDF or JSON)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--ruleset", metavar="NAME_OR_PATH", help="ruleset name (e.g. en16931) or .rules file")
    which.add_argument("--customer", metavar="ID", help="use the ruleset whose header declares this customer id")
    parser.add_argument("--explain", action="store_true", help="record, per rule, whether it fired and the values that decided it")
    parser.add_argument("--lang", default="en", help="language of messages (en, fr, ...); default en")
    parser.add_argument("--format", choices=("text", "json", "jsonl"), default="text", help="output format (default text)")
    parser.add_argument("--today", type=date.fromisoformat, metavar="YYYY-MM-DD", help="evaluation date (default: today)")
    parser.add_argument("-j", "--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                        help="processes to spread the invoices over (default: one per core); output keeps input order")
    parser.set_defaults(handler=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


#: One evaluated input: exit status (0 or 1), text for stdout, text for stderr, value for --format json.
Outcome = tuple[int, str | None, str | None, Any]

#: What a worker process evaluates with: set before forking, so children inherit the compiled ruleset.
_JOB: tuple[Any, argparse.Namespace] | None = None
#: Invoices between two explicit garbage collections (the collector is otherwise off while evaluating).
COLLECT_EVERY = 500
_since_collection = 0


def run(args: argparse.Namespace) -> int:
    lib = library()
    try:
        compiled = lib.customer(args.customer) if args.customer else lib.compiled(args.ruleset)
    except RulesError as exc:
        print(exc.render(), file=sys.stderr)
        raise CliError(f"the ruleset has {len(exc.errors)} error(s)") from None
    except LookupError as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from None
    # What start-up built is kept out of every later collection; then the collector stays off and
    # runs every COLLECT_EVERY invoices. Reading and evaluating leave almost no reference cycles
    # (refcounting frees them), yet automatic collections traversed each new invoice's objects:
    # a tenth of the time of a 20,000-line invoice.
    gc.freeze()
    gc.disable()
    status = 0
    results: list[Any] = []
    for code, out, err, value in _outcomes(compiled, args):
        status = max(status, code)
        if out is not None:
            print(out)
        if err is not None:
            print(err, file=sys.stderr)
        if value is not None:
            results.append(value)
    if args.format == "json":
        print(json.dumps(results if len(results) != 1 else results[0], indent=2, ensure_ascii=False))
    return status


def _outcomes(compiled: Any, args: argparse.Namespace) -> Iterator[Outcome]:
    """Each input's outcome, in input order: here, or from `args.jobs` forked processes."""
    global _JOB
    _JOB = (compiled, args)
    names: list[str] = args.invoices
    jobs = min(args.jobs, len(names))
    # Forking is safe only without other threads (a library's, a test runner's); fork shares the
    # compiled ruleset for free, where a spawned process would load it again.
    if jobs < 2 or threading.active_count() > 1 or not hasattr(os, "fork"):
        yield from map(_evaluate_one, names)
        return
    from aiguillage.cli.forked import WorkerFailed, ordered_map

    # The first input is evaluated here, before forking: what the first read and evaluation build
    # (the reader modules and their generated code, compiled regexes, specialised bytecode) is then
    # built once and shared, instead of once per worker (~70 ms each).
    yield _evaluate_one(names[0])
    rest = names[1:]
    chunk = max(1, min(64, len(rest) // (jobs * 4)))
    try:
        yield from ordered_map(_evaluate_one, rest, jobs, chunk)
    except WorkerFailed as exc:
        raise CliError(str(exc)) from None


def _evaluate_one(name: str) -> Outcome:
    global _since_collection
    assert _JOB is not None
    compiled, args = _JOB
    _since_collection += 1
    if _since_collection >= COLLECT_EVERY:
        gc.collect()
        _since_collection = 0
    try:
        invoice = read_invoice_file(name)
    except InvoiceReadError as exc:
        return _error(args, name, str(exc))
    except ImportError as exc:
        return _error(args, name, f"{name}: cannot read this syntax yet ({exc})")
    decision = evaluate(invoice, compiled, lang=args.lang, explain=args.explain, today=args.today)
    decision.file = name
    if args.format == "jsonl":
        return 0, decision.model_dump_json(), None, None
    if args.format == "json":
        return 0, None, None, decision.model_dump(mode="json")
    return 0, render_text(decision), None, None


def _error(args: argparse.Namespace, name: str, message: str) -> Outcome:
    if args.format == "jsonl":
        return 1, json.dumps({"file": name, "error": message}, ensure_ascii=False), None, None
    if args.format == "json":
        return 1, None, None, {"file": name, "error": message}
    return 1, None, f"{name}: error: {message}", None


def _value(v: Any) -> str:
    if v is None:
        return "(missing)"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def render_text(d: Decision) -> str:
    """A Decision for people: findings, enrichments, holds, routes, and the explain trace if any."""
    count = len(d.findings)
    head = f"{d.file}: {count} finding{'s' if count != 1 else ''}"
    if d.routes:
        head += " → " + ", ".join(r.channel + (f" as {r.format}" if r.format else "") for r in d.routes)
    lines = [head]
    width = max((len(f.rule) for f in d.findings), default=0)
    for f in d.findings:
        where = f" [{f.occurrence}]" if f.occurrence else ""
        path = f" ({f.path})" if f.path else ""
        lines.append(f"  {f.severity:<7} {f.rule:<{width}}{where} {f.message}{path}")
    for e in d.enrichments:
        lines.append(f"  enriched {e.field}: {_value(e.old)} → {_value(e.new)}  (rule {e.rule})")
    for h in d.holds:
        lines.append(f"  hold: approval by {h.role}" if h.kind == "approval" else f"  hold: {h.reason}")
    for r in d.routes:
        parts = [r.channel]
        if r.format:
            parts.append(f"as {r.format}")
        if r.to:
            parts.append(f"to {r.to}")
        if r.params:
            parts.append("with " + ", ".join(f"{k} = {_value(v)}" for k, v in r.params.items()))
        lines.append(f"  route: {' '.join(parts)}  ({r.source})")
    if d.explain is not None:
        # Imported here: only --explain needs the tester's rendering, and it is not light.
        from aiguillage.engine.tester.report import entry_lines

        lines.append("  explain:")
        for entry in d.explain:
            lines.extend(entry_lines(entry, limit=None))
    return "\n".join(lines)
