"""The closed vocabularies the store speaks: roles and lifecycle statuses.

They are `StrEnum`s so the database keeps plain, readable strings and the
API, CLI and later the worker share one spelling of each.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an API key may do; each endpoint names the roles it admits."""

    #: The supplier's ERP: submits invoices, syncs customers and order books.
    ERP = "erp"
    #: A business analyst: writes, tests and publishes rulesets; edits reference data.
    ANALYST = "analyst"
    #: Accounts receivable: approves invoices held for approval.
    APPROVER = "approver"
    #: Runs the tenant: everything, including keys.
    ADMIN = "admin"
    #: The supplier's customer, through the portal: sees its own invoices only.
    CUSTOMER = "customer"


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life; `received` is written before anything else happens."""

    RECEIVED = "received"
    EVALUATED = "evaluated"
    HELD = "held"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"


class OutboxStatus(StrEnum):
    """Where one delivery is: queued, being sent, done, or given up on (dead letter)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


class AttemptOutcome(StrEnum):
    """How one try at sending ended."""

    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
