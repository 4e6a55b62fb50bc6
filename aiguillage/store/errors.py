"""What the repositories raise: each error says what was wrong, in words a client can act on.

The API maps them onto HTTP statuses (`NotFound` → 404, `Conflict` → 409,
`Invalid` → 400, `AppendOnlyViolation` → 500 as it is always a bug).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's own errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StoreError):
    """No such row for this tenant (another tenant's row is, by design, indistinguishable)."""


class Conflict(StoreError):
    """The write clashes with what is stored: a taken name, a reused key with other content."""


class Invalid(StoreError):
    """The data cannot be stored as given; `pointer` names the offending value (RFC 6901)."""

    def __init__(self, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.pointer = pointer


class AppendOnlyViolation(StoreError):
    """Something tried to change or delete an audit entry."""


class SchemaNotCurrent(StoreError):
    """The database schema is not at the revision this code needs."""
