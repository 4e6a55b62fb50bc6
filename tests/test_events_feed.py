"""The event feed: a cursor that is safe under concurrent writers (PostgreSQL commits out of order),
paging and filters, long-poll, and one tenant never reaching another's events (tried)."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import select

from aiguillage.events.feed import read_feed
from aiguillage.events.record import record
from aiguillage.events.sequencer import sequence_pending
from aiguillage.store.base import utcnow
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.event_models import EventRecord

pytest_plugins = ["aiguillage.api.testing"]


def _record(engine, tenant, count, *, type_name="payment.received", invoice_id=None):
    with transaction(session_factory(engine)) as session:
        return [record(session, tenant, type_name,
                       {"amount": f"{i}.00"} if type_name == "payment.received" else {"reason": f"r{i}"},
                       invoice_id=invoice_id).id
                for i in range(count)]


def test_the_cursor_never_passes_an_event_whose_transaction_commits_later(postgres_url, make_tenant):
    engine = make_engine(postgres_url)
    try:
        tenant = make_tenant(engine)
        sessions = session_factory(engine)
        slow = sessions()
        slow.begin()
        early = record(slow, tenant, "payment.received", {"amount": "1.00"})  # inserted first, not committed
        with transaction(sessions) as session:
            late = record(session, tenant, "payment.received", {"amount": "2.00"})
        assert early.number < late.number  # a cursor on insert order would skip `early` once it commits

        with transaction(sessions) as session:
            sequence_pending(session, utcnow())  # numbers what has committed (other tests' events too)
        with transaction(sessions) as session:
            numbered = dict(session.execute(select(EventRecord.id, EventRecord.seq).where(
                EventRecord.id.in_([early.id, late.id]))).all())
        assert numbered[late.id] is not None and early.id not in numbered  # `early` is not committed yet
        with transaction(sessions) as session:
            first = read_feed(session, tenant, after=0)
        assert [e.id for e in first.events] == [late.id]

        slow.commit()
        slow.close()
        with transaction(sessions) as session:
            sequence_pending(session, utcnow())
        with transaction(sessions) as session:
            second = read_feed(session, tenant, after=first.next)
        assert [e.id for e in second.events] == [early.id] and second.events[0].tenant_seq > first.next
    finally:
        engine.dispose()


def test_concurrent_writers_and_readers_lose_nothing_and_repeat_nothing(postgres_url, make_tenant):
    engine = make_engine(postgres_url, pool_size=10)
    try:
        tenant = make_tenant(engine)
        written: list[uuid.UUID] = []
        lock = threading.Lock()

        def writer() -> None:
            for _ in range(40):
                ids = _record(engine, tenant, 3)
                with lock:
                    written.extend(ids)

        seen: list[uuid.UUID] = []
        stop = threading.Event()

        def reader() -> None:
            sessions, cursor = session_factory(engine), 0
            while True:
                done = stop.is_set()
                with transaction(sessions) as session:
                    sequence_pending(session, utcnow())
                with transaction(sessions) as session:
                    page = read_feed(session, tenant, after=cursor, limit=50)
                seen.extend(e.id for e in page.events)
                cursor = page.next
                if done and not page.events:
                    return

        writers = [threading.Thread(target=writer) for _ in range(4)]
        follow = threading.Thread(target=reader)
        follow.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        stop.set()
        follow.join(timeout=60)
        assert len(seen) == len(set(seen)) == len(written) == 480 and set(seen) == set(written)
    finally:
        engine.dispose()


def test_paging_filters_and_tenant_isolation(api_client, api_keys, sqlite_url):
    mine, theirs = api_keys("erp"), api_keys("erp")
    engine = make_engine(sqlite_url)
    try:
        invoice = uuid.uuid4()
        own = _record(engine, mine.tenant_id, 5) + _record(engine, mine.tenant_id, 2, type_name="invoice.held",
                                                          invoice_id=invoice)
        other = _record(engine, theirs.tenant_id, 3)
    finally:
        engine.dispose()

    collected, cursor = [], "0"
    while True:
        page = api_client.get(f"/v1/events?after={cursor}&limit=2", headers=mine.headers).get_json()
        collected += page["items"]
        cursor = page["next"]
        if not page["items"]:
            break
    assert [uuid.UUID(e["id"]) for e in collected] == own
    held = api_client.get(f"/v1/events?types=invoice.held&invoice_id={invoice}", headers=mine.headers).get_json()
    assert [uuid.UUID(e["id"]) for e in held["items"]] == own[5:]
    assert api_client.get(f"/v1/events/{own[0]}", headers=mine.headers).get_json()["data"]["amount"] == "0.00"

    # The other tenant's events cannot be read, listed or replayed, whatever the cursor.
    listed = api_client.get("/v1/events?after=0&limit=500", headers=mine.headers).get_json()["items"]
    assert not {uuid.UUID(e["id"]) for e in listed} & set(other)
    assert api_client.get(f"/v1/events/{other[0]}", headers=mine.headers).status_code == 404
    replay = api_client.post(f"/v1/events/{other[0]}/replay", json={}, headers=mine.headers)
    assert replay.status_code == 404
    theirs_page = api_client.get("/v1/events", headers=theirs.headers).get_json()["items"]
    assert [uuid.UUID(e["id"]) for e in theirs_page] == other
    # Each tenant counts its own events: a cursor says nothing of how busy other tenants are.
    assert [e["sequence"] for e in theirs_page] == ["1", "2", "3"]
    assert [e["sequence"] for e in collected] == [str(n) for n in range(1, 8)]

    bad = api_client.get("/v1/events?types=invoice.paid", headers=mine.headers)
    assert bad.status_code == 400 and "invoice.paid" in bad.get_json()["detail"]
    assert api_client.get("/v1/events?after=x", headers=mine.headers).status_code == 400
    assert api_client.get("/v1/events", headers=api_keys("approver", mine.tenant_name).headers).status_code == 403


def test_a_long_poll_answers_as_soon_as_an_event_commits(api_client, api_keys, sqlite_url):
    key = api_keys("erp")
    engine = make_engine(sqlite_url)
    cursor = api_client.get("/v1/events", headers=key.headers).get_json()["next"]
    timer = threading.Timer(0.6, lambda: _record(engine, key.tenant_id, 1))
    try:
        started = time.monotonic()
        timer.start()
        page = api_client.get(f"/v1/events?after={cursor}&wait=10", headers=key.headers).get_json()
        waited = time.monotonic() - started
    finally:
        timer.join()
        engine.dispose()
    assert len(page["items"]) == 1 and 0.5 < waited < 5
    started = time.monotonic()
    empty = api_client.get(f"/v1/events?after={page['next']}&wait=1", headers=key.headers).get_json()
    assert empty["items"] == [] and empty["next"] == page["next"] and time.monotonic() - started >= 0.9
