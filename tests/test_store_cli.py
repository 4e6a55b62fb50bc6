"""The store's commands: `db upgrade|current`, `tenants create|list`, `keys create|list|revoke`."""

from __future__ import annotations

from aiguillage.cli.main import main
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.keys import resolve

pytest_plugins = ["aiguillage.store.testing"]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_full_setup_from_an_empty_database(db_backend, empty_database, capsys):
    url = empty_database(db_backend)
    status, out, _ = _run(capsys, "db", "current", "--database", url)
    assert status == 0 and "none (empty)" in out

    status, _, err = _run(capsys, "tenants", "create", "acme", "--database", url)
    assert status == 1 and "aiguillage db upgrade" in err

    status, out, _ = _run(capsys, "db", "upgrade", "--database", url)
    assert status == 0 and "upgraded from an empty database" in out
    status, out, _ = _run(capsys, "db", "upgrade", "--database", url)
    assert status == 0 and "already at revision" in out

    assert _run(capsys, "tenants", "create", "acme", "--database", url)[0] == 0
    status, _, err = _run(capsys, "tenants", "create", "acme", "--database", url)
    assert status == 1 and "already exists" in err
    assert "acme" in _run(capsys, "tenants", "list", "--database", url)[1]

    status, out, _ = _run(capsys, "keys", "create", "--tenant", "acme", "--role", "erp", "--label", "SAP", "--database", url)
    assert status == 0
    key = out.strip().splitlines()[-1].split()[-1]
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            principal = resolve(session, key)
            assert principal is not None and principal.role == "erp" and principal.tenant_name == "acme"

        listing = _run(capsys, "keys", "list", "--tenant", "acme", "--database", url)[1]
        assert key[:12] in listing and key not in listing and "SAP" in listing
        assert _run(capsys, "keys", "revoke", key[:12], "--tenant", "acme", "--database", url)[0] == 0
        status, _, err = _run(capsys, "keys", "revoke", key[:12], "--tenant", "acme", "--database", url)
        assert status == 1 and "already revoked" in err
        with transaction(session_factory(engine)) as session:
            assert resolve(session, key) is None
    finally:
        engine.dispose()


def test_database_from_the_environment(empty_database, capsys, monkeypatch):
    url = empty_database("sqlite")
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", url)
    assert _run(capsys, "db", "upgrade")[0] == 0
    assert "current" in _run(capsys, "db", "current")[1]


def test_errors_are_one_line(empty_database, capsys):
    url = empty_database("sqlite")
    _run(capsys, "db", "upgrade", "--database", url)
    status, _, err = _run(capsys, "keys", "create", "--tenant", "ghost", "--role", "erp", "--database", url)
    assert status == 1 and err.strip() == "aiguillage keys: no tenant named 'ghost'"
    status, _, err = _run(capsys, "db", "upgrade", "--database", "mysql://nobody@nowhere/db")
    assert status == 1 and len(err.strip().splitlines()) == 1
    _run(capsys, "tenants", "create", "x", "--database", url)
    status, _, err = _run(capsys, "keys", "create", "--tenant", "x", "--role", "customer", "--database", url)
    assert status == 1 and "customer's code" in err
