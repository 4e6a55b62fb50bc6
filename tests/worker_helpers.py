"""Shared pieces of the outbox and worker tests: queue a real invoice, a fake clock, adapter configs.

Not a test module (no `test_` prefix): imported by tests/test_outbox_*.py
and tests/test_worker_*.py. Their fixtures are in `dispatch_fixtures`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from aiguillage.adapters.base import ChannelSettings, Route
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.dispatch.destination import destination_document
from aiguillage.dispatch.worker import Worker, WorkerSettings
from aiguillage.model.jsonio import read_json
from aiguillage.store.actor import Actor
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.repositories.outbox import Outbox

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0042.json"
ERP = Actor("key:aig_erptest01", role="erp")
#: The buyer's GLN in the sample invoice: the EDI partner id.
BUYER_GLN = "3098765000017"
FROM = "factures@atelier-lumiere.example"


class FakeClock:
    """A clock the test moves by hand.

    It starts ten minutes ahead of the real clock, so whatever was queued "now"
    (by the store, on the real clock) is already due on it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class Queued:
    """An invoice in the store with one delivery queued for it."""

    invoice_id: uuid.UUID
    entry_id: uuid.UUID
    delivery_key: str
    number: str


def queue_invoice(engine: Engine, tenant_id: uuid.UUID, channel: str = "email", *,
                  settings: ChannelSettings | None = None, route_format: str | None = None, to: str | None = None,
                  params: dict[str, Any] | None = None, number: str | None = None,
                  not_before: datetime | None = None) -> Queued:
    """Store the sample invoice under a new number, mark it queued, and queue one delivery of it."""
    number = number or f"F-{secrets.token_hex(4)}"
    data = SAMPLE.read_bytes()
    invoice = read_json(data, str(SAMPLE))
    invoice.number = number
    if settings is None:
        settings = ChannelSettings(email="ap@acme-retail.example", edi_partner_id=BUYER_GLN,
                                   attachment_formats=["ubl"])
    with transaction(session_factory(engine)) as session:
        invoices = Invoices(session, tenant_id)
        record = invoices.receive(invoice, data, ERP, content_type="application/json").invoice
        invoices.set_status(record.id, "queued", ERP)
        key = f"{record.id}:{channel}"
        destination = destination_document(Route(channel=channel, format=route_format, to=to, params=params or {}),
                                           settings)
        entry = Outbox(session, tenant_id).enqueue(record.id, channel, destination, key, ERP, format=route_format,
                                                   not_before=not_before).entry
        return Queued(record.id, entry.id, key, number)


def smtp_config(server: LoopbackSmtpServer, *, timeout: float = 10) -> dict[str, Any]:
    """The e-mail adapter's configuration for a loopback SMTP server (STARTTLS, login)."""
    return {"smtp": {"host": "127.0.0.1", "port": server.port, "username": "aiguillage", "password": "secret",
                     "ca_file": str(server.cert)}, "from_address": FROM, "timeout": timeout}


def smtp_environment(server: LoopbackSmtpServer) -> dict[str, str]:
    """The same configuration as environment variables, for a worker subprocess."""
    return {
        "AIGUILLAGE_EMAIL_SMTP__HOST": "127.0.0.1",
        "AIGUILLAGE_EMAIL_SMTP__PORT": str(server.port),
        "AIGUILLAGE_EMAIL_SMTP__USERNAME": "aiguillage",
        "AIGUILLAGE_EMAIL_SMTP__PASSWORD": "secret",
        "AIGUILLAGE_EMAIL_SMTP__CA_FILE": str(server.cert),
        "AIGUILLAGE_EMAIL_FROM_ADDRESS": FROM,
        "AIGUILLAGE_EMAIL_TIMEOUT": "20",
    }


def folder_config(folder: Path) -> dict[str, Any]:
    """The EDI adapter writing into an outbound mailbox folder."""
    return {"transport": "folder", "folder": str(folder)}


def make_worker(engine: Engine, clock: FakeClock | None = None, *, configs: dict[str, dict[str, Any]] | None = None,
                pool: AdapterPool | None = None, policy: RetryPolicy | None = None, concurrency: int = 1,
                once: bool = True, lease: float = 60, poll: float = 0.05) -> Worker:
    """A worker on `engine` with the given adapter configurations (no environment involved)."""
    return Worker(
        engine,
        settings=WorkerSettings(concurrency=concurrency, once=once, lease=timedelta(seconds=lease), poll=poll,
                                name=f"test-{secrets.token_hex(3)}"),
        policy=policy or RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(seconds=300), max_attempts=3),
        adapters=pool or AdapterPool(configs or {}),
        **({"clock": clock} if clock is not None else {}),
    )


def url_of(engine: Engine) -> str:
    """The engine's URL with its password, for a subprocess or an app on the same database."""
    return engine.url.render_as_string(hide_password=False)
