"""Workflow settings written in a ruleset, read from the decision it produced.

An approval carries its own settings, checked by `aiguillage check`:

    when totals.amount_with_vat > 10000 EUR
         -> approval by "finance" with (escalate_after = "48h", escalate_to = "cfo"),
            then peppol with (remind_every = "7d", remind_max = 3)

The approval holds' parameters are read first (the first hold that names
one wins); then every route's parameters, which remain accepted for all
settings (rulesets written before approvals took parameters), the first
route that names one winning. They become data in the workflow's starting
event, so one registered statechart serves every customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiguillage.store.errors import Invalid

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

#: Route parameters this module reads.
PARAMS = ("escalate_after", "escalate_to", "remind_every", "remind_max", "query_sla", "duplicate_window")


def seconds(value: Any, name: str) -> int:
    """A duration as seconds: "48h", "7d", "30m", "90s", "2w", or a bare number of hours."""
    if isinstance(value, bool):
        raise Invalid(f"{name}: expected a duration such as \"48h\", got {value!r}")
    if isinstance(value, int | float):
        return int(value * 3600)
    match = _DURATION.match(str(value))
    if not match:
        raise Invalid(f"{name}: expected a duration such as \"48h\" or \"7d\", got {value!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "h"]


@dataclass(frozen=True)
class Policy:
    """What one decision says about its workflows; zero or empty means "not asked for"."""

    escalate_after_s: int = 0
    escalate_to: str = ""
    remind_every_s: int = 0
    remind_max: int = 0
    query_sla_s: int = 0
    duplicate_window_s: int = 0


#: Used when a ruleset says nothing: no escalation, no reminders, a 3-day query SLA, a 30-day duplicate window.
DEFAULTS = Policy(query_sla_s=3 * 86400, duplicate_window_s=30 * 86400)


def policy_from_decision(result: dict[str, Any], defaults: Policy = DEFAULTS) -> Policy:
    """The policy a stored decision (`DecisionRecord.result`) carries: approval holds' parameters, then routes'."""
    found: dict[str, Any] = {}
    approvals = [h for h in result.get("holds") or [] if h.get("kind") == "approval"]
    for carrier in approvals + list(result.get("routes") or []):
        for name, value in (carrier.get("params") or {}).items():
            if name in PARAMS and name not in found:
                found[name] = value
    return Policy(
        escalate_after_s=seconds(found["escalate_after"], "escalate_after") if "escalate_after" in found
        else defaults.escalate_after_s,
        escalate_to=str(found.get("escalate_to") or defaults.escalate_to),
        remind_every_s=seconds(found["remind_every"], "remind_every") if "remind_every" in found
        else defaults.remind_every_s,
        remind_max=int(found["remind_max"]) if "remind_max" in found else defaults.remind_max,
        query_sla_s=seconds(found["query_sla"], "query_sla") if "query_sla" in found else defaults.query_sla_s,
        duplicate_window_s=seconds(found["duplicate_window"], "duplicate_window") if "duplicate_window" in found
        else defaults.duplicate_window_s,
    )
