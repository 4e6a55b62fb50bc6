"""`POST /v1/evaluate` resolves key, customer and version in force with one statement: still exact, still safe."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

import pytest
from api_invoice_helpers import BUYER_VAT, customer, example, published, ruleset_text
from sqlalchemy import event, select

from aiguillage.api import create_app
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.models import RulesetVersion
from aiguillage.store.prepared import Prepared
from aiguillage.store.repositories.keys import ApiKeys, resolve

pytest_plugins = ["aiguillage.api.testing"]


def _evaluate(client, headers, body: bytes, query: str = "", content_type: str = "application/xml"):
    return client.post(
        f"/v1/evaluate{query}", data=body, headers={**headers, "Content-Type": content_type}
    )


def _revoke(url: str, plaintext: str) -> None:
    """Revoke a key from outside the app, as another worker or the CLI would."""
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        principal = resolve(session, plaintext)
        ApiKeys(session, principal.tenant_id).revoke(principal.key_id, CLI)
    engine.dispose()


def test_a_key_revoked_elsewhere_is_refused_on_its_next_evaluation(
    api_client, api_keys, sqlite_url, conformance
):
    key = api_keys("erp")
    assert (
        _evaluate(api_client, key.headers, example(conformance)).status_code == 200
    )  # the worker knows the key now
    _revoke(sqlite_url, key.plaintext)
    response = _evaluate(api_client, key.headers, example(conformance))
    assert (
        response.status_code == 401
        and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    )


@pytest.mark.parametrize(
    ("body", "content_type", "query"),
    [
        (b"hello", "text/plain", ""),  # 415 for a valid key
        (b"<Invoice", "application/xml", ""),  # 400: not XML
        (None, "application/xml", "?lang=!!"),  # 400: a wrong parameter
    ],
)
def test_a_revoked_key_is_401_whatever_else_is_wrong(
    api_client, api_keys, sqlite_url, conformance, body, content_type, query
):
    key = api_keys("erp")
    assert _evaluate(api_client, key.headers, example(conformance)).status_code == 200
    data = example(conformance) if body is None else body
    assert _evaluate(api_client, key.headers, data, query, content_type).status_code in (400, 415)
    _revoke(sqlite_url, key.plaintext)
    assert _evaluate(api_client, key.headers, data, query, content_type).status_code == 401


def test_a_role_that_may_not_evaluate_is_403_before_the_body_is_read(api_client, api_keys):
    key = api_keys("approver")
    for _ in range(2):  # unknown to the worker, then remembered
        response = _evaluate(api_client, key.headers, b"not an invoice at all")
        assert response.status_code == 403, response.get_json()


def test_a_revoked_key_of_a_role_that_may_not_evaluate_is_401_not_403(
    api_client, api_keys, sqlite_url
):
    key = api_keys("approver")
    assert (
        _evaluate(api_client, key.headers, b"<x/>").status_code == 403
    )  # remembered by the worker
    _revoke(sqlite_url, key.plaintext)
    assert _evaluate(api_client, key.headers, b"<x/>").status_code == 401


def test_a_driver_error_is_sqlalchemys_error(sqlite_url):
    """The API answers SQLAlchemy's OperationalError with 503; the prepared path must raise that, not sqlite3's."""
    from sqlalchemy import Column, MetaData, String, Table
    from sqlalchemy.exc import OperationalError

    missing = Table("no_such_table", MetaData(), Column("name", String))
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(OperationalError, match="no such table"):
            Prepared(select(missing.c.name)).rows(engine, {})
        assert (
            Prepared(select(RulesetVersion.number).where(RulesetVersion.number < 0)).rows(
                engine, {}
            )
            == []
        )
    finally:
        engine.dispose()


def test_each_tenant_sees_only_its_own_customers_and_rulesets(api_client, api_keys, conformance):
    first, second = api_keys("admin"), api_keys("admin")
    customer(api_client, first.headers, code="FIRST")  # both customers have the buyer's VAT id
    customer(api_client, second.headers, code="SECOND")
    published(
        api_client,
        first.headers,
        "one",
        ruleset_text("one", "otherwise -> print"),
        customer_code="FIRST",
    )
    published(
        api_client,
        second.headers,
        "two",
        ruleset_text("two", "otherwise -> portal"),
        customer_code="SECOND",
    )
    one = _evaluate(api_client, first.headers, example(conformance)).get_json()
    two = _evaluate(api_client, second.headers, example(conformance)).get_json()
    assert (one["customer"], one["ruleset"]["name"], one["routes"][0]["channel"]) == (
        "FIRST",
        "one",
        "print",
    )
    assert (two["customer"], two["ruleset"]["name"], two["routes"][0]["channel"]) == (
        "SECOND",
        "two",
        "portal",
    )
    # by code, another tenant's customer does not exist
    assert (
        _evaluate(api_client, first.headers, example(conformance), "?customer=SECOND").status_code
        == 404
    )


def test_the_customers_own_ruleset_wins_over_the_tenant_default(api_client, api_keys, conformance):
    key = api_keys("admin")
    customer(api_client, key.headers)
    customer(api_client, key.headers, code="OTHER", vat_identifier="NO1MVA")
    published(
        api_client,
        key.headers,
        "default",
        ruleset_text("default", "otherwise -> portal"),
        customer_code=None,
    )
    published(
        api_client,
        key.headers,
        "other",
        ruleset_text("other", "otherwise -> print"),
        customer_code="OTHER",
    )
    body = _evaluate(api_client, key.headers, example(conformance)).get_json()
    assert (body["customer"], body["ruleset"]["name"]) == ("NOBUY", "default")
    published(api_client, key.headers, "buyer", ruleset_text("buyer", "otherwise -> peppol"))
    body = _evaluate(api_client, key.headers, example(conformance)).get_json()
    assert (body["customer"], body["ruleset"]["name"], body["routes"][0]["channel"]) == (
        "NOBUY",
        "buyer",
        "peppol",
    )
    body = _evaluate(api_client, key.headers, example(conformance), "?customer=OTHER").get_json()
    assert (body["customer"], body["ruleset"]["name"]) == ("OTHER", "other")


def test_a_warm_evaluation_runs_one_sql_statement(sqlite_url, api_keys, conformance):
    """No session, no BEGIN or COMMIT: the key, the customer and the version in one select."""
    app = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    engine = app.extensions["aiguillage.database"].engine
    statements: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    engine.dispose()  # connections made from now on are traced
    try:
        client = app.test_client()
        key = api_keys("admin")
        customer(client, key.headers)
        published(client, key.headers, "buyer", ruleset_text("buyer"))
        assert (
            _evaluate(client, key.headers, example(conformance)).status_code == 200
        )  # compiles, remembers the key
        statements.clear()
        body = _evaluate(client, key.headers, example(conformance)).get_json()
        assert (body["customer"], body["ruleset"]["name"]) == ("NOBUY", "buyer")
        assert len(statements) == 1 and statements[0].startswith("WITH"), statements
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_prepared_statements_bind_and_read_through_the_column_types(
    backend, request, api_keys, key_issuer
):
    """UUIDs come back as `uuid.UUID` (text on SQLite), an aware datetime is bound as the store keeps it."""
    url = request.getfixturevalue(f"{backend}_url")
    key = key_issuer(url, "admin")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    try:
        client = app.test_client()
        customer(client, key.headers)
        published(client, key.headers, "buyer", ruleset_text("buyer"))
        engine = app.extensions["aiguillage.database"].engine
        statement = Prepared(
            select(
                RulesetVersion.id,
                RulesetVersion.tenant_id,
                RulesetVersion.number,
                RulesetVersion.effective_from,
            ).where(
                RulesetVersion.tenant_id == key.tenant_id,
                RulesetVersion.effective_from <= datetime.now(UTC),
            )
        )
        rows = statement.rows(engine, {})
        assert len(rows) == 1
        version_id, tenant_id, number, effective_from = rows[0]
        assert isinstance(version_id, uuid.UUID) and tenant_id == key.tenant_id and number == 1
        assert effective_from.tzinfo is not None and effective_from <= datetime.now(UTC)
        assert statement.rows(engine, {}) == rows  # compiled once, run again
    finally:
        app.extensions["aiguillage.database"].engine.dispose()


def test_the_buyers_vat_id_matches_in_either_form(api_client, api_keys, conformance):
    """Both forms of the id are bound: as written, and without spaces in capitals."""
    key = api_keys("admin")
    customer(api_client, key.headers, vat_identifier=BUYER_VAT)
    customer(api_client, key.headers, code="SPACED", vat_identifier="NO 1 MVA")
    data = example(conformance).replace(BUYER_VAT.encode(), b"no 987654321 mva")
    assert _evaluate(api_client, key.headers, data).get_json()["customer"] == "NOBUY"
    data = example(conformance).replace(BUYER_VAT.encode(), b"NO 1 MVA")
    assert _evaluate(api_client, key.headers, data).get_json()["customer"] == "SPACED"
