"""A process killed (SIGKILL) in the middle of workflows: another process resumes from the database,
and escalations and reminders fire after the restart (`aiguillage timers --now …`, an injected clock).

The child starts approval and reminder workflows for a batch of held
invoices, then approves them one transaction at a time and is killed part
way. Whatever it committed is complete (released and queued); the rest is
still held. New processes then fire the escalations and the reminders and
the remaining invoices are approved here, in a process whose engine never
saw those sessions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from workflow_helpers import APPROVER, T0, decision_result, stored_invoice

import aiguillage
from aiguillage.store import migrate
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.models import OutboxEntry
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.workflows import starting
from aiguillage.workflows.sessions import Workflows

pytest_plugins = ["aiguillage.store.testing"]

CODE_ROOT = Path(aiguillage.__file__).resolve().parents[1]
COUNT = 30
KILL_AFTER = 8
RESULT = decision_result(params={"escalate_after": "48h", "escalate_to": "cfo", "remind_every": "7d",
                                 "remind_max": 2})

CHILD = textwrap.dedent("""
    import json, sys, time, uuid
    from datetime import datetime
    from aiguillage.store.actor import Actor
    from aiguillage.store.database import make_engine, session_factory, transaction
    from aiguillage.workflows import starting

    url, tenant, now, ids = sys.argv[1], uuid.UUID(sys.argv[2]), datetime.fromisoformat(sys.argv[3]), json.loads(sys.argv[4])
    factory = session_factory(make_engine(url))
    with transaction(factory) as session:
        for invoice_id in ids:
            starting.start_workflows(session, tenant, uuid.UUID(invoice_id), Actor("erp"), now=now)
    print("started", flush=True)
    for invoice_id in ids:
        with transaction(factory) as session:
            starting.approve(session, tenant, uuid.UUID(invoice_id), Actor("approver-1"), now=now)
        print("approved", invoice_id, flush=True)
        time.sleep(0.05)
""")


def _environment() -> dict[str, str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment.pop("AIGUILLAGE_DATABASE_URL", None)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), environment.get("PYTHONPATH")]))
    return environment


def _timers(url: str, now) -> str:  # noqa: ANN001
    done = subprocess.run([sys.executable, "-m", "aiguillage", "timers", "--database", url, "--now", now.isoformat()],
                          env=_environment(), capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_killed_mid_workflow_resumes_and_timers_fire_after_restart(empty_database, make_tenant, tmp_path):
    # A database of its own: `aiguillage timers` fires every tenant's timers, and the counts below are exact.
    sqlite_url = empty_database("sqlite")
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    factory = session_factory(engine)
    tenant_id = make_tenant(engine)
    with transaction(factory) as session:
        ids = [stored_invoice(session, tenant_id, f"K-{index:03d}", result=RESULT) for index in range(COUNT)]
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), sqlite_url, str(tenant_id), T0.isoformat(), json.dumps([str(i) for i in ids])],
        env=_environment(), stdout=subprocess.PIPE, text=True,
    )
    approved: list[uuid.UUID] = []
    try:
        assert child.stdout.readline().strip() == "started"
        while len(approved) < KILL_AFTER:
            approved.append(uuid.UUID(child.stdout.readline().split()[1]))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with transaction(factory) as session:
        workflows = Workflows(session, tenant_id)
        statuses = {i: workflows.for_invoice("approval", i).status for i in ids}
        released = {i for i, status in statuses.items() if status == "released"}
        assert set(approved) <= released and len(released) < COUNT  # killed part way
        assert set(statuses.values()) == {"released", "held"}  # nothing half done
        for invoice_id in ids:  # released ⇔ queued, in the same transaction
            entries = session.scalar(select(func.count()).select_from(OutboxEntry)
                                     .where(OutboxEntry.invoice_id == invoice_id))
            assert entries == (1 if invoice_id in released else 0)
            assert Invoices(session, tenant_id).get(invoice_id).status == ("queued" if invoice_id in released else "held")

    # A new process, two days later: the held ones escalate to the cfo; the released ones' timers were cancelled.
    assert _timers(sqlite_url, T0 + timedelta(hours=49)).startswith(f"timers: {COUNT - len(released)} fired")
    with transaction(factory) as session:
        workflows = Workflows(session, tenant_id)
        for invoice_id in ids:
            row = workflows.for_invoice("approval", invoice_id)
            assert row.role == ("cfo" if invoice_id not in released else "finance")

    # Another new process, after the due date (2026-12-20): one reminder per released invoice
    # (a held one is not reminded of: its reminders start when it is released).
    assert _timers(sqlite_url, T0.replace(day=21, hour=1)).startswith(f"timers: {len(released)} fired")
    with transaction(factory) as session:
        workflows = Workflows(session, tenant_id)
        assert {workflows.for_invoice("reminder", i).state["state"]["sent"] for i in released} == {1}
        assert not any(workflows.find("reminder", str(i)) for i in set(ids) - released)

    # This process, whose engine never held those sessions, approves the rest.
    with transaction(factory) as session:
        for invoice_id in ids:
            if invoice_id not in released:
                assert starting.approve(session, tenant_id, invoice_id, APPROVER).row.status == "released"
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.tenant_id == tenant_id, OutboxEntry.delivery_key.not_like("%reminder%"))) == COUNT
    engine.dispose()
