"""The recovery pass: decide the invoices a crash left `received`, so nothing stays there.

A server process that dies between storing an invoice and recording its
decision (SIGKILL, OOM, a machine lost) leaves the invoice stored and
`received`. The dispatch worker runs this pass on every poll: invoices
`received` for longer than `older_than` (well past any request in flight)
are decided exactly as submission would have decided them
(`submission.decide_received`). Deciding locks the invoice row and checks it
is still `received`, so a pass that meets a late request, or another
worker's pass, decides nothing twice.

It lives with the API's deciding code (ruleset selection is there) and is
handed to the worker as a callable by `aiguillage worker`, so `dispatch`
never imports `api`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aiguillage.api.submission import RECEIVED, decide_received
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.models import InvoiceRecord

log = logging.getLogger("aiguillage.recovery")

#: Who decides in the audit trail.
RECOVERY = Actor("recovery")
#: An invoice `received` for longer than this was left by a crash (a live request decides within a second).
OLDER_THAN = timedelta(seconds=10)


def recover_received(sessions: sessionmaker[Session], *, older_than: timedelta = OLDER_THAN, limit: int = 100,
                     now: datetime | None = None) -> int:
    """Decide up to `limit` invoices left `received`, oldest first; returns how many were decided."""
    cutoff = (now or utcnow()) - older_than
    decided = 0
    with sessions() as session:
        rows = session.execute(
            select(InvoiceRecord.tenant_id, InvoiceRecord.id)
            .where(InvoiceRecord.status == RECEIVED, InvoiceRecord.received_at < cutoff)
            .order_by(InvoiceRecord.received_at)
            .limit(limit)
        ).all()
        session.commit()
        for tenant_id, invoice_id in rows:
            status = decide_received(session, tenant_id, RECOVERY, invoice_id)
            if status != RECEIVED:
                decided += 1
                log.info("invoice %s: left received by a crash, now %s", invoice_id, status)
    return decided
