"""Web users in the store: argon2id passwords, one-time links (single use, expiry), sessions, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aiguillage.store.actor import CLI
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.users import WebUsers, end_session, redeem_link, session_user

pytest_plugins = ["aiguillage.store.testing"]


def _customer(session, tenant_id, code="C1"):
    Customers(session, tenant_id).create({"code": code, "name": code, "language": "fr"}, CLI)


def test_customer_user_needs_an_existing_customer_of_the_tenant(store_tx, tenant_id, make_tenant, store_engine):
    other = make_tenant(store_engine)
    with store_tx() as session:
        _customer(session, other, "C1")
    with store_tx() as session, pytest.raises(Invalid, match="no customer with code C1"):
        WebUsers(session, tenant_id).create("a@x.example", "A", "customer", CLI, customer_code="C1")
    with store_tx() as session, pytest.raises(Invalid, match="needs a customer"):
        WebUsers(session, tenant_id).create("a@x.example", "A", "customer", CLI)
    with store_tx() as session:
        _customer(session, tenant_id)
        WebUsers(session, tenant_id).create("A@X.example", "A", "customer", CLI, customer_code="C1")
    with store_tx() as session, pytest.raises(Conflict):
        WebUsers(session, tenant_id).create("a@x.example", "A", "admin", CLI)


def test_password_is_argon2id_and_verifies(store_tx, tenant_id):
    with store_tx() as session:
        users = WebUsers(session, tenant_id)
        user = users.create("p@x.example", "P", "admin", CLI)
        with pytest.raises(Invalid, match="at least 12"):
            users.set_password(user, "short", CLI)
        users.set_password(user, "correct horse battery", CLI)
        assert user.password_hash.startswith("$argon2id$")
    with store_tx() as session:
        users = WebUsers(session, tenant_id)
        assert users.verify_password("P@x.example", "correct horse battery").email == "p@x.example"
        assert users.verify_password("p@x.example", "wrong horse battery") is None
        assert users.verify_password("nobody@x.example", "correct horse battery") is None


def test_link_works_once_and_not_after_expiry(store_tx, tenant_id):
    with store_tx() as session:
        users = WebUsers(session, tenant_id)
        user = users.create("l@x.example", "L", "ar", CLI)
        token = users.issue_link(user, CLI)
        stale = users.issue_link(user, CLI, now=utcnow() - timedelta(days=2))
    with store_tx() as session:
        assert redeem_link(session, token).email == "l@x.example"
    with store_tx() as session:
        assert redeem_link(session, token) is None, "a link must not work twice"
        assert redeem_link(session, stale) is None, "an expired link must not work"
        assert redeem_link(session, token + "x") is None


def test_session_ends_on_sign_out_and_expiry(store_tx, tenant_id):
    with store_tx() as session:
        users = WebUsers(session, tenant_id)
        user = users.create("s@x.example", "S", "approver", CLI)
        signed = users.start_session(user, how="password")
        old = users.start_session(user, how="password", now=utcnow() - timedelta(days=1))
    with store_tx() as session:
        assert session_user(session, signed.token).email == "s@x.example"
        assert session_user(session, old.token) is None
        end_session(session, signed.token)
    with store_tx() as session:
        assert session_user(session, signed.token) is None


def test_two_browsers_racing_with_one_link_get_in_once(store_tx, store_engine, tenant_id):
    import threading

    from aiguillage.store.database import session_factory, transaction

    with store_tx() as session:
        users = WebUsers(session, tenant_id)
        token = users.issue_link(users.create("race@x.example", "R", "analyst", CLI), CLI)
    barrier = threading.Barrier(8)
    winners: list[str] = []

    def redeem() -> None:
        barrier.wait()
        try:
            with transaction(session_factory(store_engine)) as session:
                user = redeem_link(session, token)
                if user is not None:
                    winners.append(user.email)
        except Exception as exc:  # noqa: BLE001 - SQLite may refuse a concurrent writer: a loss, not a win
            if "locked" not in str(exc):
                winners.append(f"error: {exc!r}")

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert winners == ["race@x.example"]
