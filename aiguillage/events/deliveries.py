"""Webhook deliveries on the worker's side: claim due ones in per-invoice order, record how each went.

System-level like the outbox claims: one worker serves every tenant, and
every write after the claim is scoped by the ids the job carries.

Order per invoice: a delivery is claimed only when every earlier delivery
(smaller `event_seq`) of the same subscription and invoice is delivered or
claimed in the same batch. Claims lock the sequencer row (PostgreSQL; SQLite
serialises writers anyway), so two workers never split one invoice's chain
between them. A claim is a lease: a worker killed mid-send stops renewing,
the lease runs out and the delivery is sent again, with the same event id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.orm import Session

from aiguillage.events.retry import WebhookPolicy
from aiguillage.events.sequencer import SEQUENCER_ID
from aiguillage.store.event_models import EventSequencer, WebhookDelivery, WebhookSubscription

MAX_ERROR = 2000


@dataclass(frozen=True)
class Job:
    """One claimed delivery: where to send which event, and the token that proves the claim."""

    delivery_id: uuid.UUID
    token: uuid.UUID
    tenant_id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    secret: str
    event_id: uuid.UUID
    event_seq: int
    invoice_id: uuid.UUID | None
    attempt: int

    @property
    def chain(self) -> tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]:
        """Deliveries with the same chain go out one after the other, in order."""
        return (self.subscription_id, self.invoice_id, None if self.invoice_id is not None else self.delivery_id)


def _due(row: type[WebhookDelivery], now: datetime):  # noqa: ANN202 - an SQL condition
    return or_(and_(row.status == "pending", row.next_attempt_at <= now),
               and_(row.status == "sending", row.claimed_until <= now))


def claim(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[Job]:
    """Claim up to `limit` due deliveries of enabled subscriptions, oldest event first, chains whole."""
    lock = select(EventSequencer.id).where(EventSequencer.id == SEQUENCER_ID)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(lock.with_for_update())
    # Per chain, the first delivery that is neither delivered nor due (failed and waiting, or held by
    # another worker): nothing of the chain from it on may go now. One pass over the undelivered rows.
    blockers = (
        select(WebhookDelivery.subscription_id, WebhookDelivery.invoice_id,
               func.min(WebhookDelivery.event_seq).label("first"))
        .where(WebhookDelivery.status.in_(("pending", "sending")), not_(_due(WebhookDelivery, now)),
               WebhookDelivery.invoice_id.is_not(None))
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.invoice_id)
        .subquery()
    )
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.tenant_id, WebhookDelivery.event_id, WebhookDelivery.event_seq,
               WebhookDelivery.invoice_id, WebhookDelivery.attempts, WebhookSubscription.id.label("subscription_id"),
               WebhookSubscription.url, WebhookSubscription.secret)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .outerjoin(blockers, and_(blockers.c.subscription_id == WebhookDelivery.subscription_id,
                                  blockers.c.invoice_id == WebhookDelivery.invoice_id))
        .where(WebhookSubscription.status == "enabled", _due(WebhookDelivery, now),
               or_(blockers.c.first.is_(None), WebhookDelivery.event_seq < blockers.c.first))
        .order_by(WebhookDelivery.event_seq, WebhookDelivery.created_at)
        .limit(limit)
    ).all()
    if not rows:
        return []
    token = uuid.uuid4()  # one per claim: a report from an older claim of the same delivery is told apart
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids[start:start + 500]))
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, claimed_until=now + lease,
                    claim_token=token)
            .execution_options(synchronize_session=False)
        )
    return [Job(row.id, token, row.tenant_id, row.subscription_id, row.url, row.secret, row.event_id,
                row.event_seq, row.invoice_id, (row.attempts or 0) + 1) for row in rows]


def delivered(session: Session, jobs: Iterable[Job], now: datetime, status_code: dict[uuid.UUID, int]) -> None:
    """Record successes (a batch from one chain): delivered, and the subscription is healthy again."""
    jobs = list(jobs)
    if not jobs:
        return
    for job in jobs:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == job.delivery_id, WebhookDelivery.claim_token == job.token)
            .values(status="delivered", delivered_at=now, last_attempt_at=now, last_error=None,
                    last_status_code=status_code.get(job.delivery_id), claimed_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    for subscription_id in {job.subscription_id for job in jobs}:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id,
                   or_(WebhookSubscription.failing_since.is_not(None), WebhookSubscription.consecutive_failures > 0))
            .values(failing_since=None, consecutive_failures=0)
            .execution_options(synchronize_session=False)
        )


def failed(session: Session, job: Job, now: datetime, error: str, status_code: int | None,
           policy: WebhookPolicy) -> str | None:
    """Record a failure: retry after a backoff; disable the subscription after a long failure (its reason)."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == job.delivery_id, WebhookDelivery.claim_token == job.token)
        .values(status="pending", next_attempt_at=policy.next_attempt(job.attempt, now), last_attempt_at=now,
                last_error=error[:MAX_ERROR], last_status_code=status_code, claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    subscription = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.id == job.subscription_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if subscription is None or subscription.status != "enabled":
        return None
    subscription.failing_since = subscription.failing_since or now
    subscription.consecutive_failures = (subscription.consecutive_failures or 0) + 1
    if not policy.should_disable(subscription.failing_since, subscription.consecutive_failures, now):
        return None
    reason = (f"disabled after {subscription.consecutive_failures} failed attempts without a success since "
              f"{subscription.failing_since.isoformat()}; last error: {error[:500]}")
    subscription.status, subscription.disabled_reason, subscription.disabled_at = "disabled", reason, now
    subscription.updated_at = now
    return reason


def release(session: Session, jobs: Iterable[Job]) -> None:
    """Give back claimed deliveries not attempted (the rest of a chain after a failure)."""
    for job in jobs:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == job.delivery_id, WebhookDelivery.claim_token == job.token)
            .values(status="pending", attempts=WebhookDelivery.attempts - 1, claimed_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )


def renew(session: Session, jobs: Iterable[Job], until: datetime) -> None:
    """Extend the leases of claimed deliveries still waiting their turn in a chain.

    By id, not by the claim's token: the token is shared by every chain of the claim, and touching the
    rows of a chain another thread is recording would make the two transactions deadlock.
    """
    jobs = list(jobs)
    ids = [job.delivery_id for job in jobs]
    for start in range(0, len(ids), 500):
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids[start:start + 500]), WebhookDelivery.claim_token == jobs[0].token,
                   WebhookDelivery.status == "sending")
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
