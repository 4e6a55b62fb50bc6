"""The one shape of event every workflow rule sees.

durable_rules hangs on a test of a missing attribute and `m.x == None`
never matches a missing one (DESIGN.md), so every event posted carries
every attribute any rule tests, with a neutral value when unused.
"""

from __future__ import annotations

from typing import Any

#: Every attribute a workflow event has, with its neutral value.
EVENT_FIELDS: dict[str, Any] = {
    "action": "",
    "actor": "",
    "role": "",
    "to_role": "",
    "reason": "",
    "credit_note": "",
    "after_s": 0,
    "every_s": 0,
    "max_count": 0,
    "final": 0,
    "at": 0,
}


class UnknownEventField(ValueError):
    """An event named an attribute no rule knows: a programming error, said early."""


def event(action: str, **values: Any) -> dict[str, Any]:
    """A complete event: `action`, the given values, every other attribute neutral."""
    unknown = set(values) - set(EVENT_FIELDS)
    if unknown:
        raise UnknownEventField(f"unknown event attribute(s): {', '.join(sorted(unknown))}")
    complete = dict(EVENT_FIELDS)
    complete.update(values)
    complete["action"] = action
    for name, neutral in EVENT_FIELDS.items():
        if complete[name] is None:
            complete[name] = neutral
    return complete
