"""Card payment end to end over real HTTP on loopback, on PostgreSQL: the app (served by werkzeug) asks the
loopback Stripe for a hosted checkout through the official `stripe` library; the PSP signs its webhook as
Stripe does and the library's verification accepts it; tampered, mis-signed or stale webhooks are refused;
redeliveries, even concurrent, settle the payment once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from payments_helpers import invoice
from sqlalchemy import func, select
from werkzeug.serving import make_server

from aiguillage.api import create_app
from aiguillage.payments.testing.stripe_server import LoopbackStripe
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.payment_models import Payment, PspEvent

pytest_plugins = ["aiguillage.api.testing"]

API_KEY, SECRET = "sk_test_aiguillage", "whsec_loopback_secret"


@pytest.fixture
def served(postgres_url: str) -> Iterator[tuple[str, LoopbackStripe]]:
    """The app on a real loopback HTTP server, wired to a loopback Stripe that calls its webhook back."""
    with LoopbackStripe(API_KEY, SECRET) as psp:
        app = create_app({"DATABASE_URL": postgres_url, "STRIPE_API_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": SECRET,
                          "STRIPE_API_BASE": psp.base_url})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        psp.webhook_url = f"{base}/v1/payments/webhooks/stripe"
        try:
            yield base, psp
        finally:
            server.shutdown()
            app.extensions["aiguillage.database"].engine.dispose()


def _invoices(url: str, tenant_id, *specs: tuple[str, str, str]) -> list:  # noqa: ANN001
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            return [invoice(session, tenant_id, number, amount, customer=customer) for number, amount, customer in specs]
    finally:
        engine.dispose()


def _count(url: str, tenant_id, model) -> int:  # noqa: ANN001
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            return session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id))
    finally:
        engine.dispose()


def test_card_checkout_paid_through_a_signed_webhook_once(served, key_issuer, postgres_url):
    base, psp = served
    buyer = key_issuer(postgres_url, "customer")  # customer C1
    erp = key_issuer(postgres_url, "erp", buyer.tenant_name)
    first, second, theirs = _invoices(postgres_url, buyer.tenant_id, ("CARD-0001", "120.00", "C1"),
                                      ("CARD-0002", "30.50", "C1"), ("CARD-0003", "99.00", "C2"))
    body = {"customer_code": "C1", "invoice_ids": [str(first), str(second)],
            "success_url": "https://portal.example/paid", "cancel_url": "https://portal.example/cancel"}
    headers = {**buyer.headers, "Idempotency-Key": "form-token-1"}
    started = requests.post(f"{base}/v1/payments/checkout", json=body, headers=headers, timeout=30)
    assert started.status_code == 201, started.text
    again = requests.post(f"{base}/v1/payments/checkout", json=body, headers=headers, timeout=30).json()
    checkout = started.json()
    assert again["id"] == checkout["id"] and checkout["amount"] == "150.50"
    assert checkout["redirect_url"].startswith(psp.base_url + "/c/pay/cs_test_") and len(psp.sessions) == 1
    [(method, path, sent)] = [r for r in psp.requests if r[0] == "POST"]
    assert path == "/v1/checkout/sessions" and sent["mode"] == "payment"
    assert [(i["price_data"]["unit_amount"], i["price_data"]["product_data"]["name"]) for i in sent["line_items"]] \
        == [("12000", "Facture / Invoice CARD-0001"), ("3050", "Facture / Invoice CARD-0002")]
    assert not {"card", "payment_method_data", "source"} & set(sent)  # no card data ever leaves or enters

    session_id = checkout["redirect_url"].rsplit("/", 1)[1]
    event_id = psp.pay(session_id, deliver=False)
    # Tampered after signing, signed with another secret, or too old: refused, nothing recorded.
    assert psp.deliver(event_id, tamper=True)[0] == 400
    assert psp.deliver(event_id, secret="whsec_someone_else")[0] == 400
    assert psp.deliver(event_id, timestamp=1_000_000_000)[0] == 400
    assert _count(postgres_url, buyer.tenant_id, Payment) == 0

    # The genuine event, delivered eight times at once: one payment, one settlement.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _i: psp.deliver(event_id), range(8)))
    assert [status for status, _ in answers] == [200] * 8
    outcomes = sorted(requests.models.complexjson.loads(body)["outcome"] for _, body in answers)
    assert outcomes.count("duplicate") == 7 and outcomes[-1].startswith("paid: 2 allocation(s)")
    assert _count(postgres_url, buyer.tenant_id, Payment) == 1
    for invoice_id in (first, second):
        balance = requests.get(f"{base}/v1/invoices/{invoice_id}/balance", headers=buyer.headers, timeout=30).json()
        assert balance["status"] == "paid"
    [payment] = requests.get(f"{base}/v1/payments", headers=erp.headers, timeout=30).json()["items"]
    assert (payment["source"], payment["amount"], payment["status"]) == ("card", "150.50", "allocated")

    # A customer pays only its own invoices; a paid invoice cannot be paid again.
    other = requests.post(f"{base}/v1/payments/checkout", headers=buyer.headers, timeout=30,
                          json={**body, "invoice_ids": [str(theirs)]})
    assert other.status_code == 404
    assert requests.post(f"{base}/v1/payments/checkout", headers=buyer.headers, timeout=30,
                         json={**body, "customer_code": "C2", "invoice_ids": [str(theirs)]}).status_code == 404
    assert requests.post(f"{base}/v1/payments/checkout", json=body, headers=buyer.headers,
                         timeout=30).status_code == 400


def test_part_payment_of_one_invoice_and_an_expired_checkout(served, key_issuer, postgres_url):
    base, psp = served
    buyer = key_issuer(postgres_url, "customer")
    [invoice_id] = _invoices(postgres_url, buyer.tenant_id, ("PART-0001", "200.00", "C1"))
    body = {"customer_code": "C1", "invoice_ids": [str(invoice_id)], "amount": "75.00",
            "success_url": "https://portal.example/ok", "cancel_url": "https://portal.example/no"}
    too_much = requests.post(f"{base}/v1/payments/checkout", json={**body, "amount": "200.01"},
                             headers=buyer.headers, timeout=30)
    assert too_much.status_code == 400 and "at most 200.00" in too_much.json()["detail"]
    abandoned = requests.post(f"{base}/v1/payments/checkout", json=body, headers=buyer.headers, timeout=30).json()
    psp.expire(abandoned["redirect_url"].rsplit("/", 1)[1])
    checkout = requests.post(f"{base}/v1/payments/checkout", json=body, headers=buyer.headers, timeout=30).json()
    psp.pay(checkout["redirect_url"].rsplit("/", 1)[1])
    balance = requests.get(f"{base}/v1/invoices/{invoice_id}/balance", headers=buyer.headers, timeout=30).json()
    assert (balance["status"], balance["open"]) == ("partially_paid", "125.00")
    assert _count(postgres_url, buyer.tenant_id, Payment) == 1
    engine = make_engine(postgres_url)
    try:
        with transaction(session_factory(engine)) as session:
            outcomes = session.scalars(select(PspEvent.outcome).where(PspEvent.tenant_id == buyer.tenant_id)).all()
        assert sorted(outcomes) == ["expired", "paid: 1 allocation(s), 0.00 unapplied"]
    finally:
        engine.dispose()


def test_without_configuration_card_payment_is_404(api_client, api_keys):
    buyer = api_keys("customer")
    response = api_client.post("/v1/payments/checkout", headers=buyer.headers, json={
        "customer_code": "C1", "invoice_ids": ["00000000-0000-0000-0000-000000000001"],
        "success_url": "https://x/ok", "cancel_url": "https://x/no"})
    assert response.status_code == 404 and "not configured" in response.get_json()["detail"]
    assert api_client.post("/v1/payments/webhooks/stripe", data=b"{}").status_code == 404


def test_a_psp_refusal_is_a_502_and_leaves_nothing_behind(sqlite_url, key_issuer):
    from aiguillage.store.payment_models import CheckoutRequest

    with LoopbackStripe(API_KEY, SECRET) as psp:
        app = create_app({"DATABASE_URL": sqlite_url, "STRIPE_API_KEY": "sk_test_revoked",
                          "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_API_BASE": psp.base_url})
        try:
            buyer = key_issuer(sqlite_url, "customer")
            [invoice_id] = _invoices(sqlite_url, buyer.tenant_id, ("PSP-0001", "10.00", "C1"))
            response = app.test_client().post("/v1/payments/checkout", headers=buyer.headers, json={
                "customer_code": "C1", "invoice_ids": [str(invoice_id)], "success_url": "https://x/ok",
                "cancel_url": "https://x/no"})
        finally:
            app.extensions["aiguillage.database"].engine.dispose()
    assert response.status_code == 502 and "Invalid API Key" in response.get_json()["detail"]
    assert _count(sqlite_url, buyer.tenant_id, CheckoutRequest) == 0
