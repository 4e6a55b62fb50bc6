"""The analyst's workspace in Chromium (Debian's, through Playwright), axe-core on every page.

Type an unknown field and see the checker's did-you-mean at the right place
(underlined, in the gutter and the list), fix it with the field completion,
save, run cases, try it beside the version in force, publish, and see the
new version decide the next evaluation through the API on the same server.
The browser, the page checker (axe-core + CSP) and the console sign-in are
test_web_browser.py's.
"""

from __future__ import annotations

import json
import re
import urllib.request

from test_web_browser import Checked, _context, _sign_in_console, browser  # noqa: F401 - `browser` is a fixture
from web_helpers import CUSTOMER, DUFRESNE_SAMPLE, Scene

from aiguillage.demo import samples_root
from aiguillage.store.actor import CLI
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.keys import ApiKeys

pytest_plugins = ["aiguillage.store.testing", "web_fixtures"]

CASES = """base: atelier-lumiere-F2026-0112-dufresne.json
cases:
  - name: Below the new threshold, no approval
    expect:
      holds: []
      routes: ["portal as pdf"]
"""


def _evaluate(live_server: str, key: str) -> dict:
    """The next evaluation of Dufresne's large invoice, through the API (a dry run)."""
    request = urllib.request.Request(f"{live_server}/v1/evaluate?customer={CUSTOMER}",
                                     data=(samples_root() / DUFRESNE_SAMPLE).read_bytes(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _editor_text(page) -> str:  # noqa: ANN001
    return page.evaluate("() => window.aiguillageEditor.state.doc.toString()")


def test_an_analyst_fixes_a_typo_runs_cases_and_publishes(browser, live_server: str, scene: Scene):  # noqa: F811
    with transaction(session_factory(scene.engine)) as session:
        key = ApiKeys(session, scene.tenant_id).issue("erp", CLI, label="workspace browser test").plaintext
    before = _evaluate(live_server, key)
    assert before["ruleset"]["version"] == 2 and [h["kind"] for h in before["holds"]] == ["approval"]

    context = _context(browser, live_server)
    analyst = Checked(context)
    page = analyst.page
    _sign_in_console(analyst, "analyst@demo.example")
    page.get_by_role("link", name="Rulesets").click()
    page.wait_for_url(re.compile(r"/console/rulesets/$"))
    analyst.axe()
    page.get_by_role("link", name="maison-dufresne-demo").click()
    page.wait_for_selector(".cm-editor .cm-content")
    analyst.axe()

    # The editor is named by its label, is reached with Tab and lets Tab go on (no keyboard trap).
    editor = page.get_by_role("textbox", name="Rules of maison-dufresne-demo")
    assert editor.count() == 1
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('cm-content')"):
            break
    else:
        raise AssertionError("the editor cannot be reached with Tab")
    page.keyboard.press("Tab")
    assert not page.evaluate("() => document.activeElement.classList.contains('cm-content')")
    editor.focus()
    text = _editor_text(page)
    threshold = text.index("5000 EUR")
    page.evaluate("(at) => window.aiguillageEditor.dispatch({selection: {anchor: at, head: at + 4}})", threshold)
    page.keyboard.type("9000")
    start = text.index("totals.amount_with_vat")
    page.evaluate("(at) => window.aiguillageEditor.dispatch({selection: {anchor: at}})",
                  start + len("totals.amount_with_vat"))
    page.keyboard.type("t")  # an unknown field: totals.amount_with_vatt

    problems = page.locator("#diagnostics")
    problems.get_by_text("did you mean totals.amount_with_vat?").wait_for()
    line = text[:start].count("\n") + 1
    column = start - text.rfind("\n", 0, start)
    assert problems.get_by_role("link").first.inner_text() == f"line {line}, column {column}"
    assert page.locator(".cm-lintRange-error").first.inner_text() == "totals.amount_with_vatt"
    assert page.locator(".cm-lint-marker-error").count() == 1
    analyst.axe()

    # Fix it with the keyboard: take the field from the completion (it shows the BT id).
    for _ in range(len("amount_with_vatt")):
        page.keyboard.press("Backspace")
    page.keyboard.type("amount_with_v")
    option = page.locator(".cm-tooltip-autocomplete li[aria-selected=true]")
    option.wait_for()
    assert "totals.amount_with_vat" in option.inner_text() and "BT-112" in option.inner_text()
    # CodeMirror ignores Enter for its interactionDelay (75 ms) after the list opens or changes, so that
    # a fast typist's Enter is a new line: wait past it, as a person reading the list does.
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")
    try:
        problems.get_by_text("No problems found.").wait_for(timeout=5000)
    except Exception:
        raise AssertionError(problems.inner_text() + "\n" + _editor_text(page)) from None
    assert "when totals.amount_with_vat > 9000 EUR" in _editor_text(page)
    assert page.locator(".cm-lintRange-error").count() == 0

    # Columns of the tables the ruleset can read are offered after `table[key].`.
    end = len(_editor_text(page))
    page.evaluate("(at) => window.aiguillageEditor.dispatch({selection: {anchor: at}})", end)
    page.keyboard.type("# order_book[buyer_reference].po")
    column = page.locator(".cm-tooltip-autocomplete li[aria-selected=true]")
    column.wait_for()
    assert "po_number" in column.inner_text() and "order_book column" in column.inner_text()
    page.keyboard.press("Escape")
    page.evaluate("(at) => { const v = window.aiguillageEditor; "
                  "v.dispatch({changes: {from: at, to: v.state.doc.length}}); }", end)
    assert "when totals.amount_with_vat > 9000 EUR" in _editor_text(page) and "order_book" not in _editor_text(page)

    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    analyst.axe()

    page.get_by_label("Cases (YAML").fill(CASES)
    page.get_by_role("button", name="Run the cases").click()
    page.get_by_role("heading", name=re.compile("1 passed, 0 failed")).wait_for()
    analyst.axe()

    page.get_by_label("Invoice", exact=True).select_option(f"sample:{DUFRESNE_SAMPLE}")
    page.get_by_role("button", name="Try it").click()
    page.get_by_role("heading", name="Version in force (2)").wait_for()
    assert "approval" in page.locator(".ws-decision").nth(1).inner_text()
    analyst.axe()

    page.get_by_label("Note for this version").fill("approval above 9000 EUR")
    page.get_by_role("button", name="Publish the saved draft").click()
    page.get_by_text("Version 3 published.").wait_for()
    assert page.locator("#in-force").inner_text() == "3"
    analyst.axe()

    after = _evaluate(live_server, key)
    assert after["ruleset"]["version"] == 3 and after["holds"] == []
    assert [r["channel"] for r in after["routes"]] == ["portal"]

    page.get_by_role("link", name="with the version in force").first.click()
    page.get_by_role("heading", name="Changes to maison-dufresne-demo").wait_for()
    analyst.axe()

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.get_by_role("heading", name="Modifications de maison-dufresne-demo").wait_for()
    analyst.axe()
    page.get_by_role("link", name="Retour à l'éditeur").click()
    page.get_by_role("textbox", name="Règles de maison-dufresne-demo").wait_for()
    page.locator("#diagnostics").get_by_text("Aucun problème trouvé.").wait_for()
    analyst.axe()
    context.close()
