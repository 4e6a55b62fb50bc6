"""Run one event through a durable_rules session that lives in the caller's hands, not in memory.

The engine keeps sessions in process memory and fails past 1,024 live ones
per ruleset, so every call here restores the saved session, posts, takes a
snapshot and deletes the session again (`delete_state`), whatever happens.
A process-wide lock serialises this: the engine's sessions are shared
state, and the rule actions report their effects through one recorder.

Rule actions do nothing themselves: they change the session's state and
`emit` effects (schedule a timer, queue the routes, hold an invoice), which
the store side applies in the same database transaction. That keeps the
rules free of I/O and makes "nothing fired" observable: an event no
transition took is refused (`EventNotAllowed`) instead of being parked.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from durable import lang
from durable.engine import MessageNotHandledException

_LOCK = threading.RLock()
_registered = False


@dataclass(frozen=True)
class Effect:
    """Something a rule asked for; applied by `workflows.effects` in the caller's transaction."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class EventNotAllowed(Exception):
    """The session's current state takes no such event (approve a rejected invoice, …)."""

    def __init__(self, chart: str, status: str | None, action: str) -> None:
        self.chart, self.status, self.action = chart, status, action
        where = f"in state {status!r}" if status else "before it started"
        super().__init__(f"{action!r} is not allowed for the {chart} workflow {where}")


class _Recorder:
    """Collects what rule actions emit while recording is on (off while a session is restored)."""

    def __init__(self) -> None:
        self.on = False
        self.effects: list[Effect] = []


_recorder = _Recorder()


def emit(kind: str, **data: Any) -> None:
    """Called from rule actions: ask for an effect (ignored while a session is being restored)."""
    if _recorder.on:
        _recorder.effects.append(Effect(kind, copy.deepcopy(data)))


def enter(c: Any, status: str) -> None:
    """Called from every transition's action: the new state, recorded in the session and as an effect."""
    c.s.status = status
    emit("status", status=status)


def ensure_registered() -> None:
    """Register the fixed set of workflow rulesets in this process, once (never per customer)."""
    global _registered
    with _LOCK:
        if _registered:
            return
        from aiguillage.workflows import charts  # noqa: F401 - defining the charts queues them for registration

        lang.get_host()
        _registered = True


@dataclass(frozen=True)
class Outcome:
    """The session after the event(s): its snapshot to save, and the effects to apply."""

    snapshot: dict[str, Any]
    effects: list[Effect]

    @property
    def status(self) -> str:
        return str(self.snapshot["state"].get("status") or "new")


def run(
    ruleset: str,
    sid: str,
    snapshot: dict[str, Any] | None,
    messages: Iterable[dict[str, Any]],
    *,
    initial: dict[str, Any] | None = None,
    as_facts: bool = False,
    keep_fact: Callable[[dict[str, Any]], bool] | None = None,
) -> Outcome:
    """Restore (or create) session `sid`, post the messages in turn, snapshot it, delete it.

    Every message must make some rule fire, else `EventNotAllowed` and
    nothing is returned to save. A `follow` effect posts its event next, in
    the same session (how "approved" moves on to "released"). `as_facts`
    asserts the messages as facts (correlation) instead of posting events.
    """
    ensure_registered()
    host = lang.get_host()
    with _LOCK:
        try:
            _restore(host, ruleset, sid, snapshot, initial or {})
            effects: list[Effect] = []
            queue = [dict(m, sid=sid) for m in messages]
            while queue:
                message = queue.pop(0)
                fired = _deliver(host, ruleset, message, as_facts)
                if not any(e.kind in ("status", "observed") for e in fired):
                    state = host.get_state(ruleset, sid)
                    raise EventNotAllowed(ruleset.removeprefix("aig_"), state.get("status"), str(message.get("action")))
                for effect in fired:
                    if effect.kind == "follow":
                        queue.append(dict(effect.data["event"], sid=sid))
                    else:
                        effects.append(effect)
            return Outcome(_snapshot(host, ruleset, sid, keep_fact), effects)
        finally:
            _recorder.on = False
            _recorder.effects = []
            _forget(host, ruleset, sid)


def _deliver(host: Any, ruleset: str, message: dict[str, Any], as_facts: bool) -> list[Effect]:
    _recorder.effects = []
    _recorder.on = True
    try:
        if as_facts:
            host.assert_fact(ruleset, message)
        else:
            host.post(ruleset, message)
    except MessageNotHandledException:
        return []
    finally:
        _recorder.on = False
    return list(_recorder.effects)


def _restore(host: Any, ruleset: str, sid: str, snapshot: dict[str, Any] | None, initial: dict[str, Any]) -> None:
    """Put the saved session back into the engine, with recording off (nothing re-applies)."""
    _recorder.on = False
    _forget(host, ruleset, sid)
    if snapshot is None:
        host.update_state(ruleset, dict(initial, sid=sid))
        return
    state = {k: v for k, v in snapshot["state"].items() if k != "$s"}
    state["sid"] = sid
    host.update_state(ruleset, state)
    for fact in snapshot.get("facts", []):
        with contextlib.suppress(MessageNotHandledException):
            host.assert_fact(ruleset, dict(fact, sid=sid))
    for pending in snapshot.get("events", []):
        with contextlib.suppress(MessageNotHandledException):
            host.post(ruleset, dict(pending, sid=sid))
    # Re-asserted facts may have re-run actions that touch the state: the saved state wins.
    host.update_state(ruleset, state)


def _snapshot(host: Any, ruleset: str, sid: str, keep_fact: Callable[[dict[str, Any]], bool] | None) -> dict[str, Any]:
    state = {k: v for k, v in host.get_state(ruleset, sid).items() if k != "$s"}
    facts = [f for f in host.get_facts(ruleset, sid) if keep_fact is None or keep_fact(f)]
    return {"state": state, "facts": facts, "events": host.get_pending_events(ruleset, sid)}


def _forget(host: Any, ruleset: str, sid: str) -> None:
    """`delete_state`: the engine keeps nothing between events (its session limit is 1,024)."""
    with contextlib.suppress(Exception):  # deleting a session that does not exist is not an error here
        host.delete_state(ruleset, sid)


def live_sessions(ruleset: str, sids: Iterable[str]) -> int:
    """How many of these sessions the engine still holds (tests: should be none)."""
    ensure_registered()
    host = lang.get_host()
    count = 0
    with _LOCK:
        for sid in sids:
            try:
                state = host.get_state(ruleset, sid)
            except Exception:  # noqa: BLE001 - the engine raises for an unknown session
                continue
            if state:
                count += 1
    return count
