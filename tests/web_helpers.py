"""Helpers of the web tests: a demo tenant with people, a dead letter and a rival tenant.

The scene is built the way the
product builds it: `aiguillage demo` (SQLite, the API, the outbox worker), then
web users through the store, a dead letter through the worker's own store path
(claim, permanent failure), and a second tenant that has a customer with the
SAME code as one of the demo's, so isolation is tested where it is hardest.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from worker_helpers import SAMPLE, FakeClock, queue_invoice

from aiguillage.api import create_app
from aiguillage.demo import DemoReport, samples_root
from aiguillage.demo import run as run_demo
from aiguillage.model.jsonio import read_json
from aiguillage.store.actor import CLI, WORKER
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.claims import Report, claim_due, finish
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.repositories.users import WebUsers
from aiguillage.store.vocabulary import AttemptOutcome, OutboxStatus

PASSWORD = "correct horse battery staple"
#: The demo customer with a portal delivery and an invoice held for the supplier's approval.
CUSTOMER = "DUFRESNE-FR-001"
HELD_NUMBER = "F2026-0112"
#: The same invoice again, after a new ruleset version asks the customer itself to approve.
CUSTOMER_HELD_NUMBER = "F2026-0112-B"
DUFRESNE_SAMPLE = "atelier-lumiere-F2026-0112-dufresne.json"


@dataclass
class Scene:
    """What the web tests work on."""

    url: str
    engine: Engine
    tenant_id: uuid.UUID
    rival_id: uuid.UUID
    #: Invoice ids: of CUSTOMER, of the demo's other customers, of the rival tenant.
    own: dict[str, uuid.UUID] = field(default_factory=dict)
    others: list[uuid.UUID] = field(default_factory=list)
    rival: list[uuid.UUID] = field(default_factory=list)
    dead_letter: uuid.UUID | None = None

    def link(self, email: str, tenant_id: uuid.UUID | None = None) -> str:
        """A fresh one-time sign-in path for the user."""
        with transaction(session_factory(self.engine)) as session:
            users = WebUsers(session, tenant_id or self.tenant_id)
            user = users.find_email(email)
            area = "portal" if user.role == "customer" else "console"
            return f"/{area}/link/{users.issue_link(user, CLI)}"


def _dead_letter(engine: Engine, tenant_id: uuid.UUID) -> uuid.UUID:
    queued = queue_invoice(engine, tenant_id, "email", number=f"DL-{secrets.token_hex(3)}")
    clock = FakeClock()
    with transaction(session_factory(engine)) as session:
        [claim] = [c for c in claim_due(session, "w", now=clock(), lease=timedelta(seconds=60), limit=50,
                                        actor=WORKER) if c.entry_id == queued.entry_id]
    with transaction(session_factory(engine)) as session:
        finish(session, claim, Report(AttemptOutcome.FAILED, OutboxStatus.DEAD, clock(),
                                      detail="550 5.1.1 mailbox unknown"), WORKER)
    return queued.entry_id


def _customer_approval(report: DemoReport) -> None:
    """Publish a version of the customer's ruleset that asks the customer to approve, and submit one invoice to it.

    Through the API, as an analyst and the ERP would.
    """
    app = create_app({"DATABASE_URL": report.database_url, "SECRET_KEY": "scene"})
    client, headers = app.test_client(), {"Authorization": f"Bearer {report.key}"}
    try:
        [ruleset] = [r for r in client.get("/v1/rulesets", headers=headers).json["items"]
                     if r["name"] == "maison-dufresne-demo"]
        content = ('ruleset "maison-dufresne-demo" version 2\nextends "maison-dufresne"\n\nroute\n'
                   '  when has errors -> hold "fix validation errors first"\n'
                   '  when totals.amount_with_vat > 5000 EUR -> approval by "customer", then portal as pdf\n'
                   '  otherwise -> portal as pdf\n')
        assert client.put(f"/v1/rulesets/{ruleset['id']}/draft", json={"content": content},
                          headers=headers).status_code == 200
        published = client.post(f"/v1/rulesets/{ruleset['id']}/publish", json={"note": "customer approves"},
                                headers=headers)
        assert published.status_code == 201, published.json
        sample = samples_root() / DUFRESNE_SAMPLE
        body = json.loads(sample.read_text(encoding="utf-8"))
        body["number"] = CUSTOMER_HELD_NUMBER
        body["issue_date"] = "2026-11-26"  # same buyer, amount and day would be held as a probable duplicate
        answer = client.post(f"/v1/invoices?customer={CUSTOMER}", json=body, headers=headers)
        assert answer.status_code == 202, answer.json
    finally:
        app.extensions["aiguillage.database"].engine.dispose()


def build_scene(folder: Path) -> Scene:
    report = run_demo(folder)
    _customer_approval(report)
    engine = make_engine(report.database_url)
    with transaction(session_factory(engine)) as session:
        tenant = Tenants(session).by_name("demo")
        rival = Tenants(session).create(f"rival-{secrets.token_hex(3)}", CLI)
        Customers(session, rival.id).create({"code": CUSTOMER, "name": "Rival's Dufresne", "language": "fr"}, CLI)
        data = SAMPLE.read_bytes()
        invoice = read_json(data, str(SAMPLE))
        invoice.number = "RIVAL-0001"
        rival_invoice = Invoices(session, rival.id).receive(invoice, data, CLI, customer_code=CUSTOMER).invoice
        Invoices(session, rival.id).set_status(rival_invoice.id, "queued", CLI)  # released: its portal shows it
        users = WebUsers(session, tenant.id)
        for email, role, code in [("admin@demo.example", "admin", None), ("ar@demo.example", "ar", None),
                                  ("approver@demo.example", "approver", None),
                                  ("analyst@demo.example", "analyst", None),
                                  ("ap@dufresne.example", "customer", CUSTOMER),
                                  ("ap@acme.example", "customer", "ACME-FR-001")]:
            user = users.create(email, email.split("@")[0], role, CLI, customer_code=code)
            users.set_password(user, PASSWORD, CLI)
        WebUsers(session, rival.id).create("ap@dufresne.example", "rival", "customer", CLI, customer_code=CUSTOMER)
        records = session.scalars(select(InvoiceRecord).where(InvoiceRecord.tenant_id == tenant.id)).all()
        scene = Scene(report.database_url, engine, tenant.id, rival.id, rival=[rival_invoice.id])
        for record in records:
            if record.customer_code == CUSTOMER:
                scene.own[record.number] = record.id
            else:
                scene.others.append(record.id)
    scene.dead_letter = _dead_letter(engine, scene.tenant_id)
    return scene


def web_app(scene: Scene, **config: object):  # noqa: ANN201 - a Flask app
    return create_app({"DATABASE_URL": scene.url, "SECRET_KEY": secrets.token_hex(16), **config})
