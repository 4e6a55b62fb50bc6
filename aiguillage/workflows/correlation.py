"""Correlation rules over a tenant's invoices, in durable_rules: probable duplicates, unusual amounts.

One session per tenant and customer holds, as facts, the invoices seen
within the duplicate window (older ones are dropped when the session is
saved) and, as state, a running count and total. A new invoice is asserted
as a fact; the rules join it with earlier facts of the same number, or of
the same buyer, amount and date, within the window. "The customer's usual"
is the running mean times a factor, computed before posting (the engine
cannot do arithmetic in a condition) and sent in the fact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.workflows.sessions import Workflows

#: An amount above this many times the customer's mean is unusual.
UNUSUAL_FACTOR = 5
#: Below this many earlier invoices the mean says nothing yet.
UNUSUAL_MIN_HISTORY = 5


@dataclass(frozen=True)
class Observation:
    """What the correlation rules found about one invoice."""

    duplicate_of: str | None
    duplicate_by: str | None
    unusual: bool


def _normalised(number: str | None) -> str:
    """The invoice number as compared: the store already refuses an exact repeat from the same seller,
    so what gets through is the same number spelt differently ("f2026-42 " for "F2026-42")."""
    return "".join((number or "").split()).upper()


def _cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


def observe_invoice(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                    window_s: int = 30 * 86400, now: datetime | None = None) -> Observation:
    """Show a newly stored invoice to the correlation rules; a probable duplicate is held (status `held`)."""
    now = now or utcnow()
    invoice = Invoices(session, tenant_id).get(invoice_id)
    workflows = Workflows(session, tenant_id)
    sid = f"customer:{invoice.customer_code or '-'}"
    row = workflows.find("correlation", sid)
    state: dict[str, Any] = row.state["state"] if row is not None else {}
    count, total = int(state.get("count", 0)), int(state.get("total_cents", 0))
    usual_limit = (total // count) * UNUSUAL_FACTOR if count >= UNUSUAL_MIN_HISTORY else 0
    at = int(now.timestamp())
    buyer = invoice.customer_code or str(((invoice.model or {}).get("buyer") or {}).get("name") or "")
    fact = {
        "t": "seen",
        "invoice": str(invoice.id),
        "number": _normalised(invoice.number) or f"(none) {invoice.id}",
        "buyer_amount_date": f"{buyer}|{invoice.amount_with_vat}|{invoice.issue_date}",
        "amount_cents": _cents(invoice.amount_with_vat),
        "usual_limit_cents": usual_limit,
        "seq": int(state.get("last_seq", 0)) + 1,
        "at": at,
        "since": at - window_s,
    }
    posted = workflows.post(
        "correlation", sid, fact, actor, create=row is None, now=now, as_facts=True,
        initial={"count": 0, "total_cents": 0, "last_seq": 0, "status": "watching"},
        keep_fact=lambda f: int(f.get("at", 0)) >= at - window_s,
    )
    duplicates = [e for e in posted.outcome.effects if e.kind == "duplicate"]
    return Observation(
        duplicate_of=duplicates[0].data["of"] if duplicates else None,
        duplicate_by=duplicates[0].data["by"] if duplicates else None,
        unusual=any(e.kind == "unusual" for e in posted.outcome.effects),
    )
