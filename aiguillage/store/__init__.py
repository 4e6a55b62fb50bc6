"""Persistence: SQLAlchemy models, tenant-scoped repositories, Alembic migrations.

The store is what makes "an invoice that entered is never lost" and "one
tenant never sees another's data" true, so the rules are structural:

- every table a tenant owns carries `tenant_id`, and child rows reference
  their parent through `(tenant_id, id)` so a row can never hang under another
  tenant's parent;
- every repository is built with a tenant and scopes every query by it;
- money stays exact (the model JSON keeps amounts as strings, `Money` columns
  never pass through float);
- the audit log is append-only in the repository, in the ORM session and in
  the database (triggers).

Import `aiguillage.store.models` for the tables, `aiguillage.store.database`
to connect, `aiguillage.store.migrate` to upgrade, and the modules under
`aiguillage.store.repositories` to read and write.
"""
