"""Each customer's allocation policy, read from the `allocation with (...)` line of its published ruleset.

The ruleset that names the customer (its `customer_code`) and is in force
decides; a ruleset without the line, or a customer without a ruleset, gets
the default policy (no tolerance, oldest first, no write-off). Parsed once
per ruleset content (cached by content hash).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.payments.policy import (
    DEFAULT_POLICY,
    AllocationPolicy,
    PolicyError,
    policy_from_params,
)
from aiguillage.store.models import Ruleset
from aiguillage.store.repositories.rulesets import Rulesets


@functools.lru_cache(maxsize=512)
def policy_in(content: str) -> AllocationPolicy:
    """The policy a ruleset's text sets (default when it sets none or cannot be read)."""
    from aiguillage.dsl.allocation_params import allocation_settings
    from aiguillage.dsl.parser import parse_text

    try:
        params = allocation_settings(parse_text(content, "<stored ruleset>"))
    except Exception:  # a published ruleset was checked; an unreadable one must not stop the import
        return DEFAULT_POLICY
    if params is None:
        return DEFAULT_POLICY
    try:
        return policy_from_params(params)
    except PolicyError:
        return DEFAULT_POLICY


def policies(session: Session, tenant_id: uuid.UUID) -> Callable[[str | None], AllocationPolicy]:
    """customer code → its allocation policy, from the version of each customer's ruleset in force now."""
    rulesets = Rulesets(session, tenant_id)
    found: dict[str, AllocationPolicy] = {}
    for ruleset in session.scalars(select(Ruleset).where(Ruleset.tenant_id == tenant_id,
                                                         Ruleset.customer_code.is_not(None))):
        version = rulesets.active_version(ruleset.id)
        if version is not None and "allocation" in version.content:
            found[ruleset.customer_code or ""] = policy_in(version.content)
    return lambda customer: found.get(customer or "", DEFAULT_POLICY)
