"""People for a demo tenant: an admin for the console and one user per customer for the portal, with sign-in links.

`aiguillage demo --serve` prints the links; the browser tests sign in with them.
Running it again reuses the users and issues fresh links (each works once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from aiguillage.store.actor import CLI
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.tenants import Tenants
from aiguillage.store.repositories.users import WebUsers


@dataclass(frozen=True)
class DemoLinks:
    """The console admin's link and one portal link per customer code."""

    console: str
    portal: dict[str, str]


def _slug(code: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-") or "customer"


def demo_links(engine: Engine, tenant_name: str, base_url: str) -> DemoLinks:
    """Create (or reuse) the demo's web users and issue each a fresh one-time sign-in link."""
    base = base_url.rstrip("/")
    with transaction(session_factory(engine)) as session:
        tenant = Tenants(session).by_name(tenant_name)
        users = WebUsers(session, tenant.id)
        admin_email = f"admin@{_slug(tenant_name)}.example"
        admin = users.find_email(admin_email) or users.create(admin_email, "Demo admin", "admin", CLI)
        console = f"{base}/console/link/{users.issue_link(admin, CLI)}"
        portal: dict[str, str] = {}
        for customer in Customers(session, tenant.id).page(limit=500):
            email = f"ap@{_slug(customer.code)}.example"
            user = users.find_email(email) or users.create(email, f"{customer.name} (accounts payable)", "customer",
                                                           CLI, customer_code=customer.code)
            portal[customer.code] = f"{base}/portal/link/{users.issue_link(user, CLI)}"
        return DemoLinks(console, portal)
