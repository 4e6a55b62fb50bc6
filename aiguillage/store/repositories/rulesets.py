"""Rulesets: one draft per ruleset, immutable numbered versions, rollback by republishing.

Publishing turns the draft into version N+1 and discards the draft. A version
is never changed or deleted, so a decision that names a version can always be
replayed; rolling back publishes a copy of an older version's content as a
new version (with `source_version` saying which). The version in force at a
moment is the highest-numbered one whose `effective_from` has passed, which
is what every server worker reads per request: publishing needs no restart.
Checking and testing a draft belong to the engine, not here.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.hashing import sha256_hex
from aiguillage.store.models import Ruleset, RulesetDraft, RulesetVersion
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped

#: Ruleset names appear in `ruleset "acme-retail"` and in URLs.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


class Rulesets(TenantScoped):
    """A tenant's rulesets, drafts and versions."""

    noun = "ruleset"

    def create(
        self, name: str, actor: Actor, *, customer_code: str | None = None, content: str | None = None
    ) -> Ruleset:
        """A new ruleset, with a first draft when content is given."""
        if not NAME_PATTERN.fullmatch(name):
            raise Invalid(
                f"invalid ruleset name {name!r}: lower-case letters, digits, '.', '-', '_'", pointer="/name"
            )
        if self.find(name) is not None:
            raise Conflict(f"a ruleset named {name!r} already exists")
        ruleset = Ruleset(tenant_id=self.tenant_id, name=name, customer_code=customer_code, created_by=actor.name)
        self.session.add(ruleset)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"a ruleset named {name!r} already exists") from None
        self._audit(actor, "ruleset.create", ruleset, {"name": name, "customer": customer_code})
        if content is not None:
            self.save_draft(ruleset.id, content, actor)
        return ruleset

    def get(self, ruleset_id: uuid.UUID | str) -> Ruleset:
        """The ruleset with that id, or `NotFound`."""
        return self._get(Ruleset, ruleset_id)

    def find(self, name: str) -> Ruleset | None:
        """The ruleset with that name, if any."""
        return self.session.scalars(
            select(Ruleset).where(Ruleset.tenant_id == self.tenant_id, Ruleset.name == name)
        ).one_or_none()

    def all(self, *, customer_code: str | None = None) -> list[Ruleset]:
        """The tenant's rulesets by name, optionally those of one customer."""
        query = select(Ruleset).where(Ruleset.tenant_id == self.tenant_id)
        if customer_code is not None:
            query = query.where(Ruleset.customer_code == customer_code)
        return list(self.session.scalars(query.order_by(Ruleset.name)))

    def assign_customer(self, ruleset_id: uuid.UUID | str, customer_code: str | None, actor: Actor) -> Ruleset:
        """Make the ruleset decide for another customer (or for none); audited with the old and new code."""
        ruleset = self.get(ruleset_id)
        if ruleset.customer_code != customer_code:
            old, ruleset.customer_code = ruleset.customer_code, customer_code
            self.session.flush()
            self._audit(actor, "ruleset.customer", ruleset, {"from": old, "to": customer_code})
        return ruleset

    # ------------------------------------------------------------------ draft

    def draft(self, ruleset_id: uuid.UUID | str) -> RulesetDraft | None:
        """The ruleset's draft, if there is one."""
        ruleset = self.get(ruleset_id)
        return self.session.scalars(
            select(RulesetDraft).where(RulesetDraft.tenant_id == self.tenant_id, RulesetDraft.ruleset_id == ruleset.id)
        ).one_or_none()

    def save_draft(self, ruleset_id: uuid.UUID | str, content: str, actor: Actor) -> RulesetDraft:
        """Create or overwrite the draft; a new draft starts from the latest version."""
        ruleset = self.get(ruleset_id)
        draft = self.draft(ruleset.id)
        content_hash = sha256_hex(content)
        if draft is None:
            latest = self.latest_version(ruleset.id)
            draft = RulesetDraft(
                tenant_id=self.tenant_id,
                ruleset_id=ruleset.id,
                content=content,
                content_hash=content_hash,
                base_version=None if latest is None else latest.number,
                updated_by=actor.name,
            )
            self.session.add(draft)
        elif draft.content_hash != content_hash:
            draft.content, draft.content_hash = content, content_hash
            draft.updated_at, draft.updated_by = utcnow(), actor.name
        else:
            return draft
        self.session.flush()
        self._audit(actor, "ruleset.draft.save", ruleset, {"content_hash": content_hash})
        return draft

    def discard_draft(self, ruleset_id: uuid.UUID | str, actor: Actor) -> None:
        """Throw the draft away, or `NotFound` if there is none."""
        ruleset = self.get(ruleset_id)
        draft = self.draft(ruleset.id)
        if draft is None:
            raise NotFound(f"ruleset {ruleset.name!r} has no draft")
        self.session.delete(draft)
        self.session.flush()
        self._audit(actor, "ruleset.draft.discard", ruleset, {})

    # ------------------------------------------------------------------ versions

    def publish(
        self,
        ruleset_id: uuid.UUID | str,
        actor: Actor,
        *,
        effective_from: datetime | None = None,
        note: str | None = None,
    ) -> RulesetVersion:
        """Publish the draft as the next version.

        `Conflict` if there is no draft, if another version was published
        since the draft started (someone else's work would be overwritten),
        or if the draft is identical to the latest version.
        """
        ruleset = self.get(ruleset_id)
        draft = self.draft(ruleset.id)
        if draft is None:
            raise Conflict(f"ruleset {ruleset.name!r} has no draft to publish")
        latest = self.latest_version(ruleset.id)
        latest_number = None if latest is None else latest.number
        if draft.base_version != latest_number:
            raise Conflict(
                f"version {latest_number} of {ruleset.name!r} was published after this draft was started "
                f"from version {draft.base_version}; save the draft again on top of it"
            )
        if latest is not None and latest.content_hash == draft.content_hash:
            raise Conflict(f"the draft is identical to version {latest.number}; nothing to publish")
        version = self._add_version(ruleset, draft.content, actor, effective_from=effective_from, note=note)
        self.session.delete(draft)
        self.session.flush()
        return version

    def rollback(self, ruleset_id: uuid.UUID | str, to_number: int, actor: Actor, *, note: str | None = None) -> RulesetVersion:
        """Publish the content of an older version again, as a new version effective now."""
        ruleset = self.get(ruleset_id)
        source = self.version(ruleset.id, to_number)
        latest = self.latest_version(ruleset.id)
        if latest is not None and latest.content_hash == source.content_hash:
            raise Conflict(f"the latest version already has the content of version {to_number}")
        return self._add_version(ruleset, source.content, actor, note=note, source_version=to_number)

    def versions(self, ruleset_id: uuid.UUID | str) -> list[RulesetVersion]:
        """Every version, oldest first."""
        ruleset = self.get(ruleset_id)
        return list(
            self.session.scalars(
                select(RulesetVersion)
                .where(RulesetVersion.tenant_id == self.tenant_id, RulesetVersion.ruleset_id == ruleset.id)
                .order_by(RulesetVersion.number)
            )
        )

    def version(self, ruleset_id: uuid.UUID | str, number: int) -> RulesetVersion:
        """One version by number, or `NotFound`."""
        ruleset = self.get(ruleset_id)
        version = self.session.scalars(
            select(RulesetVersion).where(
                RulesetVersion.tenant_id == self.tenant_id,
                RulesetVersion.ruleset_id == ruleset.id,
                RulesetVersion.number == number,
            )
        ).one_or_none()
        if version is None:
            raise NotFound(f"ruleset {ruleset.name!r} has no version {number}")
        return version

    def latest_version(self, ruleset_id: uuid.UUID) -> RulesetVersion | None:
        """The highest-numbered version, effective or not."""
        return self.session.scalars(
            select(RulesetVersion)
            .where(RulesetVersion.tenant_id == self.tenant_id, RulesetVersion.ruleset_id == ruleset_id)
            .order_by(RulesetVersion.number.desc())
            .limit(1)
        ).first()

    def active_version(self, ruleset_id: uuid.UUID | str, at: datetime | None = None) -> RulesetVersion | None:
        """The version in force at `at` (now by default): the newest one already effective."""
        ruleset = self.get(ruleset_id)
        return self.session.scalars(
            select(RulesetVersion)
            .where(
                RulesetVersion.tenant_id == self.tenant_id,
                RulesetVersion.ruleset_id == ruleset.id,
                RulesetVersion.effective_from <= (at or utcnow()),
            )
            .order_by(RulesetVersion.number.desc())
            .limit(1)
        ).first()

    # ------------------------------------------------------------------ helpers

    def _add_version(
        self,
        ruleset: Ruleset,
        content: str,
        actor: Actor,
        *,
        effective_from: datetime | None = None,
        note: str | None = None,
        source_version: int | None = None,
    ) -> RulesetVersion:
        number = 1 + (
            self.session.scalar(
                select(func.max(RulesetVersion.number)).where(
                    RulesetVersion.tenant_id == self.tenant_id, RulesetVersion.ruleset_id == ruleset.id
                )
            )
            or 0
        )
        now = utcnow()
        version = RulesetVersion(
            tenant_id=self.tenant_id,
            ruleset_id=ruleset.id,
            number=number,
            content=content,
            content_hash=sha256_hex(content),
            author=actor.name,
            published_at=now,
            effective_from=effective_from or now,
            source_version=source_version,
            note=note,
        )
        self.session.add(version)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"version {number} of {ruleset.name!r} was published concurrently; try again") from None
        action = "ruleset.rollback" if source_version is not None else "ruleset.publish"
        self._audit(
            actor,
            action,
            ruleset,
            {"version": number, "content_hash": version.content_hash, "source_version": source_version},
        )
        return version

    def _audit(self, actor: Actor, action: str, ruleset: Ruleset, detail: dict[str, object]) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "ruleset", ruleset.id, detail)
