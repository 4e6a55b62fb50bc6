"""`aiguillage users invite|list`: the first admin of a tenant gets in with a printed one-time link."""

from __future__ import annotations

import re

from aiguillage.cli.main import main
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.users import redeem_link

pytest_plugins = ["aiguillage.store.testing"]


def test_invite_prints_a_link_that_signs_in_once(sqlite_url, capsys):
    assert main(["tenants", "create", "acme-web", "--database", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["users", "invite", "--tenant", "acme-web", "--email", "Boss@Acme.example", "--role", "admin",
                 "--base-url", "https://invoices.acme.example/", "--database", sqlite_url]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"link: https://invoices\.acme\.example/console/link/(aigl_\S+)", last)
    assert match, last
    engine = make_engine(sqlite_url)
    try:
        with transaction(session_factory(engine)) as session:
            assert redeem_link(session, match.group(1)).email == "boss@acme.example"
        with transaction(session_factory(engine)) as session:
            assert redeem_link(session, match.group(1)) is None
    finally:
        engine.dispose()
    assert main(["users", "list", "--tenant", "acme-web", "--database", sqlite_url]) == 0
    assert "boss@acme.example\tadmin\t\tlink only" in capsys.readouterr().out
    assert main(["users", "invite", "--tenant", "acme-web", "--email", "ap@x.example", "--role", "customer",
                 "--customer", "NOPE", "--database", sqlite_url]) == 1
    assert "no customer with code NOPE" in capsys.readouterr().err
