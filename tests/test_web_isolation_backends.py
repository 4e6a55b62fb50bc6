"""Portal isolation on SQLite and PostgreSQL: a customer user sees its customer's invoices of its tenant only.

Two tenants each have a customer with the same code, and the first tenant
has a second customer; the user of the first tenant's customer gets 404 for
every other invoice, and its list holds only its own.
"""

from __future__ import annotations

import re
import secrets

from worker_helpers import SAMPLE

from aiguillage.api import create_app
from aiguillage.model.jsonio import read_json
from aiguillage.store.actor import CLI
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.users import WebUsers

pytest_plugins = ["aiguillage.store.testing"]


def _invoice(session, tenant_id, customer: str):  # noqa: ANN001, ANN202
    data = SAMPLE.read_bytes()
    invoice = read_json(data, str(SAMPLE))
    invoice.number = f"ISO-{secrets.token_hex(4)}"
    invoices = Invoices(session, tenant_id)
    record = invoices.receive(invoice, data, CLI, customer_code=customer).invoice
    invoices.set_status(record.id, "queued", CLI)  # released to the customer: the portal shows it
    return record.id


def test_portal_isolation_on_each_backend(store_engine, make_tenant):
    mine, rival = make_tenant(store_engine), make_tenant(store_engine)
    with transaction(session_factory(store_engine)) as session:
        for tenant, code in ((mine, "C1"), (mine, "C2"), (rival, "C1")):
            Customers(session, tenant).create({"code": code, "name": code, "language": "en"}, CLI)
        own = [_invoice(session, mine, "C1") for _ in range(2)]
        others = [_invoice(session, mine, "C2"), _invoice(session, mine, None), _invoice(session, rival, "C1")]
        users = WebUsers(session, mine)
        token = users.issue_link(users.create("ap@c1.example", "AP", "customer", CLI, customer_code="C1"), CLI)
    app = create_app({"DATABASE_URL": store_engine.url.render_as_string(hide_password=False),
                      "SECRET_KEY": "k" * 32, "WEB_COOKIE_SECURE": False})
    try:
        client = app.test_client()
        page = client.get(f"/portal/link/{token}").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post(f"/portal/link/{token}", data={"csrf_token": csrf}).status_code == 303
        listing = client.get("/portal/").get_data(as_text=True)
        assert all(str(i) in listing for i in own) and not any(str(i) in listing for i in others)
        for invoice in others:
            for suffix in ("", "/pdf", "/cii"):
                assert client.get(f"/portal/invoices/{invoice}{suffix}").status_code == 404
            assert client.post(f"/portal/invoices/{invoice}/query",
                               data={"csrf_token": csrf, "reason": "price", "message": "?"}).status_code == 404
        assert client.get(f"/portal/invoices/{own[0]}").status_code == 200
    finally:
        app.extensions["aiguillage.database"].engine.dispose()
