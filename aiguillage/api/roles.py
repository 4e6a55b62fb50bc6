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
#: See deliveries (status, attempts, dead letters): everyone who reads invoices, but not customers.
READ_DELIVERIES = frozenset({Role.ERP, Role.ANALYST, Role.APPROVER, Role.ADMIN})
#: Retry a dead-lettered delivery: the tenant's admins and its ERP (which may fix a customer's address first).
RETRY_DELIVERIES = frozenset({Role.ERP, Role.ADMIN})
#: Dry-run evaluation: what may submit, and analysts checking how a ruleset treats a real invoice.
EVALUATE_INVOICES = frozenset({Role.ERP, Role.ANALYST, Role.ADMIN})
#: Approve or reject an invoice held for approval (issue 8). The ERP does not approve: a person must.
DECIDE_APPROVALS = frozenset({Role.APPROVER, Role.ADMIN})
#: Raise (or reopen) a query on an invoice: the customer through the portal, the ERP on its behalf, admins.
RAISE_QUERIES = frozenset({Role.CUSTOMER, Role.ERP, Role.ADMIN})
#: Answer and resolve queries: the accounts-receivable side (analysts, the ERP's AR module, admins).
HANDLE_QUERIES = frozenset({Role.ANALYST, Role.ERP, Role.ADMIN})
#: See the approval queue and the open queries.
READ_WORKFLOWS = frozenset({Role.APPROVER, Role.ANALYST, Role.ERP, Role.ADMIN})
#: Record that an invoice was paid (stops its reminders): the ERP, which books payments, and admins.
RECORD_PAYMENTS = frozenset({Role.ERP, Role.ADMIN})
#: Read the event feed (issue 19): the ERP that follows its invoices, and admins.
READ_EVENTS = frozenset({Role.ERP, Role.ADMIN})
#: Manage webhook subscriptions and replay events: the ERP (it owns the receiving end) and admins.
MANAGE_WEBHOOKS = frozenset({Role.ERP, Role.ADMIN})
