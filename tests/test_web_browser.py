"""The portal and the console in a real browser: Debian's Chromium driven by Playwright, axe-core on every page.

Flows: sign in by link (keyboard only), find an invoice, download its PDF,
raise a query with an attachment and see the AR team's answer given in the
console, approve (the customer, with the keyboard, what its ruleset gives it
to approve; the supplier's approver in the console), retry a dead letter
from the console; a
customer user trying other customers' and tenants' invoice URLs gets 404.
Every page visited is checked with axe-core (WCAG 2.0/2.1/2.2 A and AA
rules; vendored from npm in tests/assets) and must not trip the CSP.

Chromium comes from the distribution (`apt-get install chromium`; never a
downloaded build). Without it the tests skip on a developer machine and
FAIL under CI=true.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_helpers import CUSTOMER_HELD_NUMBER, HELD_NUMBER, PASSWORD, Scene

from aiguillage.store.database import session_factory, transaction
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox

pytest_plugins = ["aiguillage.store.testing", "web_fixtures"]

CHROMIUM = os.environ.get("AIGUILLAGE_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "assets" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Checked:
    """A browser page that records CSP violations and checks accessibility on demand."""

    def __init__(self, context) -> None:  # noqa: ANN001
        self.page = context.new_page()
        self.csp: list[str] = []
        self.page.on("console", lambda message: self.csp.append(message.text)
                     if "Content Security Policy" in message.text else None)

    def axe(self) -> None:
        """No axe-core violation of the WCAG A/AA rules on the current page, and no CSP violation so far."""
        page = self.page
        page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }""",
            WCAG_TAGS,
        )
        assert violations == [], f"{page.url}: {violations}"
        assert self.csp == [], f"{page.url}: {self.csp}"


def _context(browser, live_server: str, **options):  # noqa: ANN001, ANN202
    return browser.new_context(base_url=live_server, accept_downloads=True, **options)


def _sign_in_console(checked: Checked, email: str) -> None:
    page = checked.page
    page.goto("/console/sign-in")
    checked.axe()
    page.get_by_label("Organisation").fill("demo")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/$"))


def _sign_in_portal_by_keyboard(checked: Checked, link: str) -> None:
    """Open the one-time link and sign in with the keyboard alone (Tab to the button, Enter)."""
    page = checked.page
    page.goto(link)
    checked.axe()
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.tagName, document.activeElement.textContent.trim()]")
        if focused == ["BUTTON", "Sign in"]:
            break
    else:
        pytest.fail("the sign-in button cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portal/$"))


def test_sign_in_by_link_find_download_query_and_read_the_answer(browser, live_server, scene: Scene, tmp_path):
    customer = Checked(_context(browser, live_server, locale="en-GB"))
    page = customer.page
    _sign_in_portal_by_keyboard(customer, scene.link("ap@dufresne.example"))
    customer.axe()
    page.get_by_label("Invoice number").fill("0107")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/portal/\?q=0107"))
    rows = page.locator("#invoices tbody tr")
    expect(rows).to_have_count(1)  # waits for the filtered page: count() alone may read it mid-navigation
    customer.axe()
    rows.get_by_role("link", name="F2026-0107").click()
    page.wait_for_url(re.compile(r"/portal/invoices/"))
    customer.axe()
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF", exact=True).click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    note = tmp_path / "delivery-note.txt"
    note.write_text("Delivered 3 lamps, invoiced 4.\n", encoding="utf-8")
    page.get_by_label("Reason").select_option("quantity")
    page.get_by_label("Message").fill("We received three lamps, not four.")
    page.get_by_label(re.compile("^Attachment")).set_input_files(str(note))
    page.get_by_role("button", name="Send the query").click()
    page.get_by_text("Your query is open").wait_for()
    customer.axe()

    ar = Checked(_context(browser, live_server, locale="en-GB"))
    _sign_in_console(ar, "ar@demo.example")
    ar.axe()
    ar.page.get_by_role("link", name="Queries").click()
    ar.page.get_by_text("We received three lamps, not four.").wait_for()
    ar.axe()
    ar.page.get_by_role("link", name="F2026-0107").click()
    ar.axe()
    with ar.page.expect_download() as attachment:
        ar.page.get_by_role("link", name="Attachment: delivery-note.txt").click()
    assert Path(attachment.value.path()).read_text(encoding="utf-8").startswith("Delivered 3 lamps")
    ar.page.get_by_label("Your answer to the customer").fill("Right: a credit note for one lamp follows.")
    ar.page.get_by_role("button", name="Send the answer").click()
    ar.page.get_by_text("answered").first.wait_for()
    ar.axe()

    page.reload()
    page.get_by_text("Right: a credit note for one lamp follows.").wait_for()
    assert page.get_by_text("Query answered").count() >= 1
    customer.axe()


def _tab_to(page, tag: str, text: str) -> None:  # noqa: ANN001
    """Move the keyboard focus with Tab alone until it is on the element (fails if it cannot get there)."""
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.tagName, document.activeElement.textContent.trim()]")
        if focused == [tag, text]:
            return
    pytest.fail(f"{tag} {text!r} cannot be reached with Tab")


def test_a_customer_approves_with_the_keyboard_what_its_ruleset_gives_it_to_approve(browser, live_server,
                                                                                     scene: Scene):
    customer = Checked(_context(browser, live_server, locale="en-GB"))
    page = customer.page
    _sign_in_portal_by_keyboard(customer, scene.link("ap@dufresne.example"))
    assert page.get_by_role("link", name=HELD_NUMBER, exact=True).count() == 0, "the supplier's own hold"
    page.get_by_role("link", name=CUSTOMER_HELD_NUMBER, exact=True).click()
    page.get_by_role("heading", name="Your approval is needed").wait_for()
    customer.axe()
    _tab_to(page, "INPUT", "")  # the comment field is the first input of the approval form
    page.keyboard.type("OK for payment")
    _tab_to(page, "BUTTON", "Approve")
    page.keyboard.press("Enter")
    page.get_by_text("Approval:").wait_for()
    assert "approved" in page.locator("main").inner_text()
    customer.axe()
    with transaction(session_factory(scene.engine)) as session:
        invoice = session.scalars(select(InvoiceRecord).where(InvoiceRecord.tenant_id == scene.tenant_id,
                                                              InvoiceRecord.number == CUSTOMER_HELD_NUMBER)).one()
        assert invoice.status != "held"
        [approved] = [e for e in AuditLog(session, scene.tenant_id).entries(target_type="invoice",
                                                                            target_id=invoice.id)
                      if e.action == "workflow.approve"]
        assert approved.actor == "user:ap@dufresne.example" and approved.detail["comment"] == "OK for payment"


def test_the_suppliers_approver_approves_in_the_console(browser, live_server, scene: Scene):
    approver = Checked(_context(browser, live_server, locale="en-GB"))
    _sign_in_console(approver, "approver@demo.example")
    approver.page.get_by_role("link", name="Approvals").click()
    approver.axe()
    approver.page.get_by_role("link", name=HELD_NUMBER, exact=True).click()
    approver.axe()
    approver.page.get_by_role("button", name="Approve", exact=True).click()
    approver.page.get_by_text("Approval: approved").wait_for()
    approver.axe()
    with transaction(session_factory(scene.engine)) as session:
        assert Invoices(session, scene.tenant_id).get(scene.own[HELD_NUMBER]).status != "held"


def test_console_retries_a_dead_letter(browser, live_server, scene: Scene):
    admin = Checked(_context(browser, live_server, locale="en-GB"))
    admin.page.goto(scene.link("admin@demo.example"))
    admin.page.get_by_role("button", name="Sign in").click()
    admin.page.wait_for_url(re.compile(r"/console/$"))
    admin.page.get_by_role("link", name="Deliveries").click()
    admin.axe()
    with transaction(session_factory(scene.engine)) as session:
        number = Invoices(session, scene.tenant_id).get(Outbox(session, scene.tenant_id).get(scene.dead_letter)
                                                        .invoice_id).number
    admin.page.get_by_role("button", name=f"Retry the delivery of {number}").click()
    admin.page.get_by_text("The delivery is queued again.").wait_for()
    admin.axe()
    with transaction(session_factory(scene.engine)) as session:
        assert Outbox(session, scene.tenant_id).get(scene.dead_letter).status == "pending"


def test_every_console_page_passes_axe(browser, live_server, scene: Scene):
    admin = Checked(_context(browser, live_server, locale="en-GB"))
    _sign_in_console(admin, "admin@demo.example")
    for path in ("/console/", "/console/deliveries?status=delivered", "/console/approvals", "/console/queries",
                 "/console/customers", "/console/audit", "/console/users", "/console/account",
                 *(f"/console/invoices/{i}" for i in [*scene.own.values(), *scene.others])):
        admin.page.goto(path)
        admin.axe()
    admin.page.goto("/console/users")
    admin.page.get_by_label("E-mail").fill("newcomer@demo.example")
    admin.page.get_by_label("Role", exact=True).select_option("approver")
    admin.page.get_by_role("button", name="Invite").click()
    link = admin.page.locator("#issued-link").inner_text()
    assert "/console/link/aigl_" in link
    admin.axe()


def test_a_customer_user_gets_404_on_other_customers_and_tenants_invoices(browser, live_server, scene: Scene):
    customer = Checked(_context(browser, live_server, locale="en-GB"))
    _sign_in_portal_by_keyboard(customer, scene.link("ap@dufresne.example"))
    for invoice in [*scene.others, *scene.rival]:
        for suffix in ("", "/pdf", "/facturx"):
            response = customer.page.goto(f"/portal/invoices/{invoice}{suffix}")
            assert response.status == 404, (invoice, suffix)
        assert "There is nothing here." in customer.page.locator("main").inner_text()
    customer.axe()


def test_french_pages_and_amounts(browser, live_server, scene: Scene):
    customer = Checked(_context(browser, live_server, locale="fr-FR"))
    page = customer.page
    page.goto("/portal/sign-in")
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion au portail client"
    customer.axe()
    page.goto(scene.link("ap@dufresne.example"))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    text = page.locator("#invoices").inner_text()
    assert re.search(r"\d,\d\d\s€", text), text
    customer.axe()
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.get_by_role("heading", name=re.compile("^Your invoices")).wait_for()
    customer.axe()
