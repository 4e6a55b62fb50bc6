"""Which roles each kind of endpoint admits: the one place the access policy is written.

The ERP syncs master data (customers, order books) as well as submitting
invoices; analysts own rulesets and reference data; approvers read what
they approve; admins can do everything. Deleting is for people, not
machines. Customer keys see only their own invoices (the portal, later).
"""

from __future__ import annotations

from aiguillage.store.vocabulary import Role

#: Read the tenant's master data (customers, tables).
READ_MASTER_DATA = frozenset({Role.ERP, Role.ANALYST, Role.APPROVER, Role.ADMIN})
#: Create or change master data.
WRITE_MASTER_DATA = frozenset({Role.ERP, Role.ANALYST, Role.ADMIN})
#: Delete master data.
DELETE_MASTER_DATA = frozenset({Role.ANALYST, Role.ADMIN})
#: Read the audit log.
READ_AUDIT = frozenset({Role.ADMIN})

# For the endpoints that need the engine (issue 6, next step):
#: Evaluate (dry run) and submit invoices.
SUBMIT_INVOICES = frozenset({Role.ERP, Role.ADMIN})
#: Read invoices, their decisions and deliveries.
READ_INVOICES = frozenset({Role.ERP, Role.ANALYST, Role.APPROVER, Role.ADMIN, Role.CUSTOMER})
#: Write, check, test, publish and roll back rulesets.
WRITE_RULESETS = frozenset({Role.ANALYST, Role.ADMIN})
#: Read rulesets and their versions.
READ_RULESETS = frozenset({Role.ANALYST, Role.APPROVER, Role.ADMIN, Role.ERP})
