"""The portal and console pages through Flask's test client: security, isolation, roles, audit, languages.

The browser tests (test_web_browser.py) drive the same pages in Chromium;
these cover what is quicker to check request by request.
"""

from __future__ import annotations

import re
import uuid

import pytest
from web_helpers import HELD_NUMBER, PASSWORD, Scene, web_app

from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.outbox import Outbox

pytest_plugins = ["aiguillage.store.testing", "web_fixtures"]

HTTPS = "https://localhost"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Browser:
    """A test client that keeps cookies, speaks HTTPS (the cookies are Secure) and fills CSRF tokens."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.client = app.test_client()
        self.token = ""

    def get(self, path: str, **kwargs):  # noqa: ANN201
        response = self.client.get(path, base_url=HTTPS, **kwargs)
        if response.mimetype == "text/html" and "csrf_token" in response.get_data(as_text=True):
            self.token = _csrf(response.get_data(as_text=True))
        return response

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):  # noqa: ANN201
        form = dict(data or {})
        if csrf:
            if not self.token:
                self.get("/web/")
            form["csrf_token"] = self.token
        # Browsers send Referer to the same origin (Referrer-Policy: same-origin); CSRF checks it over HTTPS.
        headers = {"Referer": f"{HTTPS}{path}", **kwargs.pop("headers", {})}
        return self.client.post(path, data=form, base_url=HTTPS, headers=headers, **kwargs)

    def sign_in_link(self, path: str):  # noqa: ANN201
        self.get(path)
        return self.post(path)

    def sign_in(self, area: str, email: str, password: str = PASSWORD, organisation: str = "demo"):  # noqa: ANN201
        self.get(f"/{area}/sign-in")
        return self.post(f"/{area}/sign-in", {"organisation": organisation, "email": email, "password": password})


@pytest.fixture(scope="module")
def app(scene: Scene):  # noqa: ANN201
    # Every test signs in from 127.0.0.1: the per-address limit is tested on its own app (test_sign_in_is_rate_limited).
    application = web_app(scene, WEB_SIGN_IN_RATE_PER_ADDRESS="1000/minute")
    yield application
    application.extensions["aiguillage.database"].engine.dispose()


def _audit(scene: Scene, action: str, target: uuid.UUID | None = None) -> list:
    with transaction(session_factory(scene.engine)) as session:
        return [e for e in AuditLog(session, scene.tenant_id).entries(limit=500) if e.action == action
                and (target is None or e.target_id == str(target))]


def test_pages_carry_security_headers_and_secure_cookies(app, scene):
    browser = Browser(app)
    response = browser.sign_in_link(scene.link("ap@dufresne.example"))
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("aig_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    anonymous = Browser(app)
    for path in ("/portal/", f"/portal/invoices/{scene.own['F2026-0107']}", "/portal/sign-in", "/console/sign-in"):
        page = (anonymous if "sign-in" in path else browser).get(path)
        assert page.status_code == 200, path
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert "<script" not in page.get_data(as_text=True)


def test_every_form_needs_its_csrf_token(app, scene):
    browser = Browser(app)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    invoice = scene.own["F2026-0107"]
    before = len(_audit(scene, "workflow.query", invoice))
    refused = browser.post(f"/portal/invoices/{invoice}/query", {"reason": "price", "message": "?"}, csrf=False)
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    forged = browser.post(f"/portal/invoices/{invoice}/query",
                          {"reason": "price", "message": "?", "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    assert len(_audit(scene, "workflow.query", invoice)) == before
    # Even signing in needs a token: no login CSRF.
    assert Browser(app).post("/console/sign-in", {"organisation": "demo", "email": "admin@demo.example",
                                                  "password": PASSWORD}, csrf=False).status_code == 400


def test_sign_in_is_rate_limited(scene):
    app = web_app(scene)  # its own counters
    browser = Browser(app)
    answers = [browser.sign_in("console", "admin@demo.example", "wrong password!").status_code for _ in range(5)]
    assert answers == [401] * 5
    assert browser.sign_in("console", "admin@demo.example").status_code == 429, "the right password, too late"
    assert Browser(app).sign_in("console", "ar@demo.example").status_code == 303, "another account still signs in"


def test_a_link_works_once_and_only_in_its_area(app, scene):
    path = scene.link("ap@acme.example")
    assert Browser(app).sign_in_link(path).status_code == 303
    assert Browser(app).sign_in_link(path).status_code == 410
    console_link = scene.link("admin@demo.example")
    wrong_area = console_link.replace("/console/", "/portal/")
    assert Browser(app).sign_in_link(wrong_area).status_code == 410
    assert Browser(app).sign_in_link(console_link).status_code == 303, "the refused try did not use it up"


def test_a_customer_user_reaches_no_other_customer_or_tenant_invoice(app, scene):
    browser = Browser(app)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    listing = browser.get("/portal/").get_data(as_text=True)
    for number, invoice in scene.own.items():
        assert (str(invoice) in listing) == (number != HELD_NUMBER), "all but the one the supplier still holds"
    strangers = scene.others + scene.rival
    assert strangers and scene.rival
    for invoice in strangers:
        assert str(invoice) not in listing
        for suffix in ("", "/pdf", "/ubl", "/cii", "/facturx", "/pdf?inline=1",
                       f"/attachments/{uuid.uuid4()}"):
            assert browser.get(f"/portal/invoices/{invoice}{suffix}").status_code == 404, (invoice, suffix)
        for action in ("query", "approve", "reject"):
            answer = browser.post(f"/portal/invoices/{invoice}/{action}",
                                  {"reason": "price", "message": "mine?", "comment": "no"})
            assert answer.status_code == 404, (invoice, action)
    assert "RIVAL-0001" not in browser.get("/portal/?q=RIVAL").get_data(as_text=True)
    assert not _audit(scene, "workflow.query", scene.rival[0])
    # The rival tenant's own portal user (same e-mail, same customer code) sees only the rival's invoice.
    rival = Browser(app)
    rival.sign_in_link(scene.link("ap@dufresne.example", scene.rival_id))
    page = rival.get("/portal/").get_data(as_text=True)
    assert str(scene.rival[0]) in page and not any(str(i) in page for i in scene.own.values())
    assert rival.get(f"/portal/invoices/{scene.own[HELD_NUMBER]}").status_code == 404


def test_console_checks_roles_like_the_api(app, scene):
    approver, analyst, customer, ar = Browser(app), Browser(app), Browser(app), Browser(app)
    approver.sign_in("console", "approver@demo.example")
    analyst.sign_in("console", "analyst@demo.example")
    ar.sign_in("console", "ar@demo.example")
    customer.sign_in_link(scene.link("ap@dufresne.example"))
    assert approver.post(f"/console/deliveries/{scene.dead_letter}/retry").status_code == 403
    assert analyst.get("/console/audit").status_code == 403
    assert analyst.get("/console/users").status_code == 403
    assert ar.post(f"/console/invoices/{scene.own[HELD_NUMBER]}/approve").status_code == 403
    assert customer.get("/console/").status_code == 403
    assert ar.get("/portal/").status_code == 403
    assert ar.get(f"/console/invoices/{scene.rival[0]}").status_code == 404, "another tenant's invoice"
    assert Browser(app).get("/console/").status_code == 302


def test_viewing_and_downloading_are_recorded(app, scene):
    browser = Browser(app)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    invoice = scene.own["F2026-0107"]
    views = len(_audit(scene, "invoice.view", invoice))
    assert browser.get(f"/portal/invoices/{invoice}").status_code == 200
    pdf = browser.get(f"/portal/invoices/{invoice}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    ubl = browser.get(f"/portal/invoices/{invoice}/ubl")
    assert b"F2026-0107" in ubl.data and ubl.mimetype == "application/xml"
    assert len(_audit(scene, "invoice.view", invoice)) == views + 1
    [download] = [e for e in _audit(scene, "invoice.download", invoice) if e.detail["format"] == "ubl"][:1]
    assert download.actor == "user:ap@dufresne.example" and download.role == "customer"
    statement = browser.get("/portal/statement.pdf")
    assert statement.status_code == 200 and statement.data.startswith(b"%PDF-")


def test_console_retry_takes_the_api_path(app, scene):
    ar = Browser(app)
    ar.sign_in("console", "ar@demo.example")
    again = ar.post(f"/console/deliveries/{uuid.uuid4()}/retry")
    assert again.status_code == 404
    answer = ar.post(f"/console/deliveries/{scene.dead_letter}/retry")
    assert answer.status_code == 303
    with transaction(session_factory(scene.engine)) as session:
        assert Outbox(session, scene.tenant_id).get(scene.dead_letter).status == "pending"
    [entry] = [e for e in _audit(scene, "delivery.retry") if e.detail["delivery"] == str(scene.dead_letter)]
    assert entry.actor == "user:ar@demo.example"
    assert ar.post(f"/console/deliveries/{scene.dead_letter}/retry").status_code == 409


def test_pages_speak_the_browsers_language_or_the_users_choice(app, scene):
    browser = Browser(app)
    page = browser.get("/portal/sign-in", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"})
    assert 'lang="fr"' in page.get_data(as_text=True) and "Connexion au portail client" in page.get_data(as_text=True)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    browser.post("/web/language", {"language": "en", "next": "/portal/"})
    listing = browser.get("/portal/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Your invoices" in listing, "the account's choice wins over the browser"
    assert re.search(r"€[\d,]+\.\d\d", listing)
    browser.post("/web/language", {"language": "fr", "next": "/portal/"})
    listing = browser.get("/portal/").get_data(as_text=True)
    assert "Vos factures" in listing and re.search(r"\d+,\d\d\s€", listing), "amounts in French format"


def test_a_sign_in_link_can_be_emailed_without_telling_who_exists(scene, tmp_path):
    from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer

    with LoopbackSmtpServer(tmp_path) as server:
        app = web_app(scene, WEB_MAIL_FROM="invoices@demo.example",
                      WEB_SMTP={"host": "127.0.0.1", "port": server.port, "username": "aiguillage",
                                "password": "secret", "ca_file": str(server.cert)})
        browser = Browser(app)
        assert "E-mail me a sign-in link" in browser.get("/portal/sign-in").get_data(as_text=True)
        known = browser.post("/portal/sign-in/link", {"organisation": "demo", "email": "AP@acme.example"})
        unknown = browser.post("/portal/sign-in/link", {"organisation": "demo", "email": "nobody@acme.example"})
        staff = browser.post("/portal/sign-in/link", {"organisation": "demo", "email": "admin@demo.example"})
        for answer in (known, unknown, staff):
            assert answer.status_code == 200 and "a link is on its way" in answer.get_data(as_text=True)
        [mail] = server.received
        assert mail.rcpt_tos == ["ap@acme.example"] and mail.tls
        path = re.search(r"https?://[^/\s]+(/portal/link/aigl_\S+)", mail.message.get_content()).group(1)
        assert Browser(app).sign_in_link(path).status_code == 303
        assert Browser(app).sign_in_link(path).status_code == 410
    app.extensions["aiguillage.database"].engine.dispose()


def test_signing_out_ends_the_session_on_the_server(app, scene):
    browser = Browser(app)
    browser.sign_in("console", "analyst@demo.example")
    cookie = browser.client.get_cookie("aig_session", domain="localhost")
    assert cookie is not None and browser.get("/console/").status_code == 200
    assert browser.post("/console/sign-out").status_code == 303
    thief = Browser(app)
    thief.client.set_cookie("aig_session", cookie.value, domain="localhost", secure=True)
    assert thief.get("/console/").status_code == 302, "the old cookie no longer signs anyone in"


def test_the_portal_neither_shows_nor_decides_what_the_supplier_still_holds(app, scene):
    browser = Browser(app)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    invoice = scene.own[HELD_NUMBER]  # held `approval by "dufresne-account-manager"`: the supplier's check
    assert HELD_NUMBER + "<" not in browser.get("/portal/?q=0112").get_data(as_text=True)
    for suffix in ("", "/pdf", "/ubl"):
        assert browser.get(f"/portal/invoices/{invoice}{suffix}").status_code == 404
    for action in ("approve", "reject", "query"):
        answer = browser.post(f"/portal/invoices/{invoice}/{action}", {"comment": "mine", "reason": "price",
                                                                       "message": "?"})
        assert answer.status_code == 404
    assert not _audit(scene, "workflow.approve", invoice) and not _audit(scene, "workflow.reject", invoice)


def test_console_shows_findings_in_words_with_their_rule_and_holds_with_their_reason(app, scene):
    admin = Browser(app)
    admin.sign_in("console", "admin@demo.example")
    listing = admin.get("/console/?customer=ACME-FR-001").get_data(as_text=True)
    acme = re.search(r'/console/invoices/([0-9a-f-]{36})', listing).group(1)
    page = admin.get(f"/console/invoices/{acme}").get_data(as_text=True)
    assert "ACME-06" in page and "SIRET 52198765400027 has a wrong check key" in page and "BT-47" in page
    held = admin.get(f"/console/invoices/{scene.own[HELD_NUMBER]}").get_data(as_text=True)
    assert "approval by dufresne-account-manager" in held and "maison-dufresne-demo.rules" in held
    customers = admin.get("/console/customers").get_data(as_text=True)
    assert "maison-dufresne-demo v2" in customers and "demo-acme-demo v1" in customers


def test_statement_of_account_lists_what_is_owed(app, scene):
    from io import BytesIO

    from pypdf import PdfReader

    browser = Browser(app)
    browser.sign_in_link(scene.link("ap@dufresne.example"))
    browser.post("/web/language", {"language": "en", "next": "/portal/"})
    pdf = browser.get("/portal/statement.pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert "Statement of account" in text and "F2026-0107" in text
    assert not re.search(re.escape(HELD_NUMBER) + r"(?!-B)", text), "the supplier still holds it"
    assert "RIVAL-0001" not in text
    assert "Total owed" in text


def test_a_console_user_reaches_nothing_of_another_tenant(app, scene):
    admin = Browser(app)
    admin.sign_in("console", "admin@demo.example")
    rival = scene.rival[0]
    for suffix in ("", "/pdf", "/ubl", "/cii", "/facturx", f"/attachments/{uuid.uuid4()}"):
        assert admin.get(f"/console/invoices/{rival}{suffix}").status_code == 404, suffix
    for action, field in (("approve", "comment"), ("reject", "reason"), ("answer", "answer"),
                          ("resolve", "resolution")):
        assert admin.post(f"/console/invoices/{rival}/{action}", {field: "x"}).status_code == 404, action
    assert "RIVAL-0001" not in admin.get("/console/?q=RIVAL").get_data(as_text=True)
    assert "Rival" not in admin.get("/console/customers").get_data(as_text=True)
