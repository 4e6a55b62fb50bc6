"""`aiguillage conformance DIR… [--ruleset NAME] [--format text|json] [--via cii]`.

Runs official test sets (the VEFA `testSet` format of ../shared/conformance)
and ends with `conformance: P passed, F failed (R%)`; exit 0 only when all pass.
`--via cii` converts every test document to CII first: the rules see the
semantic model, so verdicts must not change with the syntax.

`--oracle XSLT FILE…` is the differential mode for integrators: each invoice
(file, or every .xml / Factur-X .pdf under a folder) is judged by the official artefact (run
in Saxon-HE, the `test` extra; `--oracle` once per syntax, each document goes to the
stylesheet for its syntax, or the Factur-X artefact of the profile its BT-24 declares) and by the standard ruleset (`--ruleset`,
default en16931), on the rule ids the artefact has (a BR-FR artefact judges only the BR-FR rules
of fr-ctc, not the EN 16931 rules fr-ctc extends; a Factur-X artefact, named by the ids in brackets in
its messages, judges the ids both it and the ruleset have); `--only GLOB` (repeatable) narrows the
comparison, on both sides, to the rule ids it matches (`--only 'PEPPOL-*'` leaves out the
national DK-R-*, NL-R-*, … rules Peppol's Schematron also holds and peppol-bis-3 does not
carry); the differences are printed, then
`differential: N documents, A agree, D differ (R%)`; exit 0 only when all agree. An
`--oracle` may be a Schematron source (`.sch`, as Peppol publishes its rules): it is compiled
first and the compiled stylesheet cached.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path

from aiguillage.cli.main import CliError
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.engine.conformance import FileReport, run_files
from aiguillage.model.errors import InvoiceReadError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "conformance",
        help="run official EN 16931 / Peppol test sets against the standard rulesets",
        description="Run conformance test sets; each test's document is evaluated and the rules it names are judged.",
    )
    parser.add_argument("paths", nargs="+", metavar="DIR", type=Path, help="test-set folder or file")
    parser.add_argument("--ruleset", metavar="NAME", help="ruleset to use (default: from each set's configuration)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--oracle",
        metavar="XSLT",
        type=Path,
        action="append",
        help="compare each invoice FILE with this official validation stylesheet (XSLT, or a Schematron .sch, "
        "compiled first) instead of running test sets (give one per syntax, e.g. the UBL and the CII artefact: "
        "each document goes to the one for its syntax)",
    )
    parser.add_argument(
        "--only",
        metavar="GLOB",
        action="append",
        help="with --oracle: compare only the rule ids matching this pattern, on both sides (e.g. 'PEPPOL-*')",
    )
    parser.add_argument("--via", choices=("cii", "ubl", "json"), help="convert each document to this syntax before evaluating")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for path in args.paths:
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
    if args.oracle is not None:
        return _differential(args)
    try:
        reports = run_files(args.paths, ruleset=args.ruleset, via=args.via)
    except RulesError as exc:
        raise CliError(exc.render()) from None
    except (InvoiceReadError, ValueError, LookupError) as exc:
        raise CliError(str(exc)) from None
    passed = sum(r.passed for r in reports)
    failed = sum(r.failed for r in reports)
    if args.format == "json":
        print(json.dumps({"files": [_file_json(r) for r in reports], "passed": passed, "failed": failed}, indent=2))
    else:
        for report in reports:
            for outcome in report.outcomes:
                if outcome.passed:
                    continue
                where = f"{report.file}:{outcome.test.line or 0}: test {outcome.test.number}"
                if outcome.error:
                    print(f"{where}: cannot read the document: {outcome.error}")
                for m in outcome.mismatches:
                    got = ", ".join(m.fired) if m.fired else "did not fire"
                    print(f"{where}: {m.rule}: expected {m.expected}, got {got}")
        total = passed + failed
        rate = 100.0 * passed / total if total else 0.0
        print(f"conformance: {passed} passed, {failed} failed ({rate:.1f}%)")
    return 0 if failed == 0 and passed > 0 else 1


def _file_json(report: FileReport) -> dict:
    return {
        "file": str(report.file),
        "configuration": report.configuration,
        "passed": report.passed,
        "failed": report.failed,
        "failures": [
            {
                "test": o.test.number,
                "line": o.test.line,
                "ruleset": o.ruleset,
                "error": o.error,
                "mismatches": [{"rule": m.rule, "expected": m.expected, "fired": m.fired} for m in o.mismatches],
            }
            for o in report.outcomes
            if not o.passed
        ],
    }


def _differential(args: argparse.Namespace) -> int:
    """Official artefact against our ruleset, invoice by invoice; the summary line last."""
    from aiguillage.engine.loader import library
    from aiguillage.testing.facturx_oracle import FacturXOracle, is_facturx_stylesheet
    from aiguillage.testing.oracle import Oracle

    files: list[Path] = []
    for path in args.paths:
        files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in (".xml", ".pdf")) if path.is_dir() else [path])
    try:
        oracles = [FacturXOracle(path) if is_facturx_stylesheet(path) else Oracle(path) for path in args.oracle]
        compiled = library().compiled(args.ruleset or "en16931")
    except (RuntimeError, FileNotFoundError, LookupError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except RulesError as exc:
        raise CliError(exc.render()) from None
    # the rules of the ruleset and of the profiles it chooses from BT-24 (factur-x-basic under factur-x)
    ours = {m.id for c in (compiled, *compiled.profiles.values()) for unit in c.units for m in unit.metas if m.kind == "validate"}
    for oracle in oracles:
        if isinstance(oracle, FacturXOracle):  # judged on the rules both name (its structure asserts are not ours yet)
            oracle.scope = oracle.rule_ids & ours
    scopes = {id(o): _narrowed(o.rule_ids, args.only) for o in oracles}
    results = [_judge(file, oracles, compiled, scopes) for file in files]
    agree = sum(c.agrees for c in results)
    if args.format == "json":
        print(json.dumps({"documents": [_comparison_json(c) for c in results], "agree": agree, "differ": len(results) - agree}, indent=2))
    else:
        for comparison in results:
            if not comparison.agrees:
                print(comparison.describe())
        for oracle in oracles:  # on stderr: stdout is the differences, then the summary
            print(f"compared with {oracle.stylesheet.name}: the {len(oracle.rule_ids & ours)} rule ids of {compiled.name} "
                  f"it has ({len(ours - oracle.rule_ids)} of the ruleset's rules are not judged by it)", file=sys.stderr)
            if args.only:
                print(f"compared on the {len(scopes[id(oracle)])} of its rule ids matching {', '.join(args.only)}", file=sys.stderr)
        total = len(results)
        rate = 100.0 * agree / total if total else 0.0
        print(f"differential: {total} documents, {agree} agree, {total - agree} differ ({rate:.1f}%)")
    return 0 if results and agree == len(results) else 1


def _narrowed(ids: frozenset[str], patterns: list[str] | None) -> frozenset[str]:
    """The stylesheet's rule ids the comparison is about: all, or those `--only` names."""
    if not patterns:
        return ids
    return frozenset(rule for rule in ids if any(fnmatch.fnmatchcase(rule, p) for p in patterns))


def _judge(file: Path, oracles: list, compiled: object, scopes: dict[int, frozenset[str]]):  # noqa: ANN202
    """One document (the CII inside a Factur-X PDF) by the stylesheet for its syntax, on the ids it has."""
    from aiguillage.model.facturx import embedded_xml
    from aiguillage.testing.differential import Comparison, compare
    from aiguillage.testing.facturx_oracle import FacturXOracle
    from aiguillage.testing.oracle import OracleResult

    xml = file.read_bytes()
    try:
        if xml[:5] == b"%PDF-":
            xml = embedded_xml(xml, str(file))
    except InvoiceReadError as exc:
        return Comparison(str(file), OracleResult(frozenset()), frozenset(), read_error=str(exc))
    # a Factur-X artefact of the profile the document declares first, then any for its syntax
    declared = (o for o in oracles if isinstance(o, FacturXOracle) and o.declared_by(xml))
    oracle = next(declared, None) or next((o for o in oracles if o.reads(xml)), None)
    if oracle is None:
        given = ", ".join(o.stylesheet.name for o in oracles)
        return Comparison(str(file), OracleResult(frozenset()), frozenset(), read_error=f"none of the stylesheets given ({given}) reads this syntax; add --oracle for it")
    scope = scopes[id(oracle)]
    return compare(str(file), xml, oracle, compiled, scope, official_scope=scope if scope != oracle.rule_ids else None)


def _comparison_json(comparison) -> dict:  # noqa: ANN001
    return {
        "document": comparison.name,
        "agrees": comparison.agrees,
        "official_error": comparison.official.error,
        "read_error": comparison.read_error,
        "official_only": sorted(comparison.missing),
        "ours_only": sorted(comparison.extra),
    }
