"""`/v1/invoices`: store first, decide, queue; idempotency; listings; one invoice; its documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_invoice_helpers import FAILING_RULE, customer, example, published, ruleset_text, xml

from aiguillage.model.syntaxes import read_invoice, write_invoice

pytest_plugins = ["aiguillage.api.testing"]


def _submit(client, headers, body: bytes, key: str | None = None, query: str = ""):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/v1/invoices{query}", data=body, headers=xml(headers, **extra))


@pytest.fixture
def admin(api_client, api_keys):
    """An admin key of a tenant whose customer NOBUY (the buyer of example 2) e-mails its invoices."""
    key = api_keys("admin")
    customer(api_client, key.headers)
    return key


def test_a_submission_is_stored_decided_and_queued(api_client, admin, conformance):
    published(api_client, admin.headers, "buyer", ruleset_text("buyer"))
    response = _submit(api_client, admin.headers, example(conformance), "k-1")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "queued" and body["duplicate"] is False
    assert response.headers["Location"] == body["status_url"] == f"/v1/invoices/{body['id']}"

    detail = api_client.get(body["status_url"], headers=admin.headers).get_json()
    assert detail["customer"] == "NOBUY" and detail["number"] == "TOSL108" and detail["status"] == "queued"
    assert detail["decision"]["outcome"] == "queued" and detail["decision_count"] == 1
    assert detail["decision"]["result"]["routes"][0]["channel"] == "email"
    [delivery] = detail["deliveries"]
    assert (delivery["channel"], delivery["status"], delivery["attempts"]) == ("email", "pending", [])
    assert [e["action"] for e in detail["audit"]] == ["invoice.receive", "invoice.decide", "invoice.status",
                                                     "delivery.queue"]
    assert all(e["actor"].startswith("key:") for e in detail["audit"])


def test_holds_are_recorded_and_nothing_is_queued(api_client, admin, conformance):
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", 'otherwise -> approval by "finance", then peppol'))
    body = _submit(api_client, admin.headers, example(conformance)).get_json()
    assert body["status"] == "held"
    detail = api_client.get(body["status_url"], headers=admin.headers).get_json()
    assert detail["deliveries"] == [] and detail["decision"]["result"]["holds"][0]["role"] == "finance"
    hold = next(e for e in detail["audit"] if e["action"] == "invoice.hold")
    assert hold["detail"]["routes_waiting"] == 1


def test_blocking_findings_reject_the_invoice(api_client, admin, conformance):
    published(api_client, admin.headers, "buyer", ruleset_text("buyer", validate=FAILING_RULE))
    body = _submit(api_client, admin.headers, example(conformance)).get_json()
    assert body["status"] == "rejected"
    detail = api_client.get(body["status_url"], headers=admin.headers).get_json()
    assert detail["deliveries"] == [] and detail["decision"]["outcome"] == "rejected"


def test_idempotency_key_and_number(api_client, admin, conformance):
    published(api_client, admin.headers, "buyer", ruleset_text("buyer"))
    data = example(conformance)
    first = _submit(api_client, admin.headers, data, "k-1")
    assert first.status_code == 202
    again = _submit(api_client, admin.headers, data, "k-1")
    assert again.status_code == 202 and again.get_json() == first.get_json()  # the first answer, given again
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    # Same seller and number, same content, no key (or another key): the same invoice.
    assert _submit(api_client, admin.headers, data).get_json()["id"] == first.get_json()["id"]
    in_cii = _submit(api_client, admin.headers, write_invoice(read_invoice(data), "cii"))
    assert in_cii.get_json() == first.get_json() and in_cii.headers["Idempotent-Replayed"] == "true"
    # Only one delivery was ever queued.
    detail = api_client.get(first.headers["Location"], headers=admin.headers).get_json()
    assert len(detail["deliveries"]) == 1 and detail["decision_count"] == 1

    changed = read_invoice(data)
    changed.buyer_reference = "another"
    other = write_invoice(changed, "ubl")
    response = _submit(api_client, admin.headers, other, "k-1")
    assert response.status_code == 409 and response.get_json()["existing"] == first.get_json()["id"]
    response = _submit(api_client, admin.headers, other)
    assert response.status_code == 409 and "TOSL108" in response.get_json()["detail"]


def test_listing_filters_and_pages(api_client, admin, conformance):
    published(api_client, admin.headers, "buyer", ruleset_text("buyer"))
    ids = []
    for cents, number in enumerate(("L-1", "L-2", "L-3")):
        invoice = read_invoice(example(conformance))
        invoice.number = number
        invoice.totals.amount_with_vat += Decimal(cents) / 100  # else L-2 and L-3 are held as probable duplicates
        ids.append(_submit(api_client, admin.headers, write_invoice(invoice, "ubl")).get_json()["id"])
    page = api_client.get("/v1/invoices?limit=2&status=queued", headers=admin.headers)
    body = page.get_json()
    assert [i["id"] for i in body["items"]] == ids[::-1][:2]
    assert body["next"] and page.headers["Link"] == f'<{body["next_url"]}>; rel="next"'
    rest = api_client.get(body["next_url"], headers=admin.headers).get_json()
    assert [i["id"] for i in rest["items"]] == ids[:1] and rest["next"] is None
    assert api_client.get("/v1/invoices?status=rejected", headers=admin.headers).get_json()["items"] == []
    assert len(api_client.get("/v1/invoices?customer=NOBUY", headers=admin.headers).get_json()["items"]) == 3
    assert api_client.get("/v1/invoices?customer=ZZ", headers=admin.headers).get_json()["items"] == []
    dated = api_client.get("/v1/invoices?issued_from=2013-06-30&issued_to=2013-06-30", headers=admin.headers)
    assert len(dated.get_json()["items"]) == 3
    assert api_client.get("/v1/invoices?issued_from=2014-01-01", headers=admin.headers).get_json()["items"] == []
    response = api_client.get("/v1/invoices?after=garbage", headers=admin.headers)
    assert response.status_code == 400 and response.get_json()["errors"][0]["parameter"] == "after"


@pytest.mark.parametrize(("fmt", "mimetype"), [
    ("original", "application/xml"), ("ubl", "application/xml"), ("cii", "application/xml"),
    ("facturx", "application/pdf"), ("pdf", "application/pdf"), ("json", "application/json"),
])
def test_documents(api_client, admin, conformance, fmt, mimetype):
    data = example(conformance)
    location = _submit(api_client, admin.headers, data).headers["Location"]
    response = api_client.get(f"{location}/document?format={fmt}", headers=admin.headers)
    assert response.status_code == 200 and response.mimetype == mimetype
    if fmt == "original":
        assert response.data == data
    elif fmt != "pdf":
        assert read_invoice(response.data).number == "TOSL108"


def test_another_tenant_gets_404_never_the_invoice(api_client, admin, api_keys, conformance):
    location = _submit(api_client, admin.headers, example(conformance)).headers["Location"]
    stranger = api_keys("admin")
    for path in (location, f"{location}/document", f"{location}/document?format=pdf"):
        response = api_client.get(path, headers=stranger.headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert api_client.get("/v1/invoices", headers=stranger.headers).get_json()["items"] == []


def test_a_customer_key_sees_only_its_customers_invoices(api_client, admin, api_keys, conformance):
    location = _submit(api_client, admin.headers, example(conformance)).headers["Location"]
    portal = api_keys("customer", admin.tenant_name)  # bound to customer C1
    assert api_client.get(location, headers=portal.headers).status_code == 404
    assert api_client.get("/v1/invoices", headers=portal.headers).get_json()["items"] == []
    assert api_client.get("/v1/invoices?customer=NOBUY", headers=portal.headers).get_json()["items"] == []


@pytest.mark.parametrize("role", ["analyst", "approver", "customer"])
def test_roles_that_may_not_submit_get_403(api_client, api_keys, conformance, role):
    key = api_keys(role)
    assert _submit(api_client, key.headers, example(conformance)).status_code == 403


def test_unreadable_submissions_store_nothing(api_client, admin):
    response = _submit(api_client, admin.headers, b"<Invoice>\n<a>\n</Invoice>")
    assert response.status_code == 400 and response.get_json()["line"] == 3
    assert api_client.get("/v1/invoices", headers=admin.headers).get_json()["items"] == []


def test_an_unknown_invoice_is_404(api_client, admin):
    response = api_client.get("/v1/invoices/00000000-0000-0000-0000-000000000000", headers=admin.headers)
    assert response.status_code == 404


def test_times_without_a_zone_are_400_not_500(api_client, admin):
    import base64

    response = api_client.get("/v1/invoices?received_from=2026-01-01T00:00:00", headers=admin.headers)
    assert response.status_code == 400 and response.get_json()["errors"][0]["parameter"] == "received_from"
    assert api_client.get("/v1/invoices?received_from=2026-01-01T00:00:00Z", headers=admin.headers).status_code == 200
    naive = base64.urlsafe_b64encode(b"2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000").decode()
    assert api_client.get(f"/v1/invoices?after={naive}", headers=admin.headers).status_code == 400


def test_an_invoice_whose_customer_is_in_doubt_is_stored_and_held(api_client, admin, conformance):
    customer(api_client, admin.headers, code="TWIN")  # a second customer with the buyer's VAT id
    body = _submit(api_client, admin.headers, example(conformance)).get_json()
    assert body["status"] == "held"
    detail = api_client.get(body["status_url"], headers=admin.headers).get_json()
    assert detail["customer"] is None and detail["decision"] is None
    status = next(e for e in detail["audit"] if e["action"] == "invoice.status")
    assert "several customers" in status["detail"]["reason"]
    assert _submit(api_client, admin.headers, example(conformance), query="?customer=NOPE").status_code == 404


def test_a_repeat_finishes_deciding_an_invoice_left_received(api_client, admin, sqlite_url, conformance):
    """A crash between storing and deciding leaves `received`; the ERP's retry completes the work."""
    from aiguillage.model.syntaxes import read_invoice as read
    from aiguillage.store.actor import CLI
    from aiguillage.store.database import make_engine, session_factory, transaction
    from aiguillage.store.repositories.invoices import Invoices

    published(api_client, admin.headers, "buyer", ruleset_text("buyer"))
    data = example(conformance)
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        stored = Invoices(session, admin.tenant_id).receive(read(data), data, CLI, idempotency_key="k-9").invoice.id
    engine.dispose()
    response = _submit(api_client, admin.headers, data, "k-9")
    assert response.status_code == 202 and response.get_json()["id"] == str(stored)
    assert response.get_json()["status"] == "queued" and response.headers["Idempotent-Replayed"] == "true"
    # What the retry answered is the answer from now on (the crashed request answered nothing).
    assert _submit(api_client, admin.headers, data, "k-9").get_json() == response.get_json()


def test_a_factur_x_pdf_is_accepted_and_kept_as_sent(api_client, admin, conformance):
    pdf = write_invoice(read_invoice(example(conformance)), "facturx")
    response = api_client.post("/v1/invoices", data=pdf, headers={**admin.headers, "Content-Type": "application/pdf"})
    assert response.status_code == 202
    original = api_client.get(f"{response.headers['Location']}/document", headers=admin.headers)
    assert original.mimetype == "application/pdf" and original.data == pdf
