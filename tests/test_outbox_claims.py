"""Outbox semantics in the store, on SQLite and PostgreSQL: claims with leases across tenants,
abandoned attempts, concurrent claimers, reports, dead letters, manual retry, the invoice's view."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from worker_helpers import FakeClock, queue_invoice

from aiguillage.store.actor import WORKER
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.errors import Conflict, NotFound
from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.claims import Report, claim_due, finish, renew
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox, deliveries_for_invoice
from aiguillage.store.vocabulary import AttemptOutcome, OutboxStatus

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]

LEASE = timedelta(seconds=60)


def _claim(engine, clock, *, worker="w1", limit=10, max_attempts=None, lease=LEASE):
    with transaction(session_factory(engine)) as session:
        return claim_due(session, worker, now=clock(), lease=lease, limit=limit, max_attempts=max_attempts,
                         actor=WORKER)


def _finish(engine, claim, report):
    with transaction(session_factory(engine)) as session:
        return finish(session, claim, report, WORKER)


def _entry(engine, tenant, entry_id):
    with transaction(session_factory(engine)) as session:
        view = Outbox(session, tenant).view(entry_id)
        return view.entry, view.attempts


def _actions(engine, tenant, invoice_id):
    with transaction(session_factory(engine)) as session:
        return [(e.action, e.detail) for e in reversed(AuditLog(session, tenant).entries(
            target_type="invoice", target_id=invoice_id))]


def test_a_claim_starts_an_attempt_and_holds_a_lease_until_it_runs_out(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant, "email")

    [claim] = _claim(dispatch_db, clock, worker="host-a:1")
    assert (claim.attempt, claim.round_attempt, claim.tenant_id, claim.delivery_key) == (1, 1, tenant, queued.delivery_key)
    assert claim.destination["settings"]["email"] == "ap@acme-retail.example"
    entry, [attempt] = _entry(dispatch_db, tenant, queued.entry_id)
    assert (entry.status, entry.claimed_by, entry.claimed_until, entry.claim_token) == (
        "sending", "host-a:1", clock.now + LEASE, attempt.id)
    assert (attempt.number, attempt.outcome, attempt.started_at, attempt.finished_at, attempt.worker) == (
        1, "started", clock.now, None, "host-a:1")

    clock.advance(59)
    assert _claim(dispatch_db, clock, worker="host-b:2") == []  # still held

    clock.advance(2)  # host-a died: its lease ran out
    [again] = _claim(dispatch_db, clock, worker="host-b:2")
    assert (again.attempt, again.token != claim.token) == (2, True)
    entry, attempts = _entry(dispatch_db, tenant, queued.entry_id)
    assert [(a.number, a.outcome, a.worker) for a in attempts] == [(1, "abandoned", "host-a:1"), (2, "started", "host-b:2")]
    assert attempts[0].finished_at == clock.now and "lease ran out" in attempts[0].detail
    assert entry.claimed_by == "host-b:2"
    assert ("delivery.attempt", "abandoned") in [(a, d.get("outcome")) for a, d in _actions(dispatch_db, tenant, queued.invoice_id)]

    # host-a was only paused: its late report is kept on its attempt, but the entry stays with host-b.
    late = Report(AttemptOutcome.OK, OutboxStatus.DELIVERED, clock.now, remote_id="<a@x>")
    assert _finish(dispatch_db, claim, late) is False
    entry, attempts = _entry(dispatch_db, tenant, queued.entry_id)
    assert entry.status == "sending" and entry.claim_token == again.token
    assert (attempts[0].outcome, attempts[0].remote_id) == ("ok", "<a@x>")

    assert _finish(dispatch_db, again, Report(AttemptOutcome.OK, OutboxStatus.DELIVERED, clock.now, remote_id="<a@x>"))
    entry, attempts = _entry(dispatch_db, tenant, queued.entry_id)
    assert (entry.status, entry.claimed_by, entry.claimed_until, entry.claim_token, entry.last_error) == (
        "delivered", None, None, None, None)
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, tenant).get(queued.invoice_id).status == "delivered"


def test_entries_are_due_at_their_time_oldest_first_and_across_tenants(make_tenant, dispatch_db):
    clock = FakeClock()
    first, second = make_tenant(dispatch_db), make_tenant(dispatch_db)
    later = queue_invoice(dispatch_db, first, not_before=clock.now + timedelta(seconds=30))
    a = queue_invoice(dispatch_db, first, not_before=clock.now - timedelta(seconds=5))
    b = queue_invoice(dispatch_db, second, not_before=clock.now - timedelta(seconds=10))

    claims = _claim(dispatch_db, clock, limit=1)
    assert [c.entry_id for c in claims] == [b.entry_id]  # oldest due first, whatever the tenant
    claims = _claim(dispatch_db, clock, limit=10)
    assert [(c.entry_id, c.tenant_id) for c in claims] == [(a.entry_id, first)]
    clock.advance(30)
    assert [c.entry_id for c in _claim(dispatch_db, clock)] == [later.entry_id]


def test_renew_extends_only_claims_still_held(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    one, two = queue_invoice(dispatch_db, tenant), queue_invoice(dispatch_db, tenant)
    claims = _claim(dispatch_db, clock)
    _finish(dispatch_db, claims[1], Report(AttemptOutcome.OK, OutboxStatus.SENT, clock.now))
    with transaction(session_factory(dispatch_db)) as session:
        assert renew(session, [c.token for c in claims], clock.now + timedelta(minutes=5)) == 1
        assert renew(session, [], clock.now) == 0
    held = next(e for e in (one, two) if e.entry_id == claims[0].entry_id)
    entry, _ = _entry(dispatch_db, tenant, held.entry_id)
    assert entry.claimed_until == clock.now + timedelta(minutes=5)
    clock.advance(61)
    assert _claim(dispatch_db, clock) == []  # renewed: not due although the first lease has passed


def test_concurrent_claimers_never_share_an_entry(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    expected = {queue_invoice(dispatch_db, tenant, "edi").entry_id for _ in range(24)}
    factory = session_factory(dispatch_db)
    taken: list[list] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def claimer(index: int) -> None:
        try:
            for _ in range(50):  # bounded
                with transaction(factory) as session:
                    claims = claim_due(session, f"w{index}", now=clock(), lease=LEASE, limit=3, actor=WORKER)
                    time.sleep(0.02)  # hold the transaction so the claimers overlap
                if not claims:
                    return
                taken[index].extend(c.entry_id for c in claims)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    every = [entry for per_worker in taken for entry in per_worker]
    assert len(every) == len(set(every)) == 24 and set(every) == expected


def test_a_claim_in_progress_is_skipped_on_postgresql_and_waited_for_on_sqlite(make_tenant, dispatch_db, db_backend):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    for _ in range(4):
        queue_invoice(dispatch_db, tenant)
    factory = session_factory(dispatch_db)
    theirs: list = []

    def other() -> None:
        with transaction(factory) as session:
            theirs.extend(claim_due(session, "w2", now=clock(), lease=LEASE, limit=4, actor=WORKER))

    with transaction(factory) as session:
        mine = claim_due(session, "w1", now=clock(), lease=LEASE, limit=2, actor=WORKER)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=10 if db_backend == "postgresql" else 1)
        if db_backend == "postgresql":  # SKIP LOCKED: the other worker took the rest without waiting
            assert not thread.is_alive() and len(theirs) == 2
        else:  # one writer at a time: it waits for this claim to commit, then sees it
            assert thread.is_alive() and theirs == []
    thread.join(timeout=30)
    assert len(theirs) == 2 and not {c.entry_id for c in mine} & {c.entry_id for c in theirs}


def test_an_entry_abandoned_at_the_retry_limit_is_dead_lettered(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant)
    _claim(dispatch_db, clock, max_attempts=2)
    clock.advance(61)
    [second] = _claim(dispatch_db, clock, max_attempts=2)
    assert second.attempt == 2
    clock.advance(61)
    assert _claim(dispatch_db, clock, max_attempts=2) == []
    entry, attempts = _entry(dispatch_db, tenant, queued.entry_id)
    assert entry.status == "dead" and "gave up after 2 attempt(s)" in entry.last_error
    assert [a.outcome for a in attempts] == ["abandoned", "abandoned"]
    assert "delivery.dead" in [a for a, _ in _actions(dispatch_db, tenant, queued.invoice_id)]
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, tenant).get(queued.invoice_id).status == "failed"


def test_reports_move_the_entry_and_roll_up_into_the_invoice(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    mail = queue_invoice(dispatch_db, tenant, "email")
    with transaction(session_factory(dispatch_db)) as session:  # a second channel for the same invoice
        edi = Outbox(session, tenant).enqueue(mail.invoice_id, "edi", {}, f"{mail.invoice_id}:edi", WORKER,
                                              not_before=clock.now).entry.id
    by_entry = {c.entry_id: c for c in _claim(dispatch_db, clock)}
    retry_at = clock.now + timedelta(seconds=30)
    assert _finish(dispatch_db, by_entry[mail.entry_id], Report(
        AttemptOutcome.TIMEOUT, OutboxStatus.RETRYING, clock.now, detail="no answer within 10 s",
        next_attempt_at=retry_at))
    entry, [attempt] = _entry(dispatch_db, tenant, mail.entry_id)
    assert (entry.status, entry.next_attempt_at, entry.last_error) == ("retrying", retry_at, "no answer within 10 s")
    assert (attempt.outcome, attempt.finished_at) == ("timeout", clock.now)
    _finish(dispatch_db, by_entry[edi], Report(AttemptOutcome.OK, OutboxStatus.SENT, clock.now, remote_id="/out/x.edi"))
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, tenant).get(mail.invoice_id).status == "queued"  # one still to go

    clock.advance(30)
    [retry] = _claim(dispatch_db, clock)
    assert (retry.entry_id, retry.attempt) == (mail.entry_id, 2)
    _finish(dispatch_db, retry, Report(AttemptOutcome.OK, OutboxStatus.DELIVERED, clock.now, remote_id="<m@x>"))
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, tenant).get(mail.invoice_id).status == "sent"  # one delivered, one handed on
    attempts = [d for a, d in _actions(dispatch_db, tenant, mail.invoice_id) if a == "delivery.attempt"]
    assert [(d["attempt"], d["outcome"], d["status"]) for d in attempts] == [
        (1, "timeout", "retrying"), (1, "ok", "sent"), (2, "ok", "delivered")]
    assert attempts[0]["next_attempt_at"] == retry_at.isoformat() and attempts[2]["remote_id"] == "<m@x>"


def test_a_dead_delivery_is_retried_by_hand_with_a_fresh_round(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant)
    admin = WORKER.__class__("key:aig_admin001", role="admin")
    with transaction(session_factory(dispatch_db)) as session, pytest.raises(Conflict, match="pending"):
        Outbox(session, tenant).requeue(queued.entry_id, admin)
    [claim] = _claim(dispatch_db, clock)
    _finish(dispatch_db, claim, Report(AttemptOutcome.FAILED, OutboxStatus.DEAD, clock.now, detail="550 no such user"))
    with transaction(session_factory(dispatch_db)) as session:
        assert Invoices(session, tenant).get(queued.invoice_id).status == "failed"
        assert [e.id for e in Outbox(session, tenant).page(status="dead")] == [queued.entry_id]

    clock.advance(3600)
    with transaction(session_factory(dispatch_db)) as session:
        entry = Outbox(session, tenant).requeue(queued.entry_id, admin, now=clock.now)
        assert (entry.status, entry.next_attempt_at, entry.requeued_after) == ("pending", clock.now, 1)
        assert Invoices(session, tenant).get(queued.invoice_id).status == "queued"
    [claim] = _claim(dispatch_db, clock)
    assert (claim.attempt, claim.round_attempt) == (2, 1)
    retry = next(d for a, d in _actions(dispatch_db, tenant, queued.invoice_id) if a == "delivery.retry")
    assert retry == {"delivery": str(queued.entry_id), "after_attempts": 1, "last_error": "550 no such user"}


def test_deliveries_for_invoice_show_every_attempt_and_only_to_the_tenant(make_tenant, dispatch_db):
    tenant, other, clock = make_tenant(dispatch_db), make_tenant(dispatch_db), FakeClock()
    queued = queue_invoice(dispatch_db, tenant)
    [claim] = _claim(dispatch_db, clock)
    _finish(dispatch_db, claim, Report(AttemptOutcome.FAILED, OutboxStatus.RETRYING, clock.now, detail="421",
                                       next_attempt_at=clock.now))
    [claim] = _claim(dispatch_db, clock)
    with transaction(session_factory(dispatch_db)) as session:
        [view] = deliveries_for_invoice(session, tenant, queued.invoice_id)
        assert view.entry.id == queued.entry_id
        assert [(a.number, a.outcome) for a in view.attempts] == [(1, "failed"), (2, "started")]
        assert deliveries_for_invoice(session, tenant, str(queued.invoice_id))[0].entry.id == queued.entry_id
        with pytest.raises(NotFound):
            deliveries_for_invoice(session, other, queued.invoice_id)
        with pytest.raises(NotFound):
            Outbox(session, other).view(queued.entry_id)
        assert Outbox(session, other).page() == []


def test_paging_continues_after_the_last_entry(make_tenant, dispatch_db):
    tenant = make_tenant(dispatch_db)
    ids = [queue_invoice(dispatch_db, tenant).entry_id for _ in range(5)]
    with transaction(session_factory(dispatch_db)) as session:
        outbox = Outbox(session, tenant)
        first = outbox.page(limit=2)
        rest = outbox.page(after=first[-1].id, limit=10)
        assert [e.id for e in first + rest] == [e.id for e in outbox.page()] and set(ids) == {e.id for e in first + rest}
        assert len(rest) == 3
        assert session.scalars(select(OutboxEntry.requeued_after).where(OutboxEntry.tenant_id == tenant)).all() == [0] * 5


def test_two_deliveries_of_one_invoice_finishing_together_leave_it_delivered(make_tenant, dispatch_db):
    tenant, clock = make_tenant(dispatch_db), FakeClock()
    mail = queue_invoice(dispatch_db, tenant, "email")
    with transaction(session_factory(dispatch_db)) as session:
        Outbox(session, tenant).enqueue(mail.invoice_id, "edi", {}, f"{mail.invoice_id}:edi", WORKER,
                                        not_before=clock.now)
    claims = _claim(dispatch_db, clock)
    factory = session_factory(dispatch_db)
    ok = Report(AttemptOutcome.OK, OutboxStatus.DELIVERED, clock.now)
    outcome: list[object] = []

    def second() -> None:
        with transaction(factory) as session:
            outcome.append(finish(session, claims[1], ok, WORKER))

    with transaction(factory) as session:
        assert finish(session, claims[0], ok, WORKER)  # holds the invoice until it commits
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive()  # waits its turn instead of reading a half-finished picture
    thread.join(timeout=30)
    assert outcome == [True]
    with transaction(factory) as session:
        assert Invoices(session, tenant).get(mail.invoice_id).status == "delivered"
