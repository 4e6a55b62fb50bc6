"""Audit-log bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aiguillage.api.schemas.common import Request


class AuditQuery(Request):
    """Filter the audit log; page backwards with `before`."""

    target_type: str | None = Field(None, max_length=32, description="customer, table, ruleset, invoice, key, tenant")
    target_id: str | None = Field(None, max_length=64)
    before: int | None = Field(None, ge=1, le=2**63 - 1, description="Continue with entries older than this id (the previous page's `next`)")
    limit: int = Field(100, ge=1, le=500)


class AuditEntry(BaseModel):
    """One thing someone did."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """Entries, newest first."""

    items: list[AuditEntry]
    next: int | None = Field(description="Pass as `before` for older entries; null when there are none")
