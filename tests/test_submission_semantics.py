"""What an ERP can rely on when it submits (issue 11): an error means "not stored", a stored invoice is never an error.

- saturation answers 503 with Retry-After before anything is stored;
- a ruleset that fails on an invoice after it was stored holds it (202), never a 500;
- contention is retried in the server: the retry helper runs the unit of work again on the
  errors the database really raises when two transactions meet, and never on anything else;
- a repeat (same key, or same seller, number and content; alone or in a batch) gets the first
  answer again, byte for byte, whatever happened to the invoice since, marked `Idempotent-Replayed`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from aiguillage.api.admission import KEYS_EXTENSION, key_of
from aiguillage.api.submission import decide_received
from aiguillage.store.actor import Actor
from aiguillage.store.contention import StillContended, is_contention, retrying
from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.testing.cluster import invoice_document

pytest_plugins = ["aiguillage.api.testing"]


def _submit(client, key, number: str, idempotency_key: str, **document):  # noqa: ANN001, ANN202
    return client.post("/v1/invoices", data=invoice_document(number, **document),
                       headers={**key.headers, "Content-Type": "application/json", "Idempotency-Key": idempotency_key})


def _stored(app, key) -> list[str]:  # noqa: ANN001
    engine = app.extensions["aiguillage.database"].engine
    with session_factory(engine)() as session:
        return list(session.scalars(select(InvoiceRecord.number).where(InvoiceRecord.tenant_id == key.tenant_id)))


def test_saturation_answers_503_with_retry_after_before_storing(api_app, api_client, api_keys):
    api_app.config["ADMISSION_WAIT_S"] = 0.05
    key = api_keys("erp")
    slots = api_app.extensions["aiguillage.admission"]
    taken = 0
    while slots.acquire(blocking=False):  # every slot busy, as under a month-end burst
        taken += 1
    try:
        response = _submit(api_client, key, "SAT-1", "sat-1")
        assert response.status_code == 503, response.get_json()
        assert response.headers["Retry-After"] == "1"
        assert "nothing was stored" in response.get_json()["detail"]
        assert _stored(api_app, key) == []
    finally:
        for _ in range(taken):
            slots.release()
    response = _submit(api_client, key, "SAT-1", "sat-1")
    assert response.status_code == 202, response.get_json()
    assert _stored(api_app, key) == ["SAT-1"]


def test_a_ruleset_failing_after_storing_holds_the_invoice_instead_of_an_error(api_app, api_client, api_keys,
                                                                                monkeypatch):
    key = api_keys("erp")

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202 - a ruleset bug met at run time
        raise ZeroDivisionError("division by zero in a generated rule")

    monkeypatch.setattr("aiguillage.api.submission.decide", broken)
    response = _submit(api_client, key, "BROKEN-1", "broken-1")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "held"
    detail = api_client.get(response.get_json()["status_url"], headers=key.headers).get_json()
    reasons = [e["detail"].get("reason") for e in detail["audit"] if e["action"] == "invoice.status"]
    assert any("the ruleset failed on this invoice (ZeroDivisionError)" in (r or "") for r in reasons)


def test_a_repeat_with_the_same_key_answers_the_first_invoice(api_client, api_keys):
    key = api_keys("erp")
    first = _submit(api_client, key, "REP-1", "rep-1")
    again = _submit(api_client, key, "REP-1", "rep-1")
    assert first.status_code == 202 and again.status_code == 202
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and first.get_json()["duplicate"] is False
    assert first.get_json()["status"] != "received"


@pytest.fixture
def erp(db_backend, store_engine, key_issuer) -> Iterator[tuple]:  # noqa: ANN001
    """An app on the backend under test, its client and an ERP key of a fresh tenant."""
    from aiguillage.api import create_app

    url = store_engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    yield app, app.test_client(), key_issuer(url, "erp")
    app.extensions["aiguillage.database"].engine.dispose()


def _move_on(store_engine, tenant_id: uuid.UUID, invoice_id: str, status: str) -> None:  # noqa: ANN001
    """The invoice's life goes on after the answer (delivered, released, …)."""
    with session_factory(store_engine)() as session:
        Invoices(session, tenant_id).set_status(uuid.UUID(invoice_id), status, Actor("test"), reason="moved on")
        session.commit()


def test_a_repeat_gets_the_first_answer_after_the_invoice_moved_on(erp, store_engine):
    """First answer 202 `held`; the invoice is delivered since; a repeat gets the first body again, plus the header."""
    _app, client, key = erp
    first = _submit(client, key, "FIRST-1", "first-1")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    answered = first.get_json()
    assert answered["status"] == "held", answered  # no ruleset for this tenant: held, saying why
    _move_on(store_engine, key.tenant_id, answered["id"], "delivered")
    assert client.get(answered["status_url"], headers=key.headers).get_json()["status"] == "delivered"

    again = _submit(client, key, "FIRST-1", "first-1")
    assert again.status_code == 202, again.get_json()
    assert json.loads(again.data) == json.loads(first.data) == answered
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    # Same seller, number and content under another key: the same invoice, the same first answer.
    other = _submit(client, key, "FIRST-1", "first-1-resent")
    assert (other.status_code, other.get_json(), other.headers["Idempotent-Replayed"]) == (202, answered, "true")


def test_a_batch_repeat_answers_each_item_with_its_first_answer(erp, store_engine):
    _app, client, key = erp
    items = [{"idempotency_key": f"batch-first-{n}", "invoice": json.loads(invoice_document(f"BF-{n}", charge=20 + n))}
             for n in range(2)]
    headers = {**key.headers, "Content-Type": "application/json"}
    first = client.post("/v1/invoices:batch", json=items, headers=headers).get_json()
    assert [(i["status"], i["replayed"]) for i in first["items"]] == [(202, False)] * 2, first
    _move_on(store_engine, key.tenant_id, first["items"][0]["id"], "delivered")
    again = client.post("/v1/invoices:batch", json=items, headers=headers).get_json()
    assert again["items"] == [{**item, "replayed": True} for item in first["items"]]
    assert again["summary"] == {"items": 2, "stored": 0, "repeated": 2, "failed": 0}


def test_a_first_answer_received_is_replayed_after_the_recovery_pass(erp, store_engine, monkeypatch):
    """Deciding failed: the first answer says `received`; the recovery pass decides; a repeat still says `received`."""
    _app, client, key = erp

    def unavailable(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202 - the store failing between the transactions
        raise RuntimeError("database went away")

    monkeypatch.setattr("aiguillage.api.submission.select_for_customer", unavailable)
    first = _submit(client, key, "LATE-1", "late-1")
    assert first.status_code == 202 and first.get_json()["status"] == "received", first.get_json()
    monkeypatch.undo()
    with session_factory(store_engine)() as session:  # what `recovery.recover_received` does for it
        decided = decide_received(session, key.tenant_id, Actor("recovery"), uuid.UUID(first.get_json()["id"]))
    assert decided == "held"
    again = _submit(client, key, "LATE-1", "late-1")
    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (202, first.get_json(), "true")


def test_a_repeat_that_decides_a_received_invoice_is_the_answer_repeats_get(erp, store_engine, monkeypatch):
    """The first request could not decide (answered `received`); the repeat decides it: later repeats get that."""
    _app, client, key = erp
    monkeypatch.setattr("aiguillage.api.submission.select_for_customer",
                        lambda *_a, **_k: (_ for _ in ()).throw(RuntimeError("database went away")))
    assert _submit(client, key, "LATE-2", "late-2").get_json()["status"] == "received"
    monkeypatch.undo()
    deciding = _submit(client, key, "LATE-2", "late-2")
    assert deciding.status_code == 202 and deciding.get_json()["status"] == "held"
    assert deciding.headers["Idempotent-Replayed"] == "true"
    _move_on(store_engine, key.tenant_id, deciding.get_json()["id"], "delivered")
    assert _submit(client, key, "LATE-2", "late-2").get_json() == deciding.get_json()


def test_contention_the_database_really_raises_is_retried(db_backend, store_engine):
    """Two transactions insert the same key: the loser's IntegrityError is contention, retried until it passes."""
    with store_engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS contention_probe (k VARCHAR(20) PRIMARY KEY)"))
        connection.execute(text("DELETE FROM contention_probe"))
        connection.execute(text("INSERT INTO contention_probe VALUES ('taken')"))
    factory = session_factory(store_engine)
    with factory() as session:
        try:
            session.execute(text("INSERT INTO contention_probe VALUES ('taken')"))
            session.flush()
        except IntegrityError as exc:
            assert is_contention(exc)
        else:
            pytest.fail("the unique index let a second row in")
    with factory() as session:
        attempts: list[int] = []

        def work() -> str:
            attempts.append(1)
            value = "taken" if len(attempts) < 3 else "free"
            session.execute(text("INSERT INTO contention_probe VALUES (:v)"), {"v": value})
            session.commit()
            return value

        assert retrying(session, work) == "free" and len(attempts) == 3
        with pytest.raises(StillContended):
            retrying(session, lambda: session.execute(text("INSERT INTO contention_probe VALUES ('taken')")),
                     attempts=2)
        with pytest.raises(ZeroDivisionError):  # not contention: raised at once
            retrying(session, lambda: 1 / 0)


def test_concurrent_repeats_store_once_and_answer_one_id(db_backend, store_engine, key_issuer):
    """Eight threads send the same invoice with the same key at once: one row, one id in every answer."""
    from aiguillage.api import create_app

    url = store_engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    key = key_issuer(url, "erp")
    answers: list[tuple[int, str]] = []
    bodies: list[tuple[dict, str | None]] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        response = _submit(client, key, "RACE-1", "race-1")
        answers.append((response.status_code, response.get_json().get("id")))
        bodies.append((response.get_json(), response.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s for s, _ in answers) == [202] * 8, answers
    assert sorted(str(replayed) for _, replayed in bodies) == ["None"] + ["true"] * 7  # one stored, seven repeats
    assert all(body == bodies[0][0] for body, _ in bodies), bodies  # every repeat got the first answer
    assert len({i for _, i in answers}) == 1
    engine = make_engine(url)
    with session_factory(engine)() as session:
        statuses = session.scalars(select(InvoiceRecord.status).where(InvoiceRecord.tenant_id == key.tenant_id)).all()
        assert len(statuses) == 1 and statuses[0] != "received"
    engine.dispose()
    app.extensions["aiguillage.database"].engine.dispose()


def test_one_key_over_its_share_answers_429_the_server_saturated_503_both_before_storing(api_app, api_client,
                                                                                        api_keys):
    """429 + Retry-After for one key holding its share of the slots; another key still gets in; nothing stored."""
    api_app.config["ADMISSION_WAIT_S"] = 0.05
    busy_key = api_keys("erp")
    other = api_keys("erp", busy_key.tenant_name)
    shares = api_app.extensions[KEYS_EXTENSION]
    shares.limit = 2
    digest = key_of(busy_key.headers["Authorization"])
    assert shares.enter(digest) and shares.enter(digest)  # two of its requests in flight, as under a burst
    try:
        refused = _submit(api_client, busy_key, "SHARE-1", "share-1")
        assert refused.status_code == 429, refused.get_json()
        assert refused.headers["Retry-After"] == "1" and "nothing was stored" in refused.get_json()["detail"]
        assert _stored(api_app, busy_key) == []
        assert _submit(api_client, other, "SHARE-2", "share-2").status_code == 202  # the other key is not held up
    finally:
        shares.leave(digest)
        shares.leave(digest)
    assert _submit(api_client, busy_key, "SHARE-1", "share-1").status_code == 202
    assert sorted(_stored(api_app, busy_key)) == ["SHARE-1", "SHARE-2"]
    assert shares.enter(digest)  # every admitted request gave its count back
    shares.leave(digest)
