"""The event feed: `GET /v1/events?after=CURSOR` (long-poll with `wait=`), one event, and replays.

Before reading, the request numbers any committed event not numbered yet
(`events.sequencer`, its own short transaction), so the feed never waits
for the worker. A long-poll looks again every quarter second, without
holding a transaction between looks.
"""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, current_app

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.roles import MANAGE_WEBHOOKS, READ_EVENTS
from aiguillage.api.schemas.events import (
    MAX_WAIT,
    EventPage,
    FeedQuery,
    OneEvent,
    ReplayBody,
    ReplayResult,
)
from aiguillage.events.feed import get_event, read_feed, to_model
from aiguillage.events.sequencer import pending, sequence_pending
from aiguillage.events.subscriptions import Subscriptions
from aiguillage.store.base import utcnow
from aiguillage.store.database import transaction

blueprint = Blueprint("events", __name__, url_prefix="/v1/events")

#: Seconds between looks during a long-poll.
LONG_POLL_STEP = 0.25


def _sequence() -> None:
    """Number what has committed (a no-op look-up when nothing is waiting)."""
    with database.database().reading_sessions() as session:
        if not pending(session):
            return
    with transaction(database.database().sessions) as session:
        sequence_pending(session, utcnow())
    database.session().commit()  # the request's own reads start after the numbering (a fresh snapshot)


@blueprint.get("")
@endpoint(summary="Events after a cursor, in commit order", roles=READ_EVENTS, query=FeedQuery,
          responses={200: EventPage}, tags=["events"],
          description="The same events, in the same order, as the webhooks. Keep `next` and ask again with "
          "`after=next`; `wait=N` waits up to N seconds when nothing is new. Each item's schema is given by "
          "its `type`.")
def feed(query: FeedQuery) -> EventPage:
    tenant = current_principal().tenant_id
    # AIGUILLAGE_EVENTS_MAX_WAIT lowers the longest long-poll (a server behind a short proxy timeout).
    deadline = time.monotonic() + min(query.wait, float(current_app.config.get("EVENTS_MAX_WAIT", MAX_WAIT)))
    while True:
        _sequence()
        session = database.session()
        page = read_feed(session, tenant, after=int(query.after), types=query.type_list(), limit=query.limit,
                         invoice_id=query.invoice_id)
        if page.events or time.monotonic() >= deadline:
            return EventPage(items=[to_model(row) for row in page.events], next=str(page.next))
        session.commit()  # hold no snapshot while waiting
        time.sleep(min(LONG_POLL_STEP, max(0.0, deadline - time.monotonic())))


@blueprint.get("/<uuid:event_id>")
@endpoint(summary="Read one event", roles=READ_EVENTS, responses={200: OneEvent}, tags=["events"])
def one_event(event_id: uuid.UUID) -> OneEvent:
    _sequence()
    return OneEvent(to_model(get_event(database.session(), current_principal().tenant_id, event_id)))


@blueprint.post("/<uuid:event_id>/replay")
@endpoint(summary="Send an event again to the webhooks", roles=MANAGE_WEBHOOKS, body=ReplayBody,
          responses={202: ReplayResult}, tags=["events"],
          description="Queues a new delivery of the event, with the same id, to one subscription or to every "
          "enabled one that wants its type.")
def replay(event_id: uuid.UUID, body: ReplayBody) -> ReplayResult:
    principal = current_principal()
    session = database.session()
    sequence_pending(session, utcnow())  # in this (writing) transaction: SQLite has one writer at a time
    event = get_event(session, principal.tenant_id, event_id)
    made = Subscriptions(session, principal.tenant_id).replay(event, principal.actor,
                                                              subscription_id=body.subscription_id)
    return ReplayResult(event_id=event.id, deliveries=[d.id for d in made])
