"""Deciding one invoice: evaluate it with the version in force, and what the decision implies.

Shared by the dry run (`POST /v1/evaluate`) and the real thing
(`POST /v1/invoices`), so both answer the same for the same invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aiguillage.api.schemas.decisions import Evaluation, RulesetRef
from aiguillage.api.selection import Selection
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.model.invoice import Invoice
from aiguillage.store.vocabulary import InvoiceStatus


def ruleset_ref(selection: Selection) -> RulesetRef:
    """Which version decided, as the API shows it."""
    version = selection.version
    if version is None:
        return RulesetRef(name=selection.compiled.name, version=None, standard=True)
    return RulesetRef(
        name=version.name, version=version.number, version_id=version.version_id,
        content_hash=version.content_hash, standard=False,
    )


def decide(invoice: Invoice, selection: Selection, *, lang: str = "en", explain: bool = False,
           today: date | None = None) -> Evaluation:
    """The Decision, with the customer and ruleset version it was taken with."""
    decision = evaluate(invoice, selection.compiled, lang=lang, explain=explain, today=today)
    values = dict(decision.__dict__)
    values["customer"] = selection.customer.code if selection.customer is not None else None
    values["ruleset"] = ruleset_ref(selection)
    return Evaluation.build(**values)


@dataclass(frozen=True)
class Verdict:
    """What a decision means for the invoice: its outcome word, its new status, and why."""

    outcome: str
    status: InvoiceStatus
    reason: str


def verdict(decision: Decision) -> Verdict:
    """Holds come first (someone must act), then blocking findings, then routes.

    An invoice with holds waits (`held`) and nothing is queued: the workflow
    that lifts a hold queues its routes. One with an error or fatal finding
    and no hold is `rejected`: nothing unfit is ever sent. One with routes
    is `queued`, one delivery per route. One with none of these has nowhere
    to go: `held`, for a person to look at.
    """
    if decision.holds:
        reasons = "; ".join(h.reason or f"approval by {h.role}" for h in decision.holds)
        return Verdict("held", InvoiceStatus.HELD, reasons)
    if decision.has_errors:
        blocking = sorted({f.rule for f in decision.findings if f.severity in ("fatal", "error")})
        return Verdict("rejected", InvoiceStatus.REJECTED, "blocking findings: " + ", ".join(blocking[:20]))
    if decision.routes:
        return Verdict("queued", InvoiceStatus.QUEUED, ", ".join(r.channel for r in decision.routes))
    return Verdict("unrouted", InvoiceStatus.HELD, "the ruleset chose no route")


def stored_result(decision: Decision) -> dict[str, Any]:
    """The decision as kept in the store: exact JSON (Decimals as text), without run-time timings."""
    return decision.model_dump(mode="json", exclude={"timings"})
