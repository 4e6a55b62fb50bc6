"""Customers: the supplier's customers and how each wants its invoices."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, NotFound
from aiguillage.store.hashing import canonical_json
from aiguillage.store.models import Customer
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size, pick

#: The columns a caller may set; everything else (id, tenant, times) is the store's.
FIELDS = frozenset(
    {
        "code",
        "name",
        "language",
        "vat_identifier",
        "legal_identifier",
        "email",
        "peppol_participant_id",
        "edi_partner_id",
        "edi_transport",
        "fax_number",
        "postal_address",
        "preferred_formats",
    }
)


class Customers(TenantScoped):
    """A tenant's customers."""

    noun = "customer"

    def create(self, values: dict[str, Any], actor: Actor) -> Customer:
        """A new customer; `Conflict` if the code is taken."""
        values = pick(values, FIELDS)
        customer = Customer(tenant_id=self.tenant_id, **values)
        self._flush_unique(customer, values.get("code"))
        self._audit(actor, "customer.create", customer, {"code": customer.code})
        return customer

    def get(self, customer_id: uuid.UUID | str) -> Customer:
        """The customer with that id, or `NotFound`."""
        return self._get(Customer, customer_id)

    def find_code(self, code: str) -> Customer | None:
        """The customer with that code, if any."""
        return self.session.scalars(
            select(Customer).where(Customer.tenant_id == self.tenant_id, Customer.code == code)
        ).one_or_none()

    def by_code(self, code: str) -> Customer:
        """The customer with that code, or `NotFound`."""
        customer = self.find_code(code)
        if customer is None:
            raise NotFound(f"no customer with code {code!r}")
        return customer

    def page(self, *, code: str | None = None, after: str | None = None, limit: int | None = None) -> list[Customer]:
        """Customers by code; `after` (a code) continues from the previous page."""
        query = select(Customer).where(Customer.tenant_id == self.tenant_id)
        if code is not None:
            query = query.where(Customer.code == code)
        if after is not None:
            query = query.where(Customer.code > after)
        return list(self.session.scalars(query.order_by(Customer.code).limit(page_size(limit))))

    def update(self, customer_id: uuid.UUID | str, changes: dict[str, Any], actor: Actor) -> Customer:
        """Change the given fields only; the audit entry names what changed."""
        customer = self.get(customer_id)
        changes = pick(changes, FIELDS)
        changed = sorted(
            name for name, value in changes.items() if canonical_json(getattr(customer, name)) != canonical_json(value)
        )
        for name in changed:
            setattr(customer, name, changes[name])
        if changed:
            customer.updated_at = utcnow()
            self._flush_unique(customer, changes.get("code"))
            self._audit(actor, "customer.update", customer, {"fields": changed})
        return customer

    def delete(self, customer_id: uuid.UUID | str, actor: Actor) -> None:
        """Remove the customer; its invoices keep the code they were routed with."""
        customer = self.get(customer_id)
        self.session.delete(customer)
        self.session.flush()
        self._audit(actor, "customer.delete", customer, {"code": customer.code})

    def _flush_unique(self, customer: Customer, code: str | None) -> None:
        """Write the customer, turning a taken code into `Conflict`.

        The look-up catches the common case with the transaction intact; the
        unique constraint catches a concurrent writer (the caller then rolls back).
        """
        if code is not None:
            with self.session.no_autoflush:
                existing = self.find_code(code)
            if existing is not None and existing is not customer:
                raise Conflict(f"a customer with code {code!r} already exists")
        self.session.add(customer)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"a customer with code {code!r} already exists") from None

    def _audit(self, actor: Actor, action: str, customer: Customer, detail: dict[str, Any]) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "customer", customer.id, detail)
