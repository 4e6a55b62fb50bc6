"""Rulesets: drafts, immutable numbered versions, effective dates, rollback, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.hashing import sha256_hex
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.rulesets import Rulesets

pytest_plugins = ["aiguillage.store.testing"]

MARIE = Actor("key:aig_marie001", role="analyst")
V1 = 'ruleset "acme-retail"\ncustomer "ACME-FR-001"\n'
V2 = V1 + 'validate\n  rule ACME-01 error "PO" assert order_reference exists\n'


def test_draft_publish_versions_and_rollback(store_tx, tenant_id):
    with store_tx() as session:
        rulesets = Rulesets(session, tenant_id)
        ruleset = rulesets.create("acme-retail", MARIE, customer_code="ACME-FR-001", content=V1)
        assert rulesets.draft(ruleset.id).base_version is None
        first = rulesets.publish(ruleset.id, MARIE, note="first")
        assert (first.number, first.content_hash, first.author) == (1, sha256_hex(V1), "key:aig_marie001")
        assert rulesets.draft(ruleset.id) is None

        with pytest.raises(Conflict, match="no draft"):
            rulesets.publish(ruleset.id, MARIE)
        rulesets.save_draft(ruleset.id, V1, MARIE)
        with pytest.raises(Conflict, match="identical to version 1"):
            rulesets.publish(ruleset.id, MARIE)
        rulesets.save_draft(ruleset.id, V2, MARIE)
        assert rulesets.draft(ruleset.id).base_version == 1
        second = rulesets.publish(ruleset.id, MARIE)
        assert second.number == 2
        assert rulesets.active_version(ruleset.id).number == 2

        back = rulesets.rollback(ruleset.id, 1, MARIE, note="PO rule too strict")
        assert (back.number, back.source_version, back.content) == (3, 1, V1)
        assert [v.number for v in rulesets.versions(ruleset.id)] == [1, 2, 3]
        assert rulesets.version(ruleset.id, 2).content == V2  # versions never change
        with pytest.raises(Conflict):
            rulesets.rollback(ruleset.id, 1, MARIE)
        with pytest.raises(NotFound):
            rulesets.version(ruleset.id, 9)
        actions = [e.action for e in AuditLog(session, tenant_id).entries(target_type="ruleset", target_id=ruleset.id)]
        assert actions[0] == "ruleset.rollback" and actions[-1] == "ruleset.create"
        assert actions.count("ruleset.publish") == 2


def test_future_effective_date_keeps_the_current_version_in_force(store_tx, tenant_id):
    with store_tx() as session:
        rulesets = Rulesets(session, tenant_id)
        ruleset = rulesets.create("tomorrow", MARIE, content=V1)
        rulesets.publish(ruleset.id, MARIE)
        rulesets.save_draft(ruleset.id, V2, MARIE)
        later = utcnow() + timedelta(days=1)
        rulesets.publish(ruleset.id, MARIE, effective_from=later)
        assert rulesets.active_version(ruleset.id).number == 1
        assert rulesets.active_version(ruleset.id, at=later).number == 2
        assert rulesets.latest_version(ruleset.id).number == 2


def test_a_draft_started_before_someone_elses_publish_is_refused(store_tx, tenant_id):
    with store_tx() as session:
        rulesets = Rulesets(session, tenant_id)
        ruleset = rulesets.create("racy", MARIE, content=V1)
        draft = rulesets.draft(ruleset.id)
        rulesets.publish(ruleset.id, MARIE)
        # Marie's stale draft, started before version 1 existed, comes back.
        session.add(type(draft)(tenant_id=tenant_id, ruleset_id=ruleset.id, content=V2, content_hash=sha256_hex(V2),
                                base_version=None, updated_by="key:aig_other001"))
        session.flush()
        with pytest.raises(Conflict, match="published after this draft"):
            rulesets.publish(ruleset.id, MARIE)


def test_names_checked_unique_and_isolated(store_tx, store_engine, make_tenant):
    mine, theirs = make_tenant(store_engine), make_tenant(store_engine)
    with pytest.raises(Invalid), store_tx() as session:
        Rulesets(session, mine).create("Not A Name", MARIE)
    with store_tx() as session:
        their_ruleset = Rulesets(session, theirs).create("shared-name", MARIE, content=V1)
        Rulesets(session, theirs).publish(their_ruleset.id, MARIE)
        Rulesets(session, mine).create("shared-name", MARIE)
    with pytest.raises(Conflict), store_tx() as session:
        Rulesets(session, mine).create("shared-name", MARIE)
    with store_tx() as session:
        mine_repo = Rulesets(session, mine)
        for attempt in (
            lambda: mine_repo.get(their_ruleset.id),
            lambda: mine_repo.versions(their_ruleset.id),
            lambda: mine_repo.version(their_ruleset.id, 1),
            lambda: mine_repo.save_draft(their_ruleset.id, V2, MARIE),
            lambda: mine_repo.publish(their_ruleset.id, MARIE),
            lambda: mine_repo.rollback(their_ruleset.id, 1, MARIE),
        ):
            with pytest.raises(NotFound):
                attempt()
        assert their_ruleset.id not in [r.id for r in mine_repo.all()]
