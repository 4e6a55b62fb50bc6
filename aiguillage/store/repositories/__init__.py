"""Repositories: one small module per aggregate.

Everything a tenant owns is reached through a repository built with that
tenant (`TenantScoped`), and every query it runs filters on the tenant, so
another tenant's id simply finds nothing (`NotFound`). Every write appends
its audit entry in the same transaction. Callers own the transaction: a
repository flushes, never commits.

The two deliberate exceptions are system-level: `tenants.Tenants` (tenants
are not owned by a tenant) and `keys.ApiKeys.resolve` (a key is how a
request finds its tenant).
"""
