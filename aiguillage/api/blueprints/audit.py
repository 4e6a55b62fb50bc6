"""`GET /v1/audit`: the tenant's audit log, newest first (admins only)."""

from __future__ import annotations

from flask import Blueprint

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.roles import READ_AUDIT
from aiguillage.api.schemas.audit import AuditEntry, AuditPage, AuditQuery
from aiguillage.api.schemas.common import one_page
from aiguillage.store.repositories.audit import AuditLog

blueprint = Blueprint("audit", __name__, url_prefix="/v1/audit")


@blueprint.get("")
@endpoint(summary="Read the audit log", roles=READ_AUDIT, query=AuditQuery, responses={200: AuditPage})
def list_entries(query: AuditQuery) -> AuditPage:
    log = AuditLog(database.session(), current_principal().tenant_id)
    entries = log.entries(
        target_type=query.target_type, target_id=query.target_id, before_id=query.before, limit=query.limit + 1
    )
    entries, last = one_page(entries, query.limit)
    return AuditPage(items=[AuditEntry.model_validate(e) for e in entries], next=last.id if last is not None else None)
