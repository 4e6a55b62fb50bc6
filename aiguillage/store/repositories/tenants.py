"""Tenants: created by an operator, looked up by name; never deleted (their audit log stays)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.models import Tenant
from aiguillage.store.repositories.audit import AuditLog

#: Tenant names are typed on command lines: letters, digits, dot, dash, underscore.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Tenants:
    """System-level: tenants are the one thing not owned by a tenant."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str, actor: Actor) -> Tenant:
        """A new tenant; its first audit entry records who created it."""
        if not NAME_PATTERN.fullmatch(name):
            raise Invalid(
                f"invalid tenant name {name!r}: use 1 to 64 letters, digits, '.', '-' or '_', "
                "starting with a letter or digit"
            )
        if self.find(name) is not None:
            raise Conflict(f"tenant {name!r} already exists")
        tenant = Tenant(name=name)
        try:
            with self.session.begin_nested():
                self.session.add(tenant)
        except IntegrityError:
            raise Conflict(f"tenant {name!r} already exists") from None
        AuditLog(self.session, tenant.id).append(actor, "tenant.create", "tenant", tenant.id, {"name": name})
        return tenant

    def find(self, name: str) -> Tenant | None:
        """The tenant of that name, if any."""
        return self.session.scalars(select(Tenant).where(Tenant.name == name)).one_or_none()

    def by_name(self, name: str) -> Tenant:
        """The tenant of that name, or `NotFound`."""
        tenant = self.find(name)
        if tenant is None:
            raise NotFound(f"no tenant named {name!r}")
        return tenant

    def get(self, tenant_id: uuid.UUID) -> Tenant:
        """The tenant with that id, or `NotFound`."""
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant with id {tenant_id}")
        return tenant

    def all(self) -> list[Tenant]:
        """Every tenant, by name."""
        return list(self.session.scalars(select(Tenant).order_by(Tenant.name)))
