"""What an ERP can rely on when it submits (issue 11): an error means "not stored", a stored invoice is never an error.

- saturation answers 503 with Retry-After before anything is stored;
- a ruleset that fails on an invoice after it was stored holds it (202), never a 500;
- contention is retried in the server: the retry helper runs the unit of work again on the
  errors the database really raises when two transactions meet, and never on anything else.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from aiguillage.api.admission import KEYS_EXTENSION, key_of
from aiguillage.store.contention import StillContended, is_contention, retrying
from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord
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
    assert first.status_code == 202 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["duplicate"] is True
    assert again.get_json()["status"] == first.get_json()["status"] != "received"


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
    barrier = threading.Barrier(8)

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        response = _submit(client, key, "RACE-1", "race-1")
        answers.append((response.status_code, response.get_json().get("id")))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s for s, _ in answers) == [200] * 7 + [202], answers
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
