"""Card payment from the portal and manual allocation in the console, on the demo scene.

The app is wired to the loopback Stripe (`payments.testing.stripe_server`),
which the official `stripe` library talks to and which signs its webhooks
as Stripe does. In Chromium: the customer ticks two invoices, pays, lands
on the PSP's hosted page; the PSP completes the session and calls the app's
webhook; the portal then shows both invoices paid. In the console an AR
person allocates an unallocated payment to an invoice by hand and reverses
it. Through the test client: a customer cannot start a payment for another
customer's or tenant's invoice (404, no checkout created), forms need their
CSRF token, and a part amount pays just that.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from payments_helpers import invoice
from sqlalchemy import func, select
from test_web_browser import Checked, _context, _sign_in_console, browser  # noqa: F401 - fixture reused
from test_web_pages import Browser
from web_helpers import CUSTOMER, Scene, web_app
from werkzeug.serving import make_server

from aiguillage.payments.ledger import Ledger
from aiguillage.payments.testing.stripe_server import LoopbackStripe
from aiguillage.store.actor import CLI, Actor
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.payment_models import Allocation, CheckoutRequest
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices

pytest_plugins = ["aiguillage.store.testing", "web_fixtures"]

API_KEY, SECRET = "sk_test_portal", "whsec_portal_loopback"


@pytest.fixture(scope="module")
def psp() -> Iterator[LoopbackStripe]:
    with LoopbackStripe(API_KEY, SECRET) as server:
        yield server


@pytest.fixture(scope="module")
def paying_app(scene: Scene, psp: LoopbackStripe):  # noqa: ANN201
    app = web_app(scene, WEB_SIGN_IN_RATE_PER_ADDRESS="1000/minute", STRIPE_API_KEY=API_KEY,
                  STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_API_BASE=psp.base_url)
    yield app
    app.extensions["aiguillage.database"].engine.dispose()


@pytest.fixture(scope="module")
def paying_server(paying_app, psp: LoopbackStripe) -> Iterator[str]:  # noqa: ANN001
    """The app served on loopback; the loopback Stripe sends its webhooks to it."""
    server = make_server("127.0.0.1", 0, paying_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    psp.webhook_url = f"{base}/v1/payments/webhooks/stripe"
    yield base
    server.shutdown()
    thread.join(10)


def _checkouts(scene: Scene) -> int:
    with transaction(session_factory(scene.engine)) as session:
        return session.scalar(select(func.count()).select_from(CheckoutRequest))


@pytest.fixture(scope="module")
def open_invoices(scene: Scene) -> dict[str, InvoiceRecord]:
    """Three more released invoices of the portal's customer, stored as the API stores them, all still to pay."""
    made = {}
    with transaction(session_factory(scene.engine)) as session:
        for number, amount in (("PAY-0001", "120.00"), ("PAY-0002", "80.25"), ("PAY-0003", "30.50")):
            invoice_id = invoice(session, scene.tenant_id, number, amount, customer=CUSTOMER)
            Invoices(session, scene.tenant_id).set_status(invoice_id, "delivered", CLI)
            made[number] = invoice_id
    with transaction(session_factory(scene.engine)) as session:
        found = {n: Invoices(session, scene.tenant_id).get(i) for n, i in made.items()}
        session.expunge_all()
    return found


def test_a_customer_pays_only_its_own_invoices_and_a_part_amount(paying_app, scene: Scene, psp: LoopbackStripe,
                                                                  open_invoices):
    customer = Browser(paying_app)
    assert customer.sign_in_link(scene.link("ap@dufresne.example")).status_code == 303
    listing = customer.get("/portal/")
    html = listing.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert "form-action 'self' " + psp.base_url in listing.headers["Content-Security-Policy"]
    before = _checkouts(scene)
    foreign = [str(scene.rival[0]), str(scene.others[0])]  # another tenant's, another customer's
    for invoice_id in foreign:
        refused = customer.post("/portal/pay", {"token": token, "invoice_id": invoice_id})
        assert refused.status_code == 404
        mixed = customer.post("/portal/pay", {"token": token, "invoice_id": [invoice_id, str(scene.own["F2026-0107"])]})
        assert mixed.status_code == 404
    assert customer.post("/portal/pay", {"token": token, "invoice_id": str(scene.own["F2026-0107"])},
                         csrf=False).status_code == 400
    assert customer.post("/portal/pay", {"token": token}).status_code == 400  # nothing ticked
    assert _checkouts(scene) == before and not psp.sessions

    mine = open_invoices["PAY-0001"]
    page = customer.get(f"/portal/invoices/{mine.id}").get_data(as_text=True)
    assert "Pay this amount by card" in page
    started = customer.post("/portal/pay", {"token": token, "invoice_id": str(mine.id), "amount": "10,50"})
    assert started.status_code == 303 and started.location.startswith(psp.base_url + "/c/pay/cs_test_")
    again = customer.post("/portal/pay", {"token": token, "invoice_id": str(mine.id), "amount": "10,50"})
    assert again.location == started.location  # the same form twice: one checkout
    session_id = started.location.rsplit("/", 1)[1]
    assert psp.sessions[session_id]["amount_total"] == 1050
    assert psp.sessions[session_id]["success_url"].startswith("https://localhost/portal/pay/done/")
    with transaction(session_factory(scene.engine)) as session:
        [checkout] = session.scalars(select(CheckoutRequest).where(CheckoutRequest.session_id == session_id)).all()
        assert (checkout.amount, checkout.customer_code) == (Decimal("10.50"), "DUFRESNE-FR-001")
    # Another customer of the same tenant cannot see that checkout's return page.
    other = Browser(paying_app)
    other.sign_in_link(scene.link("ap@acme.example"))
    done_path = psp.sessions[session_id]["success_url"].removeprefix("https://localhost")
    assert other.get(done_path).status_code == 404
    assert customer.get(done_path).status_code == 200
    cancelled = customer.get(psp.sessions[session_id]["cancel_url"].removeprefix("https://localhost"))
    assert "nothing was charged" in cancelled.get_data(as_text=True)
    with transaction(session_factory(scene.engine)) as session:
        assert Ledger(session, scene.tenant_id).balance(mine.id).status == "open"  # no webhook: nothing paid


def test_the_customer_pays_two_invoices_by_card_in_the_browser(browser, paying_server, psp: LoopbackStripe,  # noqa: F811
                                                                scene: Scene, open_invoices):
    customer = Checked(_context(browser, paying_server, locale="en-GB"))
    page = customer.page
    page.goto(scene.link("ap@dufresne.example"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    customer.axe()
    first, second = "PAY-0002", "PAY-0003"
    page.get_by_role("button", name="Pay the ticked invoices by card").click()  # nothing ticked yet
    page.get_by_text("Tick at least one invoice to pay.").wait_for()
    customer.axe()
    page.go_back()
    page.get_by_label(f"Pay invoice {first}").check()
    page.get_by_label(f"Pay invoice {second}").check()
    page.get_by_role("button", name="Pay the ticked invoices by card").click()
    page.wait_for_url(re.compile(re.escape(psp.base_url) + r"/c/pay/cs_test_\w+$"))
    session_id = page.url.rsplit("/", 1)[1]
    assert customer.csp == []  # the redirect to the PSP is allowed by the page's form-action

    psp.pay(session_id)  # the customer paid on the hosted page: the signed webhook reaches the app
    page.goto(psp.sessions[session_id]["success_url"].replace("https://localhost", paying_server))
    page.get_by_text("your payment of").wait_for()
    assert "is confirmed" in page.locator("#pay-outcome").inner_text()
    assert page.locator("#paid-invoices tbody tr").count() == 2
    customer.axe()
    page.goto("/portal/?balance=settled")
    for number in (first, second):
        row = page.locator("#invoices tbody tr", has=page.get_by_role("link", name=number, exact=True))
        assert "paid" in row.inner_text()
        assert row.get_by_role("checkbox").count() == 0
    customer.axe()
    page.get_by_role("link", name=first, exact=True).click()
    assert page.locator("#payment-status").inner_text() == "paid"
    assert "Payment received: 80.25" in page.locator(".history").inner_text()
    customer.axe()


def test_ar_allocates_and_reverses_a_payment_in_the_console(browser, paying_server, scene: Scene):  # noqa: F811
    with transaction(session_factory(scene.engine)) as session:
        target = session.scalars(select(InvoiceRecord).where(InvoiceRecord.tenant_id == scene.tenant_id,
                                                             InvoiceRecord.number == "F2026-0131")).one()
        session.expunge_all()
    with transaction(session_factory(scene.engine)) as session:
        payment, _ = Ledger(session, scene.tenant_id).record(
            Actor("cli"), source="transfer", dedupe_key="console-test-1", amount=Decimal("25.00"),
            currency=target.currency_code or "EUR", received_on=date.today(), reference="VIR-CONSOLE-1",
            payer_name="Someone unknown", remittance="no reference given")
        payment_id = payment.id
    ar = Checked(_context(browser, paying_server, locale="en-GB"))
    _sign_in_console(ar, "ar@demo.example")
    ar.page.get_by_role("link", name="Payments").click()
    ar.axe()
    ar.page.get_by_role("link", name=re.compile("VIR-CONSOLE-1")).click()
    ar.axe()
    ar.page.get_by_label("Invoice number").fill(target.number)
    ar.page.get_by_label(re.compile("^Amount")).fill("20.00")
    ar.page.get_by_role("button", name="Allocate", exact=True).click()
    ar.page.get_by_text("The amount is allocated.").wait_for()
    assert ar.page.locator("#payment-status").inner_text() == "partially allocated"
    ar.axe()
    ar.page.get_by_role("link", name=target.number, exact=True).click()
    assert ar.page.locator("#payment-status").inner_text() == "partially paid"
    ar.axe()
    ar.page.get_by_role("button", name=re.compile("^Reverse the allocation of")).click()
    ar.page.get_by_text("The allocation is reversed.").wait_for()
    assert ar.page.locator("#payment-status").inner_text() == "open"
    ar.axe()
    with transaction(session_factory(scene.engine)) as session:
        [allocation] = session.scalars(select(Allocation).where(Allocation.payment_id == payment_id)).all()
        assert allocation.amount == Decimal("20.00") and allocation.reversed_by == "user:ar@demo.example"
        assert Ledger(session, scene.tenant_id).payment(payment_id).unapplied == Decimal("25.00")
        actions = [e.action for e in AuditLog(session, scene.tenant_id).entries(
            target_type="invoice", target_id=target.id) if e.actor == "user:ar@demo.example"]
        assert "allocation.manual" in actions and "allocation.reverse" in actions


def test_an_approver_reads_payments_but_cannot_allocate(paying_app, scene: Scene):
    approver = Browser(paying_app)
    approver.sign_in("console", "approver@demo.example")
    assert approver.get("/console/payments").status_code == 200
    with transaction(session_factory(scene.engine)) as session:
        payment, _ = Ledger(session, scene.tenant_id).record(
            Actor("cli"), source="transfer", dedupe_key="console-test-2", amount=Decimal("5.00"), currency="EUR",
            received_on=date.today())
        payment_id = payment.id
    page = approver.get(f"/console/payments/{payment_id}").get_data(as_text=True)
    assert "Allocate to an invoice" not in page
    refused = approver.post(f"/console/payments/{payment_id}/allocations",
                            {"invoice": str(scene.others[0]), "amount": "1.00"})
    assert refused.status_code == 403
    with transaction(session_factory(scene.engine)) as session:
        assert session.scalar(select(func.count()).select_from(Allocation).where(
            Allocation.payment_id == payment_id)) == 0


def test_without_a_psp_there_is_no_pay_form_and_in_french_the_pay_form_speaks_french(paying_app, scene: Scene,
                                                                                      open_invoices):
    plain = web_app(scene, WEB_SIGN_IN_RATE_PER_ADDRESS="1000/minute")
    try:
        customer = Browser(plain)
        customer.sign_in_link(scene.link("ap@dufresne.example"))
        listing = customer.get("/portal/")
        assert 'name="invoice_id"' not in listing.get_data(as_text=True)
        assert "form-action 'self';" in listing.headers["Content-Security-Policy"]
        assert customer.post("/portal/pay", {"token": "x" * 24, "invoice_id": str(open_invoices["PAY-0001"].id)}
                             ).status_code == 404
    finally:
        plain.extensions["aiguillage.database"].engine.dispose()
    french = Browser(paying_app)
    french.sign_in_link(scene.link("ap@dufresne.example"))
    page = french.get("/portal/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Payer par carte les factures cochées" in page and "Payer la facture PAY-0001" in page
