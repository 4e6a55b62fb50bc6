"""A tenant's webhook subscriptions: create (the secret is shown once), change, enable, delete; replays.

Re-enabling a subscription makes its waiting deliveries due at once and
forgets the failure run. A replay queues the event again (a new delivery,
same event id) for one subscription or for every enabled one that wants
its type; in per-invoice order it counts as the event it repeats.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from aiguillage.events.signing import new_secret
from aiguillage.events.types import EVENT_TYPES
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.event_models import EventRecord, WebhookDelivery, WebhookSubscription
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size

#: Subscriptions a tenant may have.
MAX_SUBSCRIPTIONS = 20


def check_types(types: Sequence[str]) -> list[str]:
    """The event types, each known (Invalid naming the unknown one otherwise), without repeats."""
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise Invalid(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(types))


class Subscriptions(TenantScoped):
    noun = "webhook"

    def create(self, url: str, event_types: Sequence[str], actor: Actor, *,
               description: str | None = None) -> tuple[WebhookSubscription, str]:
        """A new enabled subscription and its secret (not retrievable again through the API)."""
        count = self.session.scalar(select(func.count()).select_from(WebhookSubscription)
                                    .where(WebhookSubscription.tenant_id == self.tenant_id))
        if (count or 0) >= MAX_SUBSCRIPTIONS:
            raise Conflict(f"a tenant has at most {MAX_SUBSCRIPTIONS} webhook subscriptions")
        secret = new_secret()
        now = utcnow()
        row = WebhookSubscription(tenant_id=self.tenant_id, url=url, event_types=check_types(event_types),
                                  description=description, secret=secret, status="enabled",
                                  consecutive_failures=0, created_at=now, updated_at=now, created_by=actor.name)
        self.session.add(row)
        self.session.flush()
        self._audit(actor, "webhook.create", row.id, {"url": url, "event_types": row.event_types})
        return row, secret

    def get(self, subscription_id: uuid.UUID | str) -> WebhookSubscription:
        return self._get(WebhookSubscription, subscription_id)

    def listing(self) -> list[WebhookSubscription]:
        return list(self.session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.tenant_id == self.tenant_id)
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)))

    def change(self, subscription_id: uuid.UUID | str, actor: Actor, *, url: str | None = None,
               event_types: Sequence[str] | None = None, description: str | None = None,
               status: str | None = None) -> WebhookSubscription:
        row = self.get(subscription_id)
        now = utcnow()
        changed: dict[str, object] = {}
        if url is not None:
            row.url = changed["url"] = url
        if event_types is not None:
            row.event_types = changed["event_types"] = check_types(event_types)
        if description is not None:
            row.description = changed["description"] = description
        if status == "enabled" and row.status != "enabled":
            row.status, row.disabled_reason, row.disabled_at = "enabled", None, None
            row.failing_since, row.consecutive_failures = None, 0
            self._resume(row.id, now)
            changed["status"] = "enabled"
        elif status == "disabled" and row.status != "disabled":
            row.status, row.disabled_reason, row.disabled_at = "disabled", f"disabled by {actor.name}", now
            changed["status"] = "disabled"
        row.updated_at = now
        self.session.flush()
        self._audit(actor, "webhook.change", row.id, changed)
        return row

    def delete(self, subscription_id: uuid.UUID | str, actor: Actor) -> None:
        row = self.get(subscription_id)
        self.session.delete(row)  # its deliveries go with it (ON DELETE CASCADE)
        self.session.flush()
        self._audit(actor, "webhook.delete", row.id, {"url": row.url})

    def deliveries(self, subscription_id: uuid.UUID | str, *, status: str | None = None,
                   limit: int | None = None) -> list[WebhookDelivery]:
        """The subscription's deliveries, newest event first."""
        row = self.get(subscription_id)
        query = select(WebhookDelivery).where(WebhookDelivery.tenant_id == self.tenant_id,
                                              WebhookDelivery.subscription_id == row.id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        query = query.order_by(WebhookDelivery.event_seq.desc(), WebhookDelivery.created_at.desc())
        return list(self.session.scalars(query.limit(page_size(limit))))

    def replay(self, event: EventRecord, actor: Actor, *, subscription_id: uuid.UUID | None = None,
               now: datetime | None = None) -> list[WebhookDelivery]:
        """Queue the event again for one subscription, or every enabled one that wants its type."""
        now = now or utcnow()
        if subscription_id is not None:
            targets = [self.get(subscription_id)]
        else:
            targets = [s for s in self.listing()
                       if s.status == "enabled" and (not s.event_types or event.type in s.event_types)]
        made = []
        for target in targets:
            delivery = WebhookDelivery(tenant_id=self.tenant_id, subscription_id=target.id, event_id=event.id,
                                       event_seq=event.seq, invoice_id=event.invoice_id, status="pending",
                                       attempts=0, next_attempt_at=now, replay=True, created_at=now)
            self.session.add(delivery)
            made.append(delivery)
        self.session.flush()
        self._audit(actor, "event.replay", event.id, {"deliveries": [str(d.id) for d in made]})
        return made

    def _resume(self, subscription_id: uuid.UUID, now: datetime) -> None:
        self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "pending")
            .values(next_attempt_at=now).execution_options(synchronize_session=False))

    def _audit(self, actor: Actor, action: str, target: uuid.UUID, detail: dict) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "webhook", target, detail)
