"""`aiguillage worker`: `--once` empties the outbox into the EDI mailbox folder configured from the
environment; a database behind its schema and nonsense options are refused in one line."""

from __future__ import annotations

import pytest
from worker_helpers import queue_invoice, url_of

from aiguillage.cli.main import main
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.outbox import Outbox

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]


def test_once_sends_what_is_due_and_exits(dispatch_db, make_tenant, tmp_path, monkeypatch, capsys):
    tenant = make_tenant(dispatch_db)
    queued = [queue_invoice(dispatch_db, tenant, "edi") for _ in range(3)]
    monkeypatch.setenv("AIGUILLAGE_EDI_TRANSPORT", "folder")
    monkeypatch.setenv("AIGUILLAGE_EDI_FOLDER", str(tmp_path / "mailbox"))
    status = main(["worker", "--database", url_of(dispatch_db), "--once", "--concurrency", "2", "--log-level", "WARNING"])
    assert status == 0
    assert capsys.readouterr().out.strip() == "aiguillage worker: 3 attempt(s): 3 sent"
    assert len(list((tmp_path / "mailbox").glob("INVOIC_*.edi"))) == 3
    with transaction(session_factory(dispatch_db)) as session:
        assert {Outbox(session, tenant).get(q.entry_id).status for q in queued} == {"sent"}

    assert main(["worker", "--database", url_of(dispatch_db), "--once"]) == 0
    assert "0 attempt(s): nothing due" in capsys.readouterr().out


def test_a_database_behind_its_schema_is_refused(empty_database, capsys):
    assert main(["worker", "--database", empty_database("sqlite"), "--once"]) == 1
    assert "aiguillage db upgrade" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--concurrency", "0"], ["--poll", "-1"], ["--lease", "0"], ["--max-attempts", "x"]])
def test_nonsense_options_are_refused(option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["worker", "--once", *option])
    assert stopped.value.code == 2 and option[0] in capsys.readouterr().err


def test_a_lease_under_a_second_is_refused(capsys):
    assert main(["worker", "--once", "--lease", "0.5", "--database", "sqlite:///unused.db"]) == 1
    assert "lease must be at least one second" in capsys.readouterr().err
