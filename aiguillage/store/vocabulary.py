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
    """Where one delivery is: queued, being sent, done, or given up on (dead letter).

    The dispatch worker moves an entry pending → sending → sent or delivered;
    a failed attempt puts it in retrying (due again after a backoff) until the
    retry limit, then dead (the reason stays in `last_error`). A dead entry
    goes back to pending only when someone retries it (API).
    """

    #: Queued, due at `next_attempt_at`.
    PENDING = "pending"
    #: Claimed by a worker until `claimed_until` (its lease); an expired lease makes it due again.
    SENDING = "sending"
    #: Handed to a party that passes it on (mailbox folder, hot folder, print batch).
    SENT = "sent"
    #: The counterpart acknowledged it (SMTP 250, access point 2xx, file on the partner's server).
    DELIVERED = "delivered"
    FAILED = "failed"
    #: The last attempt failed; due again at `next_attempt_at`.
    RETRYING = "retrying"
    DEAD = "dead"


class AttemptOutcome(StrEnum):
    """How one try at sending ended."""

    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    #: Under way: a worker claimed the entry and has not reported yet.
    STARTED = "started"
    #: The worker's lease expired before it reported (it crashed or was killed); outcome unknown.
    ABANDONED = "abandoned"
