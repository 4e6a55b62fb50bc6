"""Submission's duplicate check: show a decided invoice to the correlation rules before anything is queued.

Why here and not after queueing: a probable duplicate must never reach the
customer, so the check runs in the transaction that records the decision,
and a duplicate is held (status `held`, reason and `invoice.duplicate` in
the audit, by `workflows.effects`) instead of having its routes queued.
The window comes from the decision's `duplicate_window` setting; a
malformed one falls back to the default (see `starting._policy`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.workflows.correlation import Observation, observe_invoice


def check_duplicate(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID, actor: Actor, *,
                    now: datetime | None = None) -> Observation:
    """Observe the invoice; when `duplicate_of` is set, it is now held and must not be queued."""
    from aiguillage.workflows.starting import _policy

    policy, _ = _policy(session, tenant_id, invoice_id)
    return observe_invoice(session, tenant_id, invoice_id, actor, window_s=policy.duplicate_window_s, now=now)
