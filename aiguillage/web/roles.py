"""What each person's role may do in the console: the API's policy (`api.roles`), spelled for people.

People have the roles admin, analyst, approver and ar (accounts receivable).
For the API's role sets, an AR person counts as the ERP's AR side
(it answers queries, retries dead letters, reads deliveries) but, being a
person, may not approve unless also an approver. `tests/test_web_roles.py`
checks this table against `api.roles` so the two cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    READ_INVOICES = "read_invoices"
    READ_DELIVERIES = "read_deliveries"
    RETRY_DELIVERIES = "retry_deliveries"
    DECIDE_APPROVALS = "decide_approvals"
    HANDLE_QUERIES = "handle_queries"
    READ_WORKFLOWS = "read_workflows"
    READ_MASTER_DATA = "read_master_data"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    #: Allocate payments to invoices and reverse allocations (the API's `POST /v1/payments/{id}/allocations`).
    RECORD_PAYMENTS = "record_payments"


#: The API role whose admissions a person's role takes (see the module's docstring).
API_ROLE = {"admin": "admin", "analyst": "analyst", "approver": "approver", "ar": "erp"}

_ALL = frozenset(Permission)
POLICY: dict[str, frozenset[Permission]] = {
    "admin": _ALL,
    "analyst": frozenset({Permission.READ_INVOICES, Permission.READ_DELIVERIES, Permission.HANDLE_QUERIES,
                          Permission.READ_WORKFLOWS, Permission.READ_MASTER_DATA}),
    "approver": frozenset({Permission.READ_INVOICES, Permission.READ_DELIVERIES, Permission.DECIDE_APPROVALS,
                           Permission.READ_WORKFLOWS, Permission.READ_MASTER_DATA}),
    "ar": frozenset({Permission.READ_INVOICES, Permission.READ_DELIVERIES, Permission.RETRY_DELIVERIES,
                     Permission.HANDLE_QUERIES, Permission.READ_WORKFLOWS, Permission.READ_MASTER_DATA,
                     Permission.RECORD_PAYMENTS}),
}


def allowed(role: str, permission: Permission) -> bool:
    return permission in POLICY.get(role, frozenset())
