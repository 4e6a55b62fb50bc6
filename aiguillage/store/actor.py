"""Who is acting: written into every audit entry and every "created by" column."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person or machine acting on a tenant's data.

    `name` is what people read in the audit log ("key:aig_AbCd1234", "cli",
    "worker"); `key_id` and `role` are set when the actor is an API key.
    """

    name: str
    key_id: uuid.UUID | None = None
    role: str | None = None


#: The operator at the command line (tenants and keys are created there).
CLI = Actor("cli")

#: The dispatch worker (issue 7) acting on its own.
WORKER = Actor("worker")
