"""API keys: issue (shown once), resolve a presented key, list, revoke."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Invalid, NotFound
from aiguillage.store.keys import generate_key, hash_key, looks_like_key
from aiguillage.store.models import ApiKey, Tenant
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped
from aiguillage.store.vocabulary import Role


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the stored record and the plaintext, which exists only here."""

    record: ApiKey
    plaintext: str


@dataclass(frozen=True)
class Principal:
    """Who a presented key says the caller is: tenant, role, and the key itself."""

    tenant_id: uuid.UUID
    tenant_name: str
    key_id: uuid.UUID
    key_prefix: str
    role: Role
    #: For role "customer": the customer whose data the key may see.
    customer_code: str | None = None

    @property
    def actor(self) -> Actor:
        """The principal as it appears in the audit log."""
        return Actor(f"key:{self.key_prefix}", key_id=self.key_id, role=self.role.value)


class ApiKeys(TenantScoped):
    """A tenant's keys."""

    noun = "key"

    def issue(
        self,
        role: Role | str,
        actor: Actor,
        *,
        label: str | None = None,
        customer_code: str | None = None,
    ) -> IssuedKey:
        """A new key for the role; the plaintext is returned once and never stored."""
        try:
            role = Role(role)
        except ValueError:
            raise Invalid(
                f"unknown role {role!r}: expected one of {', '.join(r.value for r in Role)}"
            ) from None
        if role is Role.CUSTOMER and not customer_code:
            raise Invalid("a key with role 'customer' needs the customer's code")
        if role is not Role.CUSTOMER and customer_code:
            raise Invalid("only a key with role 'customer' is bound to a customer")
        material = generate_key()
        record = ApiKey(
            tenant_id=self.tenant_id,
            role=role.value,
            prefix=material.prefix,
            secret_hash=material.secret_hash,
            label=label,
            customer_code=customer_code,
            created_by=actor.name,
        )
        self.session.add(record)
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(
            actor, "key.create", "key", record.id, {"prefix": record.prefix, "role": role.value, "label": label}
        )
        return IssuedKey(record, material.plaintext)

    def all(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """The tenant's keys, oldest first."""
        query = select(ApiKey).where(ApiKey.tenant_id == self.tenant_id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return list(self.session.scalars(query.order_by(ApiKey.created_at, ApiKey.prefix)))

    def by_prefix(self, prefix: str) -> ApiKey:
        """The tenant's key with that prefix, or `NotFound`."""
        key = self.session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == self.tenant_id, ApiKey.prefix == prefix)
        ).first()
        if key is None:
            raise NotFound(f"no key with prefix {prefix!r}")
        return key

    def revoke(self, key_id: uuid.UUID, actor: Actor) -> ApiKey:
        """Stop the key from working at once; the record stays for the audit log."""
        key = self._get(ApiKey, key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            self.session.flush()
            AuditLog(self.session, self.tenant_id).append(
                actor, "key.revoke", "key", key.id, {"prefix": key.prefix}
            )
        return key


#: Built once: the principal's columns for a key hash, unless revoked (one look-up in the unique hash index).
#: Columns only, through Core: this runs on every API request, and building ORM entities cost more than the query.
#: Also the `caller` of `api.resolution`'s one statement per evaluation.
PRINCIPAL_BY_HASH = (
    select(ApiKey.tenant_id, Tenant.name, ApiKey.id, ApiKey.prefix, ApiKey.role, ApiKey.customer_code)
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    .where(ApiKey.secret_hash == bindparam("secret_hash"), ApiKey.revoked_at.is_(None))
)


def resolve(session: Session, presented: str) -> Principal | None:
    """The principal a presented key stands for; None for an unknown, malformed or revoked key.

    System-level on purpose: the key is what tells us the tenant. Read afresh
    on every request (no cache), so a revocation holds from the next request on.
    """
    if not looks_like_key(presented):
        return None
    row = session.connection().execute(PRINCIPAL_BY_HASH, {"secret_hash": hash_key(presented)}).one_or_none()
    return None if row is None else principal_of(*row)


def principal_of(
    tenant_id: uuid.UUID, tenant_name: str, key_id: uuid.UUID, prefix: str, role: str, customer_code: str | None
) -> Principal:
    """The principal for the columns of `PRINCIPAL_BY_HASH`, in its order."""
    return Principal(
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        key_id=key_id,
        key_prefix=prefix,
        role=Role(role),
        customer_code=customer_code,
    )
