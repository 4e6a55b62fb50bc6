"""SIGKILL a real `aiguillage worker` process in the middle of a send, start another, and check
the invoice got through exactly once per delivery key as the receiver sees it.

The receiver (an SMTP server, or a Peppol access point over HTTP) keeps the
message and then withholds its acknowledgement, so the first worker is
killed at the worst moment: the receiver has the invoice, the outbox does
not know. The second worker must send it again (nothing lost) with the same
Message-ID / SBDH instance id (the receiver drops the copy), record the
killed attempt as abandoned, and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from worker_helpers import FROM, queue_invoice, smtp_environment, url_of

import aiguillage
from aiguillage.adapters.base import ChannelSettings
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.outbox import Outbox

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
CODE_ROOT = Path(aiguillage.__file__).resolve().parents[1]
LEASE = 2  # seconds: how long the second worker waits for the killed one's claim to run out


def start_worker(url: str, env: dict[str, str], log_path) -> subprocess.Popen:
    """`aiguillage worker` in its own process, logging to a file."""
    environment = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    environment.pop("AIGUILLAGE_DATABASE_URL", None)
    # The child runs the very code under test, wherever the package is installed from.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), environment.get("PYTHONPATH")]))
    log = open(log_path, "ab")  # noqa: SIM115 - closed by the child's exit; the file outlives this call
    return subprocess.Popen(
        [sys.executable, "-m", "aiguillage.cli.main", "worker", "--database", url, "--concurrency", "1",
         "--poll", "0.1", "--lease", str(LEASE), "--log-level", "INFO"],
        env=environment, stdout=subprocess.PIPE, stderr=log,
    )


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def entry_view(engine, tenant, entry_id):
    with transaction(session_factory(engine)) as session:
        return Outbox(session, tenant).view(entry_id)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


@pytest.mark.parametrize("channel", ["email", "peppol"])
def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_unrecognisable(
        channel, dispatch_db, make_tenant, tmp_path):
    tenant = make_tenant(dispatch_db)
    url = url_of(dispatch_db)
    settings = ChannelSettings(email="ap@acme-retail.example", attachment_formats=["ubl"],
                               peppol_participant_id="0009:52198765400027")
    queued = queue_invoice(dispatch_db, tenant, channel, settings=settings)
    hold = threading.Event()
    first = second = None
    if channel == "email":
        receiver = LoopbackSmtpServer(tmp_path, hold_replies=hold)
        env = smtp_environment(receiver)
    else:  # the access point keeps the first envelope, then answers too late for anyone
        receiver = LoopbackHttpServer([Answer(200, b"{}", delay=60), Answer(200, b'{"messageId": "ap-1"}')])
        env = {"AIGUILLAGE_PEPPOL_ACCESS_POINT_URL": f"{receiver.url}/outbound", "AIGUILLAGE_PEPPOL_TIMEOUT": "20"}
    with receiver:
        try:
            first = start_worker(url, env, tmp_path / "worker-1.log")
            wait_for(lambda: len(receiver.received) == 1, 60, "the first worker's send to arrive")
            sending = entry_view(dispatch_db, tenant, queued.entry_id)
            assert sending.entry.status == "sending" and sending.entry.claimed_by.endswith(f":{first.pid}")

            first.send_signal(signal.SIGKILL)  # mid-send: the receiver has it, no answer was read
            assert first.wait(timeout=10) == -signal.SIGKILL
            hold.set()  # let the server's side of the dead connection end

            second = start_worker(url, env, tmp_path / "worker-2.log")
            wait_for(lambda: entry_view(dispatch_db, tenant, queued.entry_id).entry.status == "delivered", 60,
                     "the second worker to deliver it")
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0, (tmp_path / "worker-2.log").read_text()
            assert "1 delivered" in second.stdout.read().decode()
            received = list(receiver.received)
        finally:
            hold.set()
            for process in (first, second):
                if process is not None:
                    stop(process)

    if channel == "email":
        ids = [mail.message["Message-ID"] for mail in received]
        assert all(mail.mail_from == FROM for mail in received)
    else:
        ids = [etree.fromstring(r.body).findtext(f".//{{{SBDH_NS}}}InstanceIdentifier") for r in received]
    # At least once (the killed send may or may not have counted), and every copy under one id:
    # de-duplicated by that id, the receiver has exactly one invoice.
    assert len(received) == 2 and len(set(ids)) == 1 and None not in ids

    final = entry_view(dispatch_db, tenant, queued.entry_id)
    assert [(a.number, a.outcome) for a in final.attempts] == [(1, "abandoned"), (2, "ok")]
    assert final.attempts[0].worker.endswith(f":{first.pid}") and final.attempts[1].worker.endswith(f":{second.pid}")
    if channel == "email":
        assert final.attempts[1].remote_id == ids[0]
    else:
        assert final.attempts[1].remote_id == "ap-1"
