"""The audit log: append and read, nothing else (see `store.append_only`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from aiguillage.store.actor import Actor
from aiguillage.store.models import AuditEntry
from aiguillage.store.repositories.base import TenantScoped, page_size


class AuditLog(TenantScoped):
    """A tenant's audit log."""

    noun = "audit entry"

    def append(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: object | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Record that `actor` did `action` to the target; flushed so it gets its id now."""
        entry = AuditEntry(
            tenant_id=self.tenant_id,
            actor=actor.name,
            key_id=actor.key_id,
            role=actor.role,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            detail=detail or {},
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def entries(
        self,
        *,
        target_type: str | None = None,
        target_id: object | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Entries, newest first, optionally for one target; `before_id` pages backwards."""
        query = select(AuditEntry).where(AuditEntry.tenant_id == self.tenant_id)
        if target_type is not None:
            query = query.where(AuditEntry.target_type == target_type)
        if target_id is not None:
            query = query.where(AuditEntry.target_id == str(target_id))
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        query = query.order_by(AuditEntry.id.desc()).limit(page_size(limit))
        return list(self.session.scalars(query))
