"""The analyst's workspace (`/console/rulesets/`) through Flask's test client: check, save, try, test, diff,
publish, roll back; roles, CSRF, tenants. The browser test (test_web_workspace_browser.py) drives it in Chromium."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from web_helpers import CUSTOMER, PASSWORD, Scene, web_app

from aiguillage.demo import samples_root
from aiguillage.store.actor import CLI
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.rulesets import Rulesets

pytest_plugins = ["aiguillage.store.testing", "web_fixtures"]

HTTPS = "https://localhost"
RULESET = "maison-dufresne-demo"
TYPO = ('ruleset "maison-dufresne-demo" version 3\nextends "maison-dufresne"\n\nroute\n'
        '  when has errors -> hold "fix validation errors first"\n'
        '  when totals.amount_with_vatt > 9000 EUR -> approval by "customer", then portal as pdf\n'
        '  otherwise -> portal as pdf\n')
FIXED = TYPO.replace("amount_with_vatt", "amount_with_vat")
CASES = """base: atelier-lumiere-F2026-0112-dufresne.json
cases:
  - name: Below the new threshold, no approval
    expect:
      holds: []
      routes: ["portal as pdf"]
  - name: A small order goes to the portal
    base: atelier-lumiere-F2026-0107-dufresne.json
    expect:
      holds: []
      routes: ["portal as pdf"]
"""


class Browser:
    """A test client that keeps cookies, speaks HTTPS (the cookies are Secure) and sends the page's CSRF token."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.client = app.test_client()
        self.token = ""

    def get(self, path: str, **kwargs):  # noqa: ANN201
        response = self.client.get(path, base_url=HTTPS, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):  # noqa: ANN201
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.token
        headers = {"Referer": f"{HTTPS}{path}", **kwargs.pop("headers", {})}
        return self.client.post(path, data=form, base_url=HTTPS, headers=headers, **kwargs)

    def sign_in(self, email: str, organisation: str = "demo"):  # noqa: ANN201
        self.get("/console/sign-in")
        return self.post("/console/sign-in", {"organisation": organisation, "email": email, "password": PASSWORD})


@pytest.fixture(scope="module")
def app(scene: Scene):  # noqa: ANN201
    application = web_app(scene, WEB_SIGN_IN_RATE_PER_ADDRESS="1000/minute", WEB_SIGN_IN_RATE_PER_ACCOUNT="1000/minute")
    yield application
    application.extensions["aiguillage.database"].engine.dispose()


def _ruleset_id(scene: Scene, tenant_id: uuid.UUID | None = None, name: str = RULESET) -> uuid.UUID:
    with transaction(session_factory(scene.engine)) as session:
        return Rulesets(session, tenant_id or scene.tenant_id).find(name).id


def _analyst(app) -> Browser:  # noqa: ANN001
    browser = Browser(app)
    assert browser.sign_in("analyst@demo.example").status_code == 303
    return browser


def test_only_analysts_and_admins_reach_the_workspace(app, scene):
    anonymous = Browser(app)
    assert anonymous.get("/console/rulesets/").status_code == 302
    for email in ("ar@demo.example", "approver@demo.example"):
        browser = Browser(app)
        browser.sign_in(email)
        assert browser.get("/console/rulesets/").status_code == 403
        assert "/console/rulesets/" not in browser.get("/console/").get_data(as_text=True)
    customer = Browser(app)
    customer.get(scene.link("ap@dufresne.example"))
    customer.post(scene.link("ap@dufresne.example"))
    assert customer.get("/console/rulesets/").status_code in (302, 403)
    for email in ("analyst@demo.example", "admin@demo.example"):
        browser = Browser(app)
        browser.sign_in(email)
        page = browser.get("/console/rulesets/")
        assert page.status_code == 200 and RULESET in page.get_data(as_text=True)
        assert "/console/rulesets/" in browser.get("/console/").get_data(as_text=True)


def test_check_gives_the_cli_diagnostic_with_line_and_column(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    answer = browser.post(f"/console/rulesets/{ruleset_id}/check.json", {"content": TYPO},
                          headers={"X-CSRFToken": browser.token})
    assert answer.status_code == 200
    assert answer.json["ok"] is False
    [diagnostic] = answer.json["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"]) == (6, 8)
    assert "did you mean totals.amount_with_vat?" in diagnostic["message"]
    assert diagnostic["rendered"].startswith("maison-dufresne-demo.rules:6:8: totals has no field 'amount_with_vatt'")
    page = browser.post(f"/console/rulesets/{ruleset_id}", {"content": TYPO, "action": "check"})
    html = page.get_data(as_text=True)
    assert 'data-line="6" data-column="8"' in html and "did you mean totals.amount_with_vat?" in html
    assert browser.post(f"/console/rulesets/{ruleset_id}/check.json", {"content": FIXED}, csrf=False).status_code == 400
    names = browser.post(f"/console/rulesets/{ruleset_id}/check.json", {"content": FIXED},
                         headers={"X-CSRFToken": browser.token}).json["names"]
    assert "po_number" in names["tables"]["order_book"]  # the parent's table, with its columns
    assert "ISO-4217" in names["codelists"]


def test_save_try_and_run_cases_on_the_text_being_edited(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    saved = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "save"})
    assert saved.status_code == 200 and "Draft saved." in saved.get_data(as_text=True)
    with transaction(session_factory(scene.engine)) as session:
        assert Rulesets(session, scene.tenant_id).draft(ruleset_id).content == FIXED
    tried = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "try",
                                                             "invoice": "sample:atelier-lumiere-F2026-0112-dufresne.json"})
    html = tried.get_data(as_text=True)
    assert tried.status_code == 200
    draft_part, force_part = html.split('id="tried-draft-heading"')[1].split('id="tried-force-heading"')
    assert "approval" not in draft_part.split("Explain")[0]  # 6 000 € is below the draft's 9 000 €
    assert "approval" in force_part.split("Explain")[0]  # and above the version in force's 5 000 €
    run = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "test", "cases": CASES})
    html = run.get_data(as_text=True)
    assert "2 passed, 0 failed" in html, html
    failing = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED.replace("9000", "5000"),
                                                                "action": "test", "cases": CASES})
    html = failing.get_data(as_text=True)
    assert "1 passed, 1 failed" in html and "FAILED" in html and "Below the new threshold" in html


def test_try_cannot_read_another_tenants_invoice(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    answer = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "try",
                                                              "invoice": f"stored:{scene.rival[0]}"})
    assert answer.status_code == 404 and "RIVAL-0001" not in answer.get_data(as_text=True)
    sneaky = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "try",
                                                              "invoice": "sample:../pyproject.toml"})
    assert sneaky.status_code == 404


def test_another_tenants_ruleset_is_not_found(app, scene):
    with transaction(session_factory(scene.engine)) as session:
        rival = Rulesets(session, scene.rival_id).create("rival-rules", CLI, customer_code=CUSTOMER,
                                                         content=FIXED.replace("maison-dufresne-demo", "rival-rules"))
        rival_id = rival.id
    browser = _analyst(app)
    assert browser.get(f"/console/rulesets/{rival_id}").status_code == 404
    browser.get("/console/rulesets/")
    assert browser.post(f"/console/rulesets/{rival_id}/publish", {}).status_code == 404
    assert "rival-rules" not in browser.get("/console/rulesets/").get_data(as_text=True)


def test_diff_publish_and_rollback_are_audited(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    browser.post(f"/console/rulesets/{ruleset_id}", {"content": TYPO, "action": "save"})
    refused = browser.post(f"/console/rulesets/{ruleset_id}/publish", {"note": "typo"})
    assert refused.status_code == 422 and "did you mean totals.amount_with_vat?" in refused.get_data(as_text=True)
    browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "save"})
    diff = browser.get(f"/console/rulesets/{ruleset_id}/diff?from=2").get_data(as_text=True)
    changed = diff.split('id="rules-changed"')[1].split("</ul>")[0]
    added = diff.split('id="rules-added"')[1].split("</ul>")[0]
    removed = diff.split('id="rules-removed"')[1].split("</ul>")[0]
    assert "route when totals.amount_with_vat &gt; 9000 EUR" in added
    assert "route when totals.amount_with_vat &gt; 5000 EUR" in removed
    assert "None." in changed
    between = browser.get(f"/console/rulesets/{ruleset_id}/diff?from=1&to=2").get_data(as_text=True)
    # Version 2 asks the customer, not the account manager, to approve above 5 000 €: the same route, changed.
    assert "route when totals.amount_with_vat &gt; 5000 EUR" in between.split('id="rules-changed"')[1].split("</ul>")[0]
    assert "route when has errors" not in between.split('id="rules-changed"')[1].split("</ul>")[0]
    published = browser.post(f"/console/rulesets/{ruleset_id}/publish", {"note": "threshold 9000"})
    assert published.status_code == 303
    page = browser.get(published.headers["Location"]).get_data(as_text=True)
    assert "Version 3 published." in page and '<strong id="in-force">3</strong>' in page
    entries = _entries(scene, "ruleset.publish")
    assert entries and entries[0].actor == "user:analyst@demo.example"
    rolled = browser.post(f"/console/rulesets/{ruleset_id}/rollback", {"to": "2"})
    assert rolled.status_code == 303
    assert '<strong id="in-force">4</strong>' in browser.get(rolled.headers["Location"]).get_data(as_text=True)
    with transaction(session_factory(scene.engine)) as session:
        assert Rulesets(session, scene.tenant_id).active_version(ruleset_id).source_version == 2
    assert any(e.actor == "user:analyst@demo.example" for e in _entries(scene, "ruleset.rollback"))
    again = browser.post(f"/console/rulesets/{ruleset_id}/rollback", {"to": "2"})
    assert again.status_code == 409


def test_fields_and_keywords_for_the_editor(app):
    browser = _analyst(app)
    fields = browser.get("/console/rulesets/fields.json").json
    total = next(f for f in fields if f["path"] == "totals.amount_with_vat")
    assert total["id"] == "BT-112" and total["description"]
    keywords = browser.get("/console/rulesets/language.json").json["keywords"]
    assert {"route", "when", "validate", "enrich", "otherwise", "assert"} <= set(keywords)


def _entries(scene: Scene, action: str) -> list:
    with transaction(session_factory(scene.engine)) as session:
        return [e for e in AuditLog(session, scene.tenant_id).entries(limit=500) if e.action == action]


def test_the_workspace_speaks_french(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    page = browser.get(f"/console/rulesets/{ruleset_id}", headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html and "Règles de maison-dufresne-demo" in html and "Vérifier" in html
    assert 'data-where="ligne LINE, colonne COLUMN"' in html
    checked = browser.post(f"/console/rulesets/{ruleset_id}", {"content": TYPO, "action": "check"},
                           headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "ligne 6, colonne 8" in checked


def test_a_case_made_from_the_invoice_being_tried_runs_and_passes(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    held = scene.own["F2026-0112"]
    browser.get(f"/console/rulesets/{ruleset_id}")
    made = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "case",
                                                            "case_from": f"stored:{held}", "cases": ""})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and "A case expecting this decision was added" in html
    cases_text = html.split('name="cases"')[1].split(">", 1)[1].split("</textarea>")[0]
    cases_text = cases_text.replace("&#34;", '"').replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")
    assert f"stored-{held}.json" in cases_text and "channel: portal" in cases_text
    sample = browser.post(f"/console/rulesets/{ruleset_id}", {
        "content": FIXED, "action": "case", "case_from": "sample:atelier-lumiere-F2026-0107-dufresne.json",
        "cases": cases_text})
    cases_text = sample.get_data(as_text=True).split('name="cases"')[1].split(">", 1)[1].split("</textarea>")[0]
    cases_text = cases_text.replace("&#34;", '"').replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")
    run = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "test", "cases": cases_text})
    assert "2 passed, 0 failed" in run.get_data(as_text=True), cases_text
    # The same cases against the version in force's threshold (5 000 €): the large invoice now wants approval.
    stricter = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED.replace("9000", "5000"),
                                                                 "action": "test", "cases": cases_text})
    assert "1 passed, 1 failed" in stricter.get_data(as_text=True)
    # Another tenant's invoice named in a case is not found, not read.
    rival = cases_text + f"  - name: rival\n    base: stored-{scene.rival[0]}.json\n    expect: {{valid: true}}\n"
    answer = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "test", "cases": rival})
    html = answer.get_data(as_text=True)
    report = html.split("ws-report")[1].split("</pre>")[0]
    assert "2 passed, 1 failed" in html and "invoice file not found" in report and "RIVAL-0001" not in html, report


def test_cases_cannot_read_files_elsewhere_on_the_server(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    sample = "atelier-lumiere-F2026-0112-dufresne.json"
    for where in ("/etc/hostname", "../../../../etc/hostname", f"../{sample}", f"{sample}\n    ruleset: en16931"):
        cases_text = f"cases:\n  - name: elsewhere\n    invoice: {where}\n    expect: {{valid: true}}\n"
        html = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "test",
                                                                 "cases": cases_text}).get_data(as_text=True)
        assert "0 passed, 1 failed" in html and "no other ruleset or folder on the server" in html, where


def test_an_uploaded_invoice_is_tried(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    browser.get(f"/console/rulesets/{ruleset_id}")
    data = (samples_root() / "atelier-lumiere-F2026-0112-dufresne.json").read_bytes()
    tried = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "try",
                                                             "upload": (io.BytesIO(data), "mine.json")},
                         content_type="multipart/form-data")
    assert tried.status_code == 200 and "Decision for mine.json" in tried.get_data(as_text=True)
    broken = browser.post(f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "try",
                                                              "upload": (io.BytesIO(b"<Invoice"), "bad.xml")},
                          content_type="multipart/form-data")
    assert broken.status_code == 400 and "The invoice cannot be read" in broken.get_data(as_text=True)


def test_publishing_over_a_newer_version_is_refused_and_other_roles_cannot_act(app, scene):
    browser = _analyst(app)
    ruleset_id = _ruleset_id(scene)
    seven = FIXED.replace("9000", "7000")
    browser.get(f"/console/rulesets/{ruleset_id}")
    browser.post(f"/console/rulesets/{ruleset_id}", {"content": seven, "action": "save"})
    with transaction(session_factory(scene.engine)) as session:  # someone rolls back meanwhile (through the API)
        newer = Rulesets(session, scene.tenant_id).rollback(ruleset_id, 1, CLI).number
    refused = browser.post(f"/console/rulesets/{ruleset_id}/publish", {})
    assert refused.status_code == 409 and f"version {newer} of" in refused.get_data(as_text=True)
    ar = Browser(app)
    ar.sign_in("ar@demo.example")
    ar.get("/console/")
    for path, form in ((f"/console/rulesets/{ruleset_id}/publish", {}),
                       (f"/console/rulesets/{ruleset_id}/rollback", {"to": "1"}),
                       (f"/console/rulesets/{ruleset_id}/discard", {}),
                       (f"/console/rulesets/{ruleset_id}", {"content": FIXED, "action": "save"})):
        assert ar.post(path, form).status_code == 403
    with transaction(session_factory(scene.engine)) as session:
        assert Rulesets(session, scene.tenant_id).draft(ruleset_id).content == seven
    assert browser.post(f"/console/rulesets/{ruleset_id}/discard", {}).status_code == 303
    assert any(e.actor == "user:analyst@demo.example" for e in _entries(scene, "ruleset.draft.discard"))
    browser.post(f"/console/rulesets/{ruleset_id}", {"content": seven, "action": "save"})
    assert browser.post(f"/console/rulesets/{ruleset_id}/publish", {}).status_code == 303
    with transaction(session_factory(scene.engine)) as session:
        assert Rulesets(session, scene.tenant_id).active_version(ruleset_id).number == newer + 1
