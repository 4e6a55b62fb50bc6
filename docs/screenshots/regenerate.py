"""Regenerate the screenshots of the main pages: `python3 docs/screenshots/regenerate.py`.

Builds the demo in a temporary folder, serves it on loopback, signs in with
one-time links and photographs the portal and console pages in English and
French with Debian's Chromium (Playwright; never a downloaded browser).
Needs the test extra (`pip install -e '.[test]'`) and `apt-get install chromium`.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from aiguillage.api import create_app
from aiguillage.demo import TENANT
from aiguillage.demo import run as run_demo
from aiguillage.store.database import make_engine
from aiguillage.web.seed import demo_links

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CUSTOMER = "DUFRESNE-FR-001"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = run_demo(Path(folder) / "demo")
        app = create_app({"DATABASE_URL": report.database_url, "SECRET_KEY": secrets.token_hex(16)})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for language in ("en", "fr"):
                    engine = make_engine(report.database_url)
                    links = demo_links(engine, TENANT, base)
                    engine.dispose()
                    shoot(browser, language, links.portal[CUSTOMER], links.console)
                browser.close()
        finally:
            server.shutdown()
            app.extensions["aiguillage.database"].engine.dispose()
    return 0


def shoot(browser, language: str, portal_link: str, console_link: str) -> None:  # noqa: ANN001
    locale = "fr-FR" if language == "fr" else "en-GB"
    for link, pages in ((portal_link, ["/portal/", "invoice:/portal/"]),
                        (console_link, ["/console/", "invoice:/console/", "/console/deliveries?status=delivered",
                                        "/console/customers", "/console/audit"])):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(link)
        page.locator("main button[type=submit]").click()
        page.wait_for_load_state()
        for target in pages:
            if target.startswith("invoice:"):
                page.goto(link.split("/", 3)[0] + "//" + link.split("/", 3)[2] + target.removeprefix("invoice:"))
                page.locator("a[href*='/invoices/']").first.click()
                name = target.removeprefix("invoice:").strip("/") + "-invoice"
            else:
                page.goto(link.split("/", 3)[0] + "//" + link.split("/", 3)[2] + target)
                name = target.strip("/").split("?")[0].replace("/", "-")
            page.wait_for_load_state("networkidle")
            path = HERE / f"{name}-{language}.png"
            page.screenshot(path=str(path), full_page="audit" not in name)  # the audit trail is long
            print(path.relative_to(HERE.parent.parent))
        context.close()


if __name__ == "__main__":
    sys.exit(main())
