"""The lean write path (issue 11): a batch is recorded in two transactions, and decides exactly as single posts do.

The same invoices go to two tenants, one as a single `POST /v1/invoices:batch`
and one as a `POST /v1/invoices` each, in the same order. Every invoice must
end the same: status, audit trail (actions in order), events, deliveries,
and the look-alike findings (a duplicate inside the batch is a duplicate of
the batch's first, as it is of the first single post; the amount statistic
counts the batch's earlier invoices). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from aiguillage.api import create_app
from aiguillage.api.testing import issue_key
from aiguillage.testing.cluster import PORTAL_RULESET, invoice_document

pytest_plugins = ["aiguillage.api.testing"]

D1, D2 = date(2026, 11, 2), date(2026, 11, 3)
#: (number, charge, date): two look-alikes of L-1 (by amount and date, by number spelt otherwise), a usual
#: history, then an amount far above it, and one invoice the ruleset rejects is not in here (all valid).
INVOICES = [
    ("L-1", 20, D1), ("L-2", 20, D1), ("l-1 ", 25, D2),
    ("U-1", 30, D2), ("U-2", 31, D2), ("U-3", 32, D2), ("U-4", 33, D2), ("U-5", 34, D2), ("U-6", 35, D2),
    ("BIG-1", 9000, D2),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):  # noqa: ANN001, ANN201
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


def _tenant(client, url):  # noqa: ANN001, ANN202
    admin = issue_key(url, "admin")
    created = client.post("/v1/rulesets", json={"name": "default", "content": PORTAL_RULESET}, headers=admin.headers)
    assert created.status_code == 201, created.get_json()
    assert client.post(f"/v1/rulesets/{created.get_json()['id']}/publish", json={},
                       headers=admin.headers).status_code in (200, 201)
    return admin


def _story(client, headers, invoice_id, ids):  # noqa: ANN001, ANN202
    """What happened to one invoice, with other invoices' ids replaced by their position."""
    detail = client.get(f"/v1/invoices/{invoice_id}", headers=headers).get_json()
    position = {v: k for k, v in enumerate(ids)}
    audit = []
    for entry in detail["audit"]:
        shown = {k: v for k, v in entry["detail"].items() if k not in ("decision", "delivery", "idempotency_key")}
        if "of" in shown:
            shown["of"] = position[shown["of"]]
        if "reason" in shown and shown["reason"] and "probable duplicate of invoice" in shown["reason"]:
            shown["reason"] = shown["reason"].replace(shown["reason"].split()[4], str(position[shown["reason"].split()[4]]))
        audit.append((entry["action"], shown))
    events = client.get(f"/v1/events?invoice_id={invoice_id}&limit=100", headers=headers)
    types = [e["type"] for e in events.get_json()["items"]] if events.status_code == 200 else None
    assert types, events.get_json()
    return detail["status"], audit, [d["channel"] for d in detail["deliveries"]], types


def test_a_batch_decides_every_invoice_as_single_posts_do(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    try:
        client = app.test_client()
        batched, single = _tenant(client, database_url), _tenant(client, database_url)
        documents = [invoice_document(number, charge=charge, issue_date=day) for number, charge, day in INVOICES]

        body = "\n".join(json.dumps({"idempotency_key": f"k-{i}", "document": d.decode()})
                         for i, d in enumerate(documents))
        answer = client.post("/v1/invoices:batch", data=body,
                             headers={**batched.headers, "Content-Type": "application/x-ndjson"}).get_json()
        assert [item["status"] for item in answer["items"]] == [202] * len(documents)
        batch_ids = [item["id"] for item in answer["items"]]

        single_ids, single_status = [], []
        for i, document in enumerate(documents):
            posted = client.post("/v1/invoices", data=document, headers={
                **single.headers, "Content-Type": "application/json", "Idempotency-Key": f"k-{i}"})
            assert posted.status_code == 202
            single_ids.append(posted.get_json()["id"])
            single_status.append(posted.get_json()["status"])

        assert [item["invoice_status"] for item in answer["items"]] == single_status
        assert single_status[:3] == ["queued", "held", "held"]  # the look-alikes of L-1 are held
        for batch_id, single_id in zip(batch_ids, single_ids, strict=True):
            assert _story(client, batched.headers, batch_id, batch_ids) == _story(
                client, single.headers, single_id, single_ids)

        l2 = _story(client, batched.headers, batch_ids[1], batch_ids)[1]
        assert ("invoice.duplicate", {"of": 0, "by": "buyer, amount and date"}) in l2
        l1_again = _story(client, batched.headers, batch_ids[2], batch_ids)[1]
        assert ("invoice.duplicate", {"of": 0, "by": "number"}) in l1_again
        big = [action for action, _ in _story(client, batched.headers, batch_ids[-1], batch_ids)[1]]
        assert big == ["invoice.receive", "invoice.decide", "invoice.status", "invoice.unusual_amount",
                       "delivery.queue"]

        # The whole batch again: every item gets its first answer again (replayed), nothing stored or decided twice.
        again = client.post("/v1/invoices:batch", data=body,
                            headers={**batched.headers, "Content-Type": "application/x-ndjson"}).get_json()
        assert [(i["status"], i["id"], i["replayed"]) for i in again["items"]] == [(202, i, True) for i in batch_ids]
        assert again["summary"] == {"items": len(documents), "stored": 0, "repeated": len(documents), "failed": 0}
    finally:
        app.extensions["aiguillage.database"].engine.dispose()


def test_an_item_repeated_inside_its_batch_is_stored_once(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    try:
        client = app.test_client()
        key = _tenant(client, database_url)
        one, other = invoice_document("R-1", charge=40), invoice_document("R-2", charge=41)
        items = [{"idempotency_key": "r-1", "document": one.decode()},
                 {"idempotency_key": "r-1", "document": one.decode()},   # the same item twice: a repeat
                 {"idempotency_key": "r-1", "document": other.decode()},  # the key for another invoice: 409
                 {"idempotency_key": "r-2", "document": other.decode()}]
        answer = client.post("/v1/invoices:batch", json=items, headers=key.headers).get_json()
        assert [(i["status"], i["replayed"]) for i in answer["items"]] == [(202, False), (202, True), (409, None),
                                                                         (202, False)]
        assert answer["items"][1]["id"] == answer["items"][0]["id"]
        assert answer["items"][2]["problem"]["existing"] == answer["items"][0]["id"]
        assert answer["items"][1]["invoice_status"] == answer["items"][0]["invoice_status"] == "queued"
    finally:
        app.extensions["aiguillage.database"].engine.dispose()
