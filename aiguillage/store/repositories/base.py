"""The base every tenant-owned repository builds on."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.store import append_only  # noqa: F401 - installs the audit-log session guards
from aiguillage.store.errors import NotFound, StoreError

Row = TypeVar("Row")

#: Largest page a listing returns, whatever is asked.
MAX_PAGE = 500


class TenantScoped:
    """A repository bound to one tenant: it cannot be built without one."""

    #: What the repository's rows are called in messages ("customer", "table").
    noun = "row"

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        if not isinstance(tenant_id, uuid.UUID):
            raise TypeError("a repository needs the tenant's id (uuid.UUID)")
        self.session = session
        self.tenant_id = tenant_id

    def _get(self, model: type[Row], row_id: uuid.UUID | str, *, noun: str | None = None) -> Row:
        """The tenant's row with this id, or `NotFound` (also for another tenant's id)."""
        wanted = _as_uuid(row_id)
        row = None
        if wanted is not None:
            row = self.session.scalars(
                select(model).where(model.tenant_id == self.tenant_id, model.id == wanted)  # type: ignore[attr-defined]
            ).one_or_none()
        if row is None:
            raise NotFound(f"no {noun or self.noun} with id {row_id}")
        return row


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def page_size(limit: int | None, default: int = 100) -> int:
    """A listing's page size, clamped to 1 … MAX_PAGE."""
    return max(1, min(limit or default, MAX_PAGE))


def pick(values: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The values whose names are allowed; any other name is a programming error."""
    unknown = set(values) - allowed
    if unknown:
        raise StoreError(f"unknown field(s): {', '.join(sorted(unknown))}")
    return dict(values)
