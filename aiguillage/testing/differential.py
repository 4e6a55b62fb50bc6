"""Differential judging: our standard ruleset against an official artefact, document by document.

Both verdicts are sets of `(rule id, flag)`; the artefact's flags are
`fatal` and `warning`, ours are the finding severities (`error` counts as
`fatal`, as the official test format does). A document agrees when the two
sets are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiguillage.engine.evaluate import evaluate
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.syntaxes import read_invoice
from aiguillage.testing.oracle import Oracle, OracleResult, Verdict

_FLAGS = {"fatal": "fatal", "error": "fatal", "warning": "warning", "information": "information"}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One document judged by both sides."""

    name: str
    official: OracleResult
    ours: Verdict
    read_error: str | None = None
    missing: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    extra: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def agrees(self) -> bool:
        return self.official.error is None and self.read_error is None and not self.missing and not self.extra

    def describe(self) -> str:
        """One line per difference, as `aiguillage conformance --oracle` prints them."""
        if self.official.error is not None:
            return f"{self.name}: the official artefact stopped: {self.official.error}"
        if self.read_error is not None:
            return f"{self.name}: cannot read the document: {self.read_error}"
        parts = []
        if self.missing:
            parts.append("official only: " + ", ".join(f"{r} ({f})" for r, f in sorted(self.missing)))
        if self.extra:
            parts.append("ours only: " + ", ".join(f"{r} ({f})" for r, f in sorted(self.extra)))
        return f"{self.name}: " + "; ".join(parts)


def our_verdict(xml: bytes, compiled: Any, source: str | None = None) -> Verdict:
    """The `(rule, flag)` pairs our ruleset fires on a document; raises InvoiceReadError."""
    invoice = read_invoice(xml, source)
    decision = evaluate(invoice, compiled)
    return frozenset((f.rule, _FLAGS.get(f.severity, f.severity)) for f in decision.findings)


def compare(
    name: str,
    xml: bytes,
    oracle: Oracle,
    compiled: Any,
    scope: frozenset[str] | None = None,
    *,
    official_scope: frozenset[str] | None = None,
) -> Comparison:
    """Judge one document both ways; with `scope`, only those rule ids of ours are compared
    (and every `engine-error:` finding, which is always a difference); with `official_scope`,
    only those of the artefact (e.g. its PEPPOL-* rules, not the national ones)."""
    official = oracle.judge(xml)
    if official_scope is not None and official.error is None:
        official = OracleResult(frozenset(pair for pair in official.fired if pair[0] in official_scope))
    try:
        ours = our_verdict(xml, compiled, name)
    except InvoiceReadError as exc:
        return Comparison(name, official, frozenset(), read_error=str(exc))
    if scope is not None:
        ours = frozenset((rule, flag) for rule, flag in ours if rule in scope or rule.startswith("engine-error:"))
    return Comparison(name, official, ours, missing=official.fired - ours, extra=ours - official.fired)

